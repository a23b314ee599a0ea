// Interop test: the official MCP TypeScript SDK client (1.x) against the README's
// quick start (examples/quick_start), as a user's first client would see it.
//
//   node quick_start_client.mjs <base-url>
//
// Over Streamable HTTP (<base-url>/mcp) and then the legacy HTTP+SSE transport
// (<base-url>/sse), each with its own client: initialize reports the tools
// capability, tools/list lists "greet" with its schema, tools/call greet
// {name} returns "Hello, <name>!" with one progress notification (1 of 2)
// when the client asks for progress and none otherwise, and a call without
// the required argument comes back as a tool error (isError), not a protocol
// error.
//
// Prints one line per check and a closing "N passed, N failed" line; exits
// non-zero if any check failed. Environment: INTEROP_TIMEOUT_MS (default
// 60000) overall watchdog; INTEROP_REQUEST_TIMEOUT_MS (default 10000) per
// request.

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { Checks, assertTextContent, assertToolSchema, expect, expectEqual, requestOptions, sdkVersion } from './lib.mjs';

const baseUrl = process.argv[2];
if (!baseUrl || process.argv.length > 3) {
  console.error('usage: node quick_start_client.mjs <base-url>');
  console.log('0 passed, 1 failed');
  process.exit(2);
}
const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
const checks = new Checks(Number(process.env.INTEROP_TIMEOUT_MS ?? 60000));
console.log(`# MCP TypeScript SDK ${sdkVersion()} on Node ${process.version}, quick start at ${base}`);

// See http_client.mjs (takeLateProgress): over HTTP+SSE the 1.x SDK may report a
// progress notification that arrives in the same chunk as the response as having an
// unknown token (typescript-sdk issue 2580). Such a notification was sent in time,
// so it counts as delivered.
const lateProgressPrefix = 'Received a progress notification for an unknown token: ';
function takeLateProgress(errors) {
  const late = [];
  for (let i = errors.length - 1; i >= 0; i--) {
    if (!errors[i].startsWith(lateProgressPrefix)) continue;
    try {
      late.unshift(JSON.parse(errors[i].slice(lateProgressPrefix.length)).params);
      errors.splice(i, 1);
    } catch { /* keep it */ }
  }
  return late;
}

for (const [kind, path, Transport] of [
  ['Streamable HTTP', 'mcp', StreamableHTTPClientTransport],
  ['HTTP+SSE (legacy)', 'sse', SSEClientTransport],
]) {
  const endpoint = new URL(path, base);
  const client = new Client({ name: 'mcpsse-interop-quick-start', version: '0.0.0' });
  const errors = [];
  client.onerror = (e) => errors.push(e?.message ?? String(e));

  const connected = await checks.run(`${kind}: initialize at ${endpoint.pathname} reports the tools capability`, async () => {
    await client.connect(new Transport(endpoint), requestOptions);
    const caps = client.getServerCapabilities();
    expect(caps && typeof caps.tools === 'object' && caps.tools !== null,
      `capabilities.tools should be an object, got capabilities ${JSON.stringify(caps)}`);
    const info = client.getServerVersion();
    return `serverInfo ${info?.name} ${info?.version}`;
  });
  if (!connected) continue;

  await checks.run(`${kind}: tools/list lists greet {name: string}`, async () => {
    const { tools } = await client.listTools(undefined, requestOptions);
    expectEqual(tools.map((t) => t.name), ['greet'], 'tool names');
    assertToolSchema(tools[0], { name: 'string' });
    expect(typeof tools[0].description === 'string' && tools[0].description.length > 0,
      `greet should have a description, got ${JSON.stringify(tools[0])}`);
  });

  await checks.run(`${kind}: tools/call greet with a progress token reports progress 1 of 2, then the result`, async () => {
    const progress = [];
    const res = await client.callTool({ name: 'greet', arguments: { name: 'Ada' } }, undefined,
      { ...requestOptions, onprogress: (p) => progress.push(p) });
    assertTextContent(res, 'Hello, Ada!', 'greet');
    const late = takeLateProgress(errors);
    expectEqual([...progress, ...late].map(({ progress: p, total, message }) => ({ progress: p, total, message })),
      [{ progress: 1, total: 2, message: 'looking up Ada' }], 'progress notifications');
    expect(errors.length === 0, `client errors: ${errors.join('; ')}`);
    return late.length ? 'the notification reached the SDK after the result (typescript-sdk#2580)' : '';
  });

  await checks.run(`${kind}: tools/call greet without a progress token returns the result alone`, async () => {
    const res = await client.callTool({ name: 'greet', arguments: { name: 'Grace' } }, undefined, requestOptions);
    assertTextContent(res, 'Hello, Grace!', 'greet');
    expect(errors.length === 0, `client errors: ${errors.join('; ')}`);
  });

  await checks.run(`${kind}: tools/call greet without its argument is a tool error (isError)`, async () => {
    const res = await client.callTool({ name: 'greet', arguments: {} }, undefined, requestOptions);
    expect(res.isError === true, `expected isError: true, got ${JSON.stringify(res)}`);
  });

  await checks.run(`${kind}: closing the client succeeds`, async () => {
    await client.close();
  });
}

await checks.finish();
