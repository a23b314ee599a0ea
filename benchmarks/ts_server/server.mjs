// Benchmark baseline for mcpsse: the official MCP TypeScript SDK serving the same
// surface the benchmarks use on mcpsse's everything_server.
//
//   node server.mjs [--host 127.0.0.1] [--port 3000] [--sse] [--stateless]
//
// Routes:
//   POST/GET/DELETE /mcp   Streamable HTTP, one McpServer + transport per session
//                          (JSON response mode unless --sse; --stateless: a fresh server
//                          and transport per request, no session id)
//   GET /sse, POST /messages?sessionId=...   legacy HTTP+SSE (2024-11-05)
//   GET /health            plain 200, for readiness checks
// Tools:
//   test_simple_text          {}      -> one text content item
//   test_trigger_tool_change  {}      -> notifications/tools/list_changed on every session's
//                                        GET stream (as everything_server's broadcast does)
//   emit_events               {count} -> count notifications/message on this session's GET stream
// Resumability: an in-memory event store, so a GET stream can be resumed with
// Last-Event-ID (used by `mcpsse_loadgen replay`).
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import * as z from 'zod';

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
};
const host = opt('--host', '127.0.0.1');
const port = Number(opt('--port', '3000'));
const jsonResponse = !args.includes('--sse');
const stateless = args.includes('--stateless');

const SIMPLE_TEXT = 'This is a simple text response for testing.';

// Session id -> { server, transport }
const sessions = new Map();
// Legacy session id -> { server, transport }
const legacySessions = new Map();

// In-memory event store: one array per stream; ids are "<stream>|<index>".
class MemoryEventStore {
  constructor(limit = 200000) {
    this.streams = new Map();
    this.limit = limit;
  }
  async storeEvent(streamId, message) {
    let list = this.streams.get(streamId);
    if (!list) {
      list = { base: 0, events: [] };
      this.streams.set(streamId, list);
    }
    list.events.push(message);
    if (list.events.length > this.limit) {
      list.events.shift();
      list.base += 1;
    }
    return `${streamId}|${list.base + list.events.length - 1}`;
  }
  async getStreamIdForEventId(eventId) {
    const bar = eventId.lastIndexOf('|');
    return bar > 0 ? eventId.slice(0, bar) : undefined;
  }
  async replayEventsAfter(lastEventId, { send }) {
    const bar = lastEventId.lastIndexOf('|');
    if (bar <= 0) return '';
    const streamId = lastEventId.slice(0, bar);
    const index = Number(lastEventId.slice(bar + 1));
    const list = this.streams.get(streamId);
    if (!list) return streamId;
    for (let i = Math.max(index + 1, list.base); i < list.base + list.events.length; i++) {
      await send(`${streamId}|${i}`, list.events[i - list.base]);
    }
    return streamId;
  }
}

function notificationOf(data) {
  return { method: 'notifications/message', params: { level: 'info', data } };
}

function makeServer() {
  const server = new McpServer(
    { name: 'mcpsse-bench-ts-server', version: '0.0.0' },
    { capabilities: { logging: {}, tools: {} } },
  );
  server.registerTool('test_simple_text', { description: 'Returns a fixed text' }, async () => ({
    content: [{ type: 'text', text: SIMPLE_TEXT }],
  }));
  // Like mcpsse's everything_server: a tools/list_changed to every session's GET stream.
  server.registerTool('test_trigger_tool_change', { description: 'Notifies every session stream' }, async () => {
    const note = { method: 'notifications/tools/list_changed' };
    const sends = [];
    for (const entry of sessions.values()) sends.push(entry.server.server.notification(note).catch(() => {}));
    for (const entry of legacySessions.values()) sends.push(entry.server.server.notification(note).catch(() => {}));
    await Promise.all(sends);
    return { content: [{ type: 'text', text: 'Tool list changed' }] };
  });
  server.registerTool(
    'emit_events',
    { description: 'Sends count notifications on this session stream', inputSchema: { count: z.number().int().min(0) } },
    async ({ count }) => {
      for (let i = 0; i < count; i++) await server.server.notification(notificationOf(`event ${i}`));
      return { content: [{ type: 'text', text: `emitted ${count}` }] };
    },
  );
  return server;
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      if (chunks.length === 0) return resolve(undefined);
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch (e) {
        reject(e);
      }
    });
    req.on('error', reject);
  });
}

function sendJsonError(res, status, message) {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message }, id: null }));
}

async function handleMcp(req, res) {
  const body = req.method === 'POST' ? await readBody(req) : undefined;
  if (stateless) {
    if (req.method !== 'POST') return sendJsonError(res, 405, 'Method not allowed');
    const server = makeServer();
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: jsonResponse });
    res.on('close', () => {
      transport.close();
      server.close();
    });
    await server.connect(transport);
    return transport.handleRequest(req, res, body);
  }
  const sid = req.headers['mcp-session-id'];
  if (sid) {
    const entry = sessions.get(sid);
    if (!entry) return sendJsonError(res, 404, 'Session not found');
    return entry.transport.handleRequest(req, res, body);
  }
  if (req.method === 'POST' && isInitializeRequest(body)) {
    const server = makeServer();
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      enableJsonResponse: jsonResponse,
      eventStore: new MemoryEventStore(),
      onsessioninitialized: (id) => {
        sessions.set(id, { server, transport });
      },
    });
    transport.onclose = () => {
      if (transport.sessionId) sessions.delete(transport.sessionId);
    };
    await server.connect(transport);
    return transport.handleRequest(req, res, body);
  }
  return sendJsonError(res, 400, 'Bad Request: no valid session id');
}

async function handleLegacyStream(req, res) {
  const server = makeServer();
  const transport = new SSEServerTransport('/messages', res);
  legacySessions.set(transport.sessionId, { server, transport });
  res.on('close', () => legacySessions.delete(transport.sessionId));
  await server.connect(transport);
}

async function handleLegacyPost(req, res, url) {
  const entry = legacySessions.get(url.searchParams.get('sessionId') ?? '');
  if (!entry) return sendJsonError(res, 404, 'Session not found');
  const body = await readBody(req);
  return entry.transport.handlePostMessage(req, res, body);
}

const httpServer = http.createServer(async (req, res) => {
  try {
    const url = new URL(req.url, `http://${req.headers.host ?? 'localhost'}`);
    if (url.pathname === '/mcp') return await handleMcp(req, res);
    if (url.pathname === '/sse' && req.method === 'GET') return await handleLegacyStream(req, res);
    if (url.pathname === '/messages' && req.method === 'POST') return await handleLegacyPost(req, res, url);
    if (url.pathname === '/health') {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      return res.end('ok');
    }
    res.writeHead(404).end();
  } catch (e) {
    if (!res.headersSent) sendJsonError(res, 500, String(e?.message ?? e));
    else res.end();
  }
});
httpServer.keepAliveTimeout = 60000;
httpServer.headersTimeout = 65000;
httpServer.requestTimeout = 0;
httpServer.maxConnections = 100000;

httpServer.listen(port, host, () => {
  process.stderr.write(`ts_server: listening on http://${host}:${port} (${stateless ? 'stateless' : 'sessions'}, ${jsonResponse ? 'json' : 'sse'} responses)\n`);
});

const stop = () => {
  for (const { transport } of sessions.values()) transport.close().catch(() => {});
  httpServer.close();
  setTimeout(() => process.exit(0), 200).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
