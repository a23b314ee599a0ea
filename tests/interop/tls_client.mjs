// Interop test: the official MCP TypeScript SDK client (1.x) talks to
// everything_server over HTTPS (Streamable HTTP at <base-url>/mcp).
//
//   NODE_EXTRA_CA_CERTS=<ca.pem> node tls_client.mjs https://127.0.0.1:PORT
//
// The server's certificate must verify against Node's CA store plus
// NODE_EXTRA_CA_CERTS (nothing here turns verification off). Checks: initialize
// with a session, tools/list, tools/call of test_simple_text, concurrent calls,
// and ending the session with DELETE. Prints one line per check and a closing
// "N passed, N failed" line; exits non-zero if any check failed.
// Environment: INTEROP_CONCURRENCY (default 20), INTEROP_TIMEOUT_MS (default
// 60000), INTEROP_REQUEST_TIMEOUT_MS (default 10000).

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Checks, assertTextContent, expect, requestOptions, sdkVersion } from './lib.mjs';

const simpleText = 'This is a simple text response for testing.';

const baseUrl = process.argv[2];
let endpoint;
try {
  endpoint = new URL('mcp', baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
} catch {
  endpoint = undefined;
}
if (process.argv.length !== 3 || !endpoint || endpoint.protocol !== 'https:') {
  console.error('usage: node tls_client.mjs https://HOST:PORT');
  console.log('0 passed, 1 failed');
  process.exit(2);
}

const concurrency = Number(process.env.INTEROP_CONCURRENCY ?? 20);
const checks = new Checks(Number(process.env.INTEROP_TIMEOUT_MS ?? 60000));
console.log(`# MCP TypeScript SDK ${sdkVersion()} on Node ${process.version}`);
console.log(`# Streamable HTTP over TLS, endpoint ${endpoint.href}; extra CA file: ` +
  `${process.env.NODE_EXTRA_CA_CERTS || '(none)'}`);

const client = new Client({ name: 'mcpsse-tls-interop', version: '0.0.0' });
const transport = new StreamableHTTPClientTransport(endpoint);
let connected = false;

await checks.run('initialize over https (certificate verified, session created)', async () => {
  await client.connect(transport, requestOptions);
  connected = true;
  expect(transport.sessionId, 'no Mcp-Session-Id after initialize');
  const info = client.getServerVersion();
  expect(info?.name === 'mcpsse-everything-server', `unexpected serverInfo ${JSON.stringify(info)}`);
  return `session ${transport.sessionId}`;
});

if (connected) {
  await checks.run('tools/list over https', async () => {
    const { tools } = await client.listTools(undefined, requestOptions);
    expect(Array.isArray(tools) && tools.some((t) => t.name === 'test_simple_text'),
      `test_simple_text missing from ${JSON.stringify(tools?.map((t) => t.name))}`);
    return `${tools.length} tools`;
  });

  await checks.run('tools/call test_simple_text over https', async () => {
    const res = await client.callTool({ name: 'test_simple_text', arguments: {} }, undefined, requestOptions);
    assertTextContent(res, simpleText, 'test_simple_text');
  });

  await checks.run(`${concurrency} concurrent tools/call over https`, async () => {
    const results = await Promise.all(Array.from({ length: concurrency }, () =>
      client.callTool({ name: 'greet', arguments: { name: 'tls' } }, undefined, requestOptions)));
    for (const res of results) assertTextContent(res, 'Hello, tls!', 'greet');
  });

  await checks.run('DELETE ends the session over https', async () => {
    await transport.terminateSession();
    expect(transport.sessionId === undefined, `session id still set: ${transport.sessionId}`);
  });
}

await checks.finish(() => client.close());
