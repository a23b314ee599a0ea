// Interop test: the official MCP TypeScript SDK client drives the mcpsse
// stdio example server.
//
//   node stdio_client.mjs <path-to-stdio_server> [server args...]
//
// Prints one line per check ("ok - ..." / "not ok - ...") and a closing
// "N passed, N failed" line; exits non-zero if any check failed.
// Environment: INTEROP_CONCURRENCY (default 200) concurrent tools/call
// requests; INTEROP_TIMEOUT_MS (default 90000) overall watchdog; MCPSSE_*
// variables are passed on to the server.

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import {
  Checks,
  assertTextContent,
  assertToolSchema,
  expect,
  makeConcurrentCalls,
  requestOptions,
  sdkVersion,
} from './lib.mjs';

const [serverPath, ...serverArgs] = process.argv.slice(2);
if (!serverPath) {
  console.error('usage: node stdio_client.mjs <path-to-stdio_server> [args...]');
  console.error('(an empty server path from CMake means the stdio_server target does not exist)');
  console.log('0 passed, 1 failed');
  process.exit(2);
}
const concurrency = Number(process.env.INTEROP_CONCURRENCY ?? 200);
const checks = new Checks(Number(process.env.INTEROP_TIMEOUT_MS ?? 90000));

console.log(`# MCP TypeScript SDK ${sdkVersion()} on Node ${process.version}`);
console.log(`# server: ${serverPath} ${serverArgs.join(' ')}`.trimEnd());

// The SDK gives the server only a small default environment (PATH, HOME, ...)
// plus what we pass here; forward MCPSSE_* variables (debug knobs).
const serverEnv = Object.fromEntries(
  Object.entries(process.env).filter(([k]) => k.startsWith('MCPSSE_')));
const transport = new StdioClientTransport({
  command: serverPath,
  args: serverArgs,
  env: serverEnv,
  stderr: 'inherit',
});
const client = new Client({ name: 'mcpsse-interop-stdio', version: '0.0.0' });

// Exit status of the server process. The transport keeps the child in a
// private field; we only read it to observe how the server terminates.
let serverExit = null;
let resolveExit;
const exited = new Promise((r) => { resolveExit = r; });

const connected = await checks.run('initialize succeeds, server reports tools capability', async () => {
  await client.connect(transport, requestOptions);
  const child = transport._process;
  if (child) {
    child.once('exit', (code, signal) => {
      serverExit = { code, signal, at: Date.now() };
      resolveExit();
    });
  }
  const info = client.getServerVersion();
  expect(info && typeof info.name === 'string' && info.name.length > 0,
    `serverInfo.name should be a non-empty string, got ${JSON.stringify(info)}`);
  expect(typeof info.version === 'string', `serverInfo.version should be a string, got ${JSON.stringify(info)}`);
  const caps = client.getServerCapabilities();
  expect(caps && typeof caps.tools === 'object' && caps.tools !== null,
    `capabilities.tools should be an object, got capabilities ${JSON.stringify(caps)}`);
  return `serverInfo ${info.name} ${info.version}, capabilities ${JSON.stringify(caps)}`;
});

if (!connected) {
  await checks.finish(async () => { await client.close().catch(() => {}); });
}

await checks.run('tools/list returns echo(text) and add(a, b) with input schemas', async () => {
  const { tools } = await client.listTools(undefined, requestOptions);
  expect(Array.isArray(tools), 'tools/list result should have a tools array');
  const names = tools.map((t) => t.name);
  const echo = tools.find((t) => t.name === 'echo');
  const add = tools.find((t) => t.name === 'add');
  expect(echo, `tool "echo" missing; tools: ${JSON.stringify(names)}`);
  expect(add, `tool "add" missing; tools: ${JSON.stringify(names)}`);
  assertToolSchema(echo, { text: 'string' });
  assertToolSchema(add, { a: 'number', b: 'number' });
  return `tools: ${names.join(', ')}`;
});

await checks.run('tools/call echo {text:"hello"} returns [{type:"text", text:"hello"}]', async () => {
  const res = await client.callTool({ name: 'echo', arguments: { text: 'hello' } }, undefined, requestOptions);
  assertTextContent(res, 'hello', 'echo');
});

await checks.run('tools/call echo preserves unicode, quotes, backslashes and newlines', async () => {
  const text = 'h\u00e9llo \u4e16\u754c \u{1F600} "q" \\ back\\slash\nline2\ttab';
  const res = await client.callTool({ name: 'echo', arguments: { text } }, undefined, requestOptions);
  assertTextContent(res, text, 'echo');
});

await checks.run('tools/call add {a:2, b:3.5} returns "5.5"', async () => {
  const res = await client.callTool({ name: 'add', arguments: { a: 2, b: 3.5 } }, undefined, requestOptions);
  assertTextContent(res, '5.5', 'add');
});

await checks.run('tools/call add {a:2, b:3} returns "5"', async () => {
  const res = await client.callTool({ name: 'add', arguments: { a: 2, b: 3 } }, undefined, requestOptions);
  assertTextContent(res, '5', 'add');
});

await checks.run(`${concurrency} concurrent tools/call requests each answered with their own result`, async () => {
  const calls = makeConcurrentCalls(concurrency, 'echo', 'add');
  const t0 = Date.now();
  const results = await Promise.allSettled(
    calls.map((c) => client.callTool({ name: c.name, arguments: c.arguments }, undefined, requestOptions)));
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

await checks.run('tools/call of an unknown tool yields JSON-RPC error -32602', async () => {
  let res;
  try {
    res = await client.callTool({ name: 'no_such_tool_xyz', arguments: {} }, undefined, requestOptions);
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
  const res = await client.ping(requestOptions);
  expect(res && typeof res === 'object', `ping result should be an object, got ${JSON.stringify(res)}`);
});

await checks.run('closing the client ends the server with exit code 0', async () => {
  expect(transport._process, 'server process handle not available (SDK internals changed?)');
  const t0 = Date.now();
  // The transport ends the server's stdin, waits 2 s, then escalates to
  // SIGTERM and SIGKILL; a clean server exits on EOF well before that.
  await client.close();
  const timeout = new Promise((r) => setTimeout(r, 5000));
  await Promise.race([exited, timeout]);
  expect(serverExit, 'server did not exit within 5 s of the client closing');
  const ms = serverExit.at - t0;
  expect(serverExit.signal === null,
    `server was killed by ${serverExit.signal} after ${ms} ms: it did not exit on its own when stdin closed`);
  expect(serverExit.code === 0, `server exit code ${serverExit.code}, expected 0`);
  expect(ms < 1900,
    `server took ${ms} ms to exit; the transport sends SIGTERM after 2 s, so it probably did not exit on EOF`);
  return `exited 0 after ${ms} ms`;
});

await checks.finish();
