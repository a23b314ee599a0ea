// Load for interop.http.metrics: the official MCP TypeScript SDK client (1.x)
// sends a known mix of requests to everything_server over Streamable HTTP and
// records what went over the wire, so that metrics.sh can compare the server's
// counters with it.
//
//   node metrics_client.mjs <base-url> <calls> <record.json>
//
// Against <base-url>/mcp: initialize (a session), tools/list, ping, <calls>
// calls of `greet` (half one after the other, half at once), one call of
// `test_tool_with_progress` with a progress token, one of `test_error_handling`
// (a result with isError: true) and one of a tool that does not exist (-32602),
// then DELETE (terminateSession) and close. The fetch handed to the SDK's
// transport records every exchange: HTTP method, status, response Content-Type
// and the JSON-RPC methods in each POST body. <record.json> receives
//   {"protocolVersion": "...", "sessionId": "...", "calls": N,
//    "http": {"POST 200": n, "POST 202": n, "GET 200": n, "DELETE 200": n, ...},
//    "sseResponses": n,            // POSTs answered with text/event-stream
//    "rpc": {"tools/call": n, ...}  // JSON-RPC requests (with an id) sent by method
//   }
// Prints one line per check and "N passed, N failed"; exits non-zero on failure.

import { writeFileSync } from 'node:fs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Checks, expect, expectEqual, requestOptions, sdkVersion } from './lib.mjs';

const [baseUrl, callsArg, recordPath] = process.argv.slice(2);
const calls = Number(callsArg);
if (process.argv.length !== 5 || !Number.isInteger(calls) || calls < 2) {
  console.error('usage: node metrics_client.mjs <base-url> <calls (>= 2)> <record.json>');
  console.log('0 passed, 1 failed');
  process.exit(2);
}
const endpoint = new URL('mcp', baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);

const record = { protocolVersion: null, sessionId: null, calls, http: {}, sseResponses: 0, rpc: {} };
const bump = (map, key) => { map[key] = (map[key] ?? 0) + 1; };

// Records each exchange the SDK makes. The status is known when the response
// head arrives; a GET stream counts then too (metrics.sh waits for the server
// to count it, which it does when the stream ends).
const recordingFetch = async (url, init = {}) => {
  const method = (init.method ?? 'GET').toUpperCase();
  if (method === 'POST' && typeof init.body === 'string') {
    const body = JSON.parse(init.body);
    for (const m of Array.isArray(body) ? body : [body]) {
      if (m.method !== undefined && m.id !== undefined) bump(record.rpc, m.method);
    }
  }
  const response = await fetch(url, init);
  bump(record.http, `${method} ${response.status}`);
  if (method === 'POST' && (response.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
    record.sseResponses += 1;
  }
  return response;
};

const checks = new Checks(Number(process.env.INTEROP_TIMEOUT_MS ?? 60000));
console.log(`# MCP TypeScript SDK ${sdkVersion()} on Node ${process.version}; endpoint ${endpoint.href}`);

const client = new Client({ name: 'mcpsse-metrics-interop', version: '0.0.0' });
const transport = new StreamableHTTPClientTransport(endpoint, { fetch: recordingFetch });
let connected = false;

await checks.run('initialize (session created)', async () => {
  await client.connect(transport, requestOptions);
  connected = true;
  expect(transport.sessionId, 'no Mcp-Session-Id after initialize');
  record.sessionId = transport.sessionId;
  record.protocolVersion = transport.protocolVersion ?? null;
  return `session ${transport.sessionId}, protocol ${record.protocolVersion}`;
});

if (connected) {
  await checks.run('tools/list and ping', async () => {
    const { tools } = await client.listTools(undefined, requestOptions);
    expect(tools.some((t) => t.name === 'greet'), 'greet is not listed');
    await client.ping(requestOptions);
  });

  const greet = async (i) => {
    const res = await client.callTool({ name: 'greet', arguments: { name: `load-${i}` } }, undefined, requestOptions);
    expectEqual(res.content?.[0]?.text, `Hello, load-${i}!`, `greet ${i}`);
  };
  const sequential = Math.floor(calls / 2);
  await checks.run(`${sequential} greet calls one after the other`, async () => {
    for (let i = 0; i < sequential; ++i) await greet(i);
  });
  await checks.run(`${calls - sequential} greet calls at once`, async () => {
    await Promise.all(Array.from({ length: calls - sequential }, (_, i) => greet(sequential + i)));
  });

  await checks.run('test_tool_with_progress with a progress token', async () => {
    const steps = [];
    await client.callTool({ name: 'test_tool_with_progress', arguments: {} }, undefined,
      { ...requestOptions, onprogress: (p) => steps.push(p.progress) });
    expect(steps.length > 0, 'no progress notification arrived');
    return `progress ${steps.join(', ')}`;
  });

  await checks.run('test_error_handling answers isError: true', async () => {
    const res = await client.callTool({ name: 'test_error_handling', arguments: {} }, undefined, requestOptions);
    expect(res.isError === true, `isError is ${res.isError}`);
  });

  await checks.run('an unknown tool is refused (JSON-RPC error)', async () => {
    let code;
    try {
      await client.callTool({ name: 'no_such_tool_for_metrics', arguments: {} }, undefined, requestOptions);
    } catch (e) {
      code = e?.code;
    }
    expect(code !== undefined, 'the call did not fail');
    return `code ${code}`;
  });

  await checks.run('DELETE ends the session', async () => {
    await transport.terminateSession();
    await client.close();
  });
}

writeFileSync(recordPath, `${JSON.stringify(record, null, 1)}\n`);
console.log(`# wire record: ${JSON.stringify(record)}`);
await checks.finish();
