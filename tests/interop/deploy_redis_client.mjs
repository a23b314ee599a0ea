// Interop test (deploy_redis.sh): the official MCP TypeScript SDK client (1.x,
// Streamable HTTP with sessions) talks to everything_server instances that share
// their sessions through Redis, behind HAProxy round-robin (no stickiness).
//
//   node deploy_redis_client.mjs <mcp-url> <calls> <session-file>
//
// One session: initialize, tools/list, then <calls> tools/call requests one after
// another (round-robin spreads them over the instances; each must find the session
// in Redis). Every HTTP exchange is counted by status through a fetch wrapper: a 404
// (session not found) anywhere fails the run. The session id is written to
// <session-file>; the session is left open (no DELETE), so the caller can go on
// with it. Prints one line per check and "N passed, N failed"; exits non-zero when
// a check failed.

import { writeFileSync } from 'node:fs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Checks, expect, expectEqual, requestOptions, sdkVersion } from './lib.mjs';

const [url, callsText, sessionFile] = process.argv.slice(2);
const calls = Number(callsText);
if (!url || !Number.isInteger(calls) || calls < 1 || !sessionFile) {
  console.error('usage: node deploy_redis_client.mjs <mcp-url> <calls> <session-file>');
  console.log('0 passed, 1 failed');
  process.exit(2);
}

const checks = new Checks(Number(process.env.INTEROP_TIMEOUT_MS ?? 30000));
console.log(`# MCP TypeScript SDK ${sdkVersion()} on Node ${process.version}; endpoint ${url}`);

// HTTP status -> count, over every exchange the SDK makes (POSTs, the GET stream).
const statuses = new Map();
const countingFetch = async (input, init) => {
  const response = await fetch(input, init);
  statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
  return response;
};

const client = new Client({ name: 'mcpsse-deploy-redis', version: '1.0.0' }, { capabilities: {} });
const transport = new StreamableHTTPClientTransport(new URL(url), { fetch: countingFetch });

await checks.run('initialize through HAProxy creates a session', async () => {
  await client.connect(transport, requestOptions);
  expect(transport.sessionId, 'the server sent no Mcp-Session-Id');
  writeFileSync(sessionFile, `${transport.sessionId}\n`);
  return `session ${transport.sessionId}`;
});

await checks.run('tools/list on the shared session', async () => {
  const { tools } = await client.listTools({}, requestOptions);
  expect(tools.some((t) => t.name === 'test_simple_text'), 'test_simple_text is not listed');
  return `${tools.length} tools`;
});

await checks.run(`${calls} tools/call on the same session, round-robin over the instances`, async () => {
  for (let i = 0; i < calls; i++) {
    const result = await client.callTool({ name: 'test_simple_text', arguments: {} }, undefined, requestOptions);
    expectEqual(result.content, [{ type: 'text', text: 'This is a simple text response for testing.' }],
      `call ${i + 1}`);
  }
});

await checks.run('no exchange was answered 404 (session not found)', async () => {
  const summary = [...statuses].map(([status, n]) => `${status}: ${n}`).join(', ');
  expect(!statuses.has(404), `statuses: ${summary}`);
  return summary;
});

// Closes the client's connections; the session stays (no DELETE).
await checks.finish(() => transport.close());
