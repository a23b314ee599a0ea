// Interop test: the official MCP TypeScript SDK client drives an mcpsse
// HTTP example server.
//
//   node http_client.mjs <base-url> [--legacy] [--echo-tool NAME] [--add-tool NAME]
//
// Without --legacy the Streamable HTTP transport is used against
// <base-url>/mcp; with --legacy, the HTTP+SSE transport against
// <base-url>/sse (the server tells the client where to POST).
//
// Tools under test (so the script can target different example servers):
//   --echo-tool NAME  (or INTEROP_ECHO_TOOL, default "echo"): takes
//                     {text: string} and returns it as one text item.
//   --add-tool NAME   (or INTEROP_ADD_TOOL, default "add"): takes
//                     {a: number, b: number} and returns the sum as text;
//                     an empty name skips the add checks.
// Environment: INTEROP_CONCURRENCY (default 50) concurrent tools/call
// requests; INTEROP_TIMEOUT_MS (default 90000) overall watchdog;
// INTEROP_REQUEST_TIMEOUT_MS (default 10000) per request.
//
// Prints one line per check and a closing "N passed, N failed" line; exits
// non-zero if any check failed.

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import {
  Checks,
  assertTextContent,
  assertToolSchema,
  expect,
  expectedAddText,
  makeConcurrentCalls,
  requestOptions,
  sdkVersion,
} from './lib.mjs';

function usage(msg) {
  if (msg) console.error(`http_client: ${msg}`);
  console.error('usage: node http_client.mjs <base-url> [--legacy] [--echo-tool NAME] [--add-tool NAME]');
  console.log('0 passed, 1 failed');
  process.exit(2);
}

let baseUrl;
let legacy = false;
let echoTool = process.env.INTEROP_ECHO_TOOL ?? 'echo';
let addTool = process.env.INTEROP_ADD_TOOL ?? 'add';
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === '--legacy') legacy = true;
  else if (a === '--echo-tool') echoTool = argv[++i] ?? usage('--echo-tool needs a value');
  else if (a === '--add-tool') addTool = argv[++i] ?? usage('--add-tool needs a value');
  else if (a.startsWith('--')) usage(`unknown option ${a}`);
  else if (!baseUrl) baseUrl = a;
  else usage(`unexpected argument ${a}`);
}
if (!baseUrl) usage('missing <base-url>');
if (!echoTool) usage('the echo tool name must not be empty');
try {
  new URL(baseUrl);
} catch {
  usage(`not a URL: ${baseUrl}`);
}

const concurrency = Number(process.env.INTEROP_CONCURRENCY ?? 50);
const checks = new Checks(Number(process.env.INTEROP_TIMEOUT_MS ?? 90000));
const endpoint = new URL(legacy ? 'sse' : 'mcp', baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
const kind = legacy ? 'HTTP+SSE (legacy)' : 'Streamable HTTP';

console.log(`# MCP TypeScript SDK ${sdkVersion()} on Node ${process.version}`);
console.log(`# ${kind} transport, endpoint ${endpoint.href}; tools: echo=${echoTool} add=${addTool || '(skipped)'}`);

function makeTransport() {
  return legacy ? new SSEClientTransport(endpoint) : new StreamableHTTPClientTransport(endpoint);
}

async function connect(name) {
  const transport = makeTransport();
  const client = new Client({ name, version: '0.0.0' });
  await client.connect(transport, requestOptions);
  return { client, transport };
}

const callTool = (client, name, args) =>
  client.callTool({ name, arguments: args }, undefined, requestOptions);

let main;
const connected = await checks.run(`initialize over ${kind} succeeds, server reports tools capability`, async () => {
  main = await connect('mcpsse-interop-http');
  const info = main.client.getServerVersion();
  expect(info && typeof info.name === 'string' && info.name.length > 0,
    `serverInfo.name should be a non-empty string, got ${JSON.stringify(info)}`);
  const caps = main.client.getServerCapabilities();
  expect(caps && typeof caps.tools === 'object' && caps.tools !== null,
    `capabilities.tools should be an object, got capabilities ${JSON.stringify(caps)}`);
  const extra = legacy ? '' : `, session ${main.transport.sessionId ?? '(none)'}, protocol ${main.transport.protocolVersion}`;
  return `serverInfo ${info.name} ${info.version}${extra}`;
});
if (!connected) {
  await checks.finish(async () => { await main?.client.close(); });
}

await checks.run(`tools/list includes ${[echoTool, addTool].filter(Boolean).join(' and ')}`, async () => {
  const { tools } = await main.client.listTools(undefined, requestOptions);
  expect(Array.isArray(tools), 'tools/list result should have a tools array');
  const names = tools.map((t) => t.name);
  const echo = tools.find((t) => t.name === echoTool);
  expect(echo, `tool "${echoTool}" missing; tools: ${JSON.stringify(names)}`);
  assertToolSchema(echo, { text: 'string' });
  if (addTool) {
    const add = tools.find((t) => t.name === addTool);
    expect(add, `tool "${addTool}" missing; tools: ${JSON.stringify(names)}`);
    assertToolSchema(add, { a: 'number', b: 'number' });
  }
  return `${tools.length} tools: ${names.join(', ')}`;
});

await checks.run(`tools/call ${echoTool} {text:"hello"} returns "hello"`, async () => {
  assertTextContent(await callTool(main.client, echoTool, { text: 'hello' }), 'hello', echoTool);
});

await checks.run(`tools/call ${echoTool} preserves unicode, quotes, backslashes and newlines`, async () => {
  const text = 'h\u00e9llo \u4e16\u754c \u{1F600} "q" \\ back\\slash\nline2\ttab';
  assertTextContent(await callTool(main.client, echoTool, { text }), text, echoTool);
});

if (addTool) {
  await checks.run(`tools/call ${addTool} {a:2, b:3.5} returns "5.5"`, async () => {
    assertTextContent(await callTool(main.client, addTool, { a: 2, b: 3.5 }), expectedAddText(2, 3.5), addTool);
  });
}

await checks.run('tools/call of an unknown tool is rejected (-32602 error or isError result)', async () => {
  let res;
  try {
    res = await callTool(main.client, 'no_such_tool_xyz', {});
  } catch (e) {
    expect(e instanceof McpError, `expected McpError, got ${e?.constructor?.name}: ${e?.message}`);
    expect(e.code === -32602, `expected error code -32602, got ${e.code} (${e.message})`);
    return `SDK threw McpError ${e.code}: ${e.message}`;
  }
  expect(res?.isError === true,
    `expected an McpError -32602 or a result with isError: true, got ${JSON.stringify(res)}`);
  return `SDK returned a result with isError: true: ${JSON.stringify(res.content)}`;
});

await checks.run('ping resolves', async () => {
  const res = await main.client.ping(requestOptions);
  expect(res && typeof res === 'object', `ping result should be an object, got ${JSON.stringify(res)}`);
});

await checks.run(`${concurrency} concurrent tools/call requests each answered with their own result`, async () => {
  const calls = makeConcurrentCalls(concurrency, echoTool, addTool);
  const t0 = Date.now();
  const results = await Promise.allSettled(calls.map((c) => callTool(main.client, c.name, c.arguments)));
  const ms = Date.now() - t0;
  const problems = [];
  results.forEach((r, i) => {
    const c = calls[i];
    if (r.status === 'rejected') {
      problems.push(`#${i} ${c.name}: rejected: ${r.reason?.message ?? r.reason}`);
      return;
    }
    const got = r.value?.content;
    const ok = !r.value.isError && Array.isArray(got) && got.length === 1 &&
      got[0].type === 'text' && got[0].text === c.expected;
    if (!ok) problems.push(`#${i} ${c.name} ${JSON.stringify(c.arguments)}: expected ${JSON.stringify(c.expected)}, got ${JSON.stringify(r.value)}`);
  });
  expect(problems.length === 0,
    `${problems.length}/${calls.length} calls wrong:\n${problems.slice(0, 10).join('\n')}`);
  return `${calls.length} calls in ${ms} ms`;
});

await checks.run('a second client gets its own working session alongside the first', async () => {
  const second = await connect('mcpsse-interop-http-2');
  try {
    if (!legacy) {
      expect(second.transport.sessionId === undefined || second.transport.sessionId !== main.transport.sessionId,
        `both clients got session id ${main.transport.sessionId}`);
    }
    const [r1, r2] = await Promise.all([
      callTool(main.client, echoTool, { text: 'from-first' }),
      callTool(second.client, echoTool, { text: 'from-second' }),
    ]);
    assertTextContent(r1, 'from-first', `${echoTool} (first client)`);
    assertTextContent(r2, 'from-second', `${echoTool} (second client)`);
  } finally {
    await second.client.close().catch(() => {});
  }
});

if (!legacy) {
  await checks.run('terminating the session (HTTP DELETE) is accepted', async () => {
    // The SDK treats 2xx and 405 (termination not supported) as success.
    await main.transport.terminateSession();
    return main.transport.sessionId === undefined ? 'session ended' : 'no session id';
  });
}

await checks.run('closing the client succeeds', async () => {
  await main.client.close();
});

await checks.finish();
