// Interop test of mcpsse-bridge: the official MCP TypeScript SDK client (1.x)
// drives the official @modelcontextprotocol/server-everything (a stdio MCP
// server nobody here wrote) through the bridge.
//
//   node bridge_client.mjs <base-url> [--legacy] [--bridge-pid PID]
//
// Without --legacy the Streamable HTTP transport is used against
// <base-url>/mcp, with --legacy the HTTP+SSE transport against <base-url>/sse.
// With --bridge-pid the checks also look at the bridge's child processes
// (/proc): one server-everything child per session, started by initialize,
// gone (exited and reaped) once its session ends. Without it those checks are
// skipped, so the same client also runs against server-everything's own HTTP
// transports (node dist/index.js streamableHttp|sse, port from PORT), which
// is how its expectations were checked against the server itself.
//
// Checks (each "ok - ..." / "not ok - ..."), with two sessions A and B:
//   initialize (server name, capabilities, instructions); tools/list including
//   the tools server-everything registers only for clients that declared
//   sampling, elicitation and roots (so the client's capabilities reached the
//   child); tools/call echo (Unicode, 256 KiB) and get-sum; 20 concurrent
//   calls; trigger-long-running-operation with notifications/progress 1..4;
//   trigger-sampling-request and trigger-elicitation-request (server-to-client
//   requests inside a tools/call and their answers back); the roots/list the
//   server sends on its own after initialization, then get-roots-list;
//   resources/list, every static document read back equal to the file in the
//   package, resources/templates/list and a template read, an unknown URI
//   answered with a JSON-RPC error; prompts/list and prompts/get with
//   arguments; logging/setLevel and a notifications/message; resources/
//   subscribe, notifications/resources/updated (toggle-subscriber-updates)
//   and unsubscribe; an unknown tool; ping; session isolation (a session
//   resource made by gzip-file-as-resource in A is absent from B, each sees
//   its own roots, calls in both at once); closing A (DELETE over Streamable
//   HTTP, then a request with its session id gets 404; the SSE stream
//   dropped over HTTP+SSE) ends A's child while B works on; closing B ends
//   the last child.
//
// Environment: INTEROP_TIMEOUT_MS (default 90000) overall watchdog;
// INTEROP_REQUEST_TIMEOUT_MS (default 10000) per request;
// BRIDGE_CHILD_EXIT_MS (default 10000) how long a child may take to go after
// its session ended.
//
// Prints one line per check and "N passed, N failed"; exits non-zero on any
// failure. Checklist codes (tests/CHECKLIST.md, Bridge): B1 one child per
// session and isolation, B2 messages both ways, B3 ending a session ends its child.

import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ListRootsRequestSchema,
  LoggingMessageNotificationSchema,
  McpError,
  ResourceUpdatedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { Checks, expect, expectEqual, packageVersion, requestOptions, sdkVersion } from './lib.mjs';

const usageText = 'usage: node bridge_client.mjs <base-url> [--legacy] [--bridge-pid PID]';
function usage(msg) {
  if (msg) console.error(`bridge_client: ${msg}`);
  console.error(usageText);
  console.log('0 passed, 1 failed');
  process.exit(2);
}

let baseUrl;
let legacy = false;
let bridgePid = 0;
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === '--legacy') legacy = true;
  else if (a === '--bridge-pid') {
    bridgePid = Number(argv[++i]);
    if (!Number.isInteger(bridgePid) || bridgePid <= 0) usage('--bridge-pid needs a process id');
  } else if (a.startsWith('--')) usage(`unknown option ${a}`);
  else if (!baseUrl) baseUrl = a;
  else usage(`unexpected argument ${a}`);
}
if (!baseUrl) usage('missing <base-url>');
try {
  new URL(baseUrl);
} catch {
  usage(`not a URL: ${baseUrl}`);
}

const checks = new Checks(Number(process.env.INTEROP_TIMEOUT_MS ?? 90000));
const childExitMs = Number(process.env.BRIDGE_CHILD_EXIT_MS ?? 10000);
const endpoint = new URL(legacy ? 'sse' : 'mcp', baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
const serverPackage = '@modelcontextprotocol/server-everything';
// The package's static documents, served as demo://resource/static/document/<name>.
const docsDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'node_modules', serverPackage, 'dist', 'docs');

console.log(`# MCP TypeScript SDK ${sdkVersion()}, ${serverPackage} ${packageVersion(serverPackage, `${serverPackage}/package.json`)}` +
  ` on Node ${process.version}`);
console.log(`# ${legacy ? 'HTTP+SSE (legacy)' : 'Streamable HTTP'} transport, endpoint ${endpoint.href}` +
  `${bridgePid ? `; bridge pid ${bridgePid}` : '; no --bridge-pid: child process checks skipped'}`);

// ---- helpers ----------------------------------------------------------------

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitFor(cond, ms, what) {
  const deadline = Date.now() + ms;
  while (!cond()) {
    expect(Date.now() < deadline, `timed out after ${ms} ms waiting for ${what}`);
    await sleep(10);
  }
}

/**
 * The live and zombie descendants of pid, from /proc: [{pid, ppid, state, cmd}].
 * A process that exited and was reaped is absent.
 */
function descendants(pid) {
  const procs = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // pid (comm) state ppid ...; comm may hold spaces and parentheses.
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      let cmd = '';
      try {
        cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
      } catch { /* gone meanwhile */ }
      procs.push({ pid: Number(name), state: rest[0], ppid: Number(rest[1]), cmd });
    } catch { /* gone meanwhile */ }
  }
  const out = [];
  const todo = [pid];
  while (todo.length) {
    const parent = todo.pop();
    for (const p of procs) {
      if (p.ppid === parent) {
        out.push(p);
        todo.push(p.pid);
      }
    }
  }
  return out;
}

const describeProcs = (list) => list.map((p) => `${p.pid} [${p.state}] ${p.cmd.slice(0, 160)}`).join('; ') || '(none)';

/** The bridge's direct children that run server-everything. */
function serverChildren() {
  return descendants(bridgePid).filter((p) => p.ppid === bridgePid);
}

/** A /proc entry for pid exists (a running or zombie process). */
function pidExists(pid) {
  try {
    readFileSync(`/proc/${pid}/stat`);
    return true;
  } catch {
    return false;
  }
}

/** The single text item of a successful tools/call result. */
function resultText(res, what) {
  expect(!res.isError, `${what} returned isError: ${JSON.stringify(res).slice(0, 500)}`);
  expect(Array.isArray(res.content) && res.content.length >= 1 && res.content.every((c) => c.type === 'text'),
    `${what} should return text items, got ${JSON.stringify(res.content).slice(0, 500)}`);
  return res.content.map((c) => c.text).join('\n');
}

const lateProgressPrefix = 'Received a progress notification for an unknown token: ';

/**
 * Progress notifications with the given total that SDK 1.x received after
 * the request had completed (it runs notification handlers a microtask after
 * responses, so a progress notification read in the same chunk as the
 * response is reported as having an unknown token: typescript-sdk issue
 * 2580). They were sent in time, so they count as delivered.
 */
function takeLateProgress(session, total) {
  const late = [];
  session.errors = session.errors.filter((m) => {
    if (!m.startsWith(lateProgressPrefix)) return true;
    try {
      const n = JSON.parse(m.slice(lateProgressPrefix.length));
      if (n.params?.total === total) {
        late.push(n.params);
        return false;
      }
    } catch { /* keep it */ }
    return true;
  });
  return late;
}

// ---- sessions ----------------------------------------------------------------

/**
 * A client declaring sampling, elicitation and roots (root file:///<tag>),
 * recording what the server sends it, connected to the endpoint.
 */
async function openSession(tag) {
  const session = {
    tag,
    root: { uri: `file:///mcpsse-bridge-test/${tag}`, name: `root of session ${tag}` },
    sampling: [],
    elicitation: [],
    rootsRequests: 0,
    logs: [],
    updates: [],
    errors: [],
    child: null,
  };
  const client = new Client({ name: `mcpsse-bridge-test-${tag}`, version: '0.0.0' }, {
    capabilities: { sampling: {}, elicitation: {}, roots: { listChanged: true } },
  });
  client.setRequestHandler(CreateMessageRequestSchema, async (request) => {
    session.sampling.push(request.params);
    return {
      model: `mcpsse-bridge-model-${tag}`,
      role: 'assistant',
      content: { type: 'text', text: `sampled answer for ${tag}` },
      stopReason: 'endTurn',
    };
  });
  client.setRequestHandler(ElicitRequestSchema, async (request) => {
    session.elicitation.push(request.params);
    return { action: 'accept', content: { name: `Ada ${tag} Lovelace` } };
  });
  client.setRequestHandler(ListRootsRequestSchema, async () => {
    session.rootsRequests += 1;
    return { roots: [session.root] };
  });
  client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => { session.logs.push(n.params); });
  client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => { session.updates.push(n.params); });
  client.onerror = (e) => session.errors.push(e?.message ?? String(e));
  const transport = legacy ? new SSEClientTransport(endpoint) : new StreamableHTTPClientTransport(endpoint);
  await client.connect(transport, requestOptions);
  session.client = client;
  session.transport = transport;
  return session;
}

const callTool = (session, name, args, extra) =>
  session.client.callTool({ name, arguments: args }, undefined, { ...requestOptions, ...extra });

/**
 * After a session was opened: exactly one new server-everything child of the
 * bridge appeared; remembers its pid. known: pids of children of earlier sessions.
 */
async function expectNewChild(session, known) {
  let fresh = [];
  await waitFor(() => {
    fresh = serverChildren().filter((p) => !known.includes(p.pid) && p.state !== 'Z');
    return fresh.length >= 1;
  }, 5000, `a child process for session ${session.tag} (children: ${describeProcs(serverChildren())})`);
  await sleep(100); // a second spawn for the same session would show up now
  fresh = serverChildren().filter((p) => !known.includes(p.pid) && p.state !== 'Z');
  expect(fresh.length === 1, `session ${session.tag}: expected 1 new child, found ${describeProcs(fresh)}`);
  expect(fresh[0].cmd.includes('server-everything'),
    `session ${session.tag}: the child is not server-everything: ${describeProcs(fresh)}`);
  session.child = fresh[0].pid;
  return `pid ${session.child}`;
}

/** The session's child exited and was reaped (no zombie) within childExitMs. */
async function expectChildGone(session) {
  const t0 = Date.now();
  await waitFor(() => !pidExists(session.child), childExitMs,
    `child ${session.child} of session ${session.tag} to exit and be reaped` +
    ` (now: ${describeProcs(descendants(bridgePid).filter((p) => p.pid === session.child))})`);
  return `gone after ${Date.now() - t0} ms`;
}

// ---- the checks ------------------------------------------------------------------

const tag = Math.random().toString(36).slice(2, 8);
let A;
let B;
try {
  const before = bridgePid ? serverChildren() : [];
  if (bridgePid) {
    await checks.run('no child process before any session', async () => {
      expect(before.length === 0, `the bridge already has children: ${describeProcs(before)}`);
    });
  }

  // B2: initialize, requests, notifications and server-to-client requests cross.
  const connected = await checks.run('session A: initialize through the bridge', async () => {
    A = await openSession('A');
    const info = A.client.getServerVersion();
    expectEqual(info?.name, 'mcp-servers/everything', 'serverInfo.name');
    const caps = A.client.getServerCapabilities();
    expect(caps?.tools && caps?.prompts && caps?.resources?.subscribe === true && caps?.logging,
      `capabilities should include tools, prompts, resources.subscribe, logging: ${JSON.stringify(caps)}`);
    const instructions = A.client.getInstructions();
    expect(typeof instructions === 'string' && instructions.length > 0, 'instructions should be a non-empty string');
    return `${info.name} ${info.version}, protocol ${A.transport.protocolVersion ?? 'n/a'}`;
  });
  if (!connected) await checks.finish();

  if (bridgePid) {
    await checks.run('session A: initialize started one server-everything child', () => expectNewChild(A, before.map((p) => p.pid)));
  }

  await checks.run('tools/list: the tools, including those registered for sampling, elicitation and roots clients', async () => {
    const { tools } = await A.client.listTools(undefined, requestOptions);
    const names = tools.map((t) => t.name);
    for (const want of ['echo', 'get-sum', 'trigger-long-running-operation', 'gzip-file-as-resource',
      'toggle-subscriber-updates', 'trigger-sampling-request', 'trigger-elicitation-request', 'get-roots-list']) {
      expect(names.includes(want), `tools/list lacks ${want}: ${names.join(', ')}`);
    }
    const echo = tools.find((t) => t.name === 'echo');
    expect(echo.inputSchema?.properties?.message?.type === 'string', `echo schema: ${JSON.stringify(echo.inputSchema)}`);
    return `${tools.length} tools`;
  });

  await checks.run('tools/call echo (Unicode, quotes, newlines)', async () => {
    const message = `grüße "quoted" \\ back\nslash ✓ 🚀 ${tag}`;
    expectEqual(resultText(await callTool(A, 'echo', { message }), 'echo'), `Echo: ${message}`, 'echo result');
  });

  await checks.run('tools/call echo with a 256 KiB message', async () => {
    const message = 'x'.repeat(256 * 1024 - 8) + tag.padEnd(8, '.');
    const text = resultText(await callTool(A, 'echo', { message }), 'echo');
    expect(text === `Echo: ${message}`, `echo result of ${text.length} characters differs (want ${message.length + 6})`);
  });

  await checks.run('tools/call get-sum', async () => {
    expectEqual(resultText(await callTool(A, 'get-sum', { a: 2.5, b: -7.25 }), 'get-sum'),
      'The sum of 2.5 and -7.25 is -4.75.', 'get-sum result');
  });

  await checks.run('20 concurrent tools/call requests each get their own answer', async () => {
    const calls = Array.from({ length: 20 }, (_, i) => (i % 2
      ? { name: 'get-sum', args: { a: i, b: 1000 * i }, want: `The sum of ${i} and ${1000 * i} is ${1001 * i}.` }
      : { name: 'echo', args: { message: `c${i}-${tag}` }, want: `Echo: c${i}-${tag}` }));
    const results = await Promise.all(calls.map((c) => callTool(A, c.name, c.args)));
    results.forEach((r, i) => expectEqual(resultText(r, calls[i].name), calls[i].want, `call ${i}`));
  });

  await checks.run('trigger-long-running-operation: notifications/progress 1..4 of 4, then the result', async () => {
    const progress = [];
    const res = await callTool(A, 'trigger-long-running-operation', { duration: 0.8, steps: 4 },
      { onprogress: (p) => progress.push(p), resetTimeoutOnProgress: true });
    expectEqual(resultText(res, 'trigger-long-running-operation'),
      'Long running operation completed. Duration: 0.8 seconds, Steps: 4.', 'result');
    const late = takeLateProgress(A, 4);
    expectEqual([...progress, ...late].map((p) => [p.progress, p.total]), [[1, 4], [2, 4], [3, 4], [4, 4]],
      'progress (in order of arrival)');
    return late.length ? `the last ${late.length} reached the SDK after the result (typescript-sdk#2580)` : '';
  });

  await checks.run('trigger-sampling-request: sampling/createMessage reaches the client, its answer the tool', async () => {
    const prompt = `sample me ${tag}`;
    const text = resultText(await callTool(A, 'trigger-sampling-request', { prompt, maxTokens: 33 }),
      'trigger-sampling-request');
    expect(A.sampling.length === 1, `expected 1 sampling request at the client, got ${A.sampling.length}`);
    const req = A.sampling[0];
    expect(req.maxTokens === 33, `maxTokens ${req.maxTokens}`);
    expect(req.messages?.[0]?.content?.text?.includes(prompt), `the prompt is missing: ${JSON.stringify(req.messages)}`);
    expect(text.includes('mcpsse-bridge-model-A') && text.includes('sampled answer for A'),
      `the tool result does not carry the client's answer: ${text}`);
  });

  await checks.run('trigger-elicitation-request: elicitation/create reaches the client, its answer the tool', async () => {
    const text = resultText(await callTool(A, 'trigger-elicitation-request', {}), 'trigger-elicitation-request');
    expect(A.elicitation.length === 1, `expected 1 elicitation request at the client, got ${A.elicitation.length}`);
    expect(A.elicitation[0].requestedSchema?.properties?.name, 'requestedSchema lacks name');
    expect(text.includes('- Name: Ada A Lovelace'), `the tool result does not carry the answer: ${text}`);
  });

  await checks.run('roots/list sent by the server on its own reaches the client; get-roots-list reports the root', async () => {
    // server-everything asks for roots 350 ms after initialization, outside any request.
    await waitFor(() => A.rootsRequests > 0, 5000, 'the server\'s roots/list request');
    const text = resultText(await callTool(A, 'get-roots-list', {}), 'get-roots-list');
    expect(text.includes(A.root.uri), `get-roots-list does not name ${A.root.uri}: ${text}`);
    return `${A.rootsRequests} roots/list request(s)`;
  });

  await checks.run('resources/list, and every static document read back equal to the package file', async () => {
    const { resources } = await A.client.listResources(undefined, requestOptions);
    const files = readdirSync(docsDir).filter((f) => f.endsWith('.md')).sort();
    expect(files.length > 0, `no documents in ${docsDir}`);
    let bytes = 0;
    for (const f of files) {
      const uri = `demo://resource/static/document/${encodeURIComponent(f)}`;
      expect(resources.some((r) => r.uri === uri), `resources/list lacks ${uri}: ${resources.map((r) => r.uri).join(', ')}`);
      const { contents } = await A.client.readResource({ uri }, requestOptions);
      const want = readFileSync(path.join(docsDir, f), 'utf8');
      expect(contents.length === 1 && contents[0].text === want,
        `${uri}: read ${JSON.stringify(contents).length} characters, not the file's ${want.length}`);
      bytes += Buffer.byteLength(want);
    }
    return `${resources.length} resources, ${files.length} documents, ${bytes} bytes compared`;
  });

  await checks.run('resources/templates/list and a templated read', async () => {
    const { resourceTemplates } = await A.client.listResourceTemplates(undefined, requestOptions);
    expect(resourceTemplates.some((t) => t.uriTemplate === 'demo://resource/dynamic/text/{resourceId}'),
      `templates: ${resourceTemplates.map((t) => t.uriTemplate).join(', ')}`);
    const { contents } = await A.client.readResource({ uri: 'demo://resource/dynamic/text/7' }, requestOptions);
    expect(contents[0]?.uri === 'demo://resource/dynamic/text/7' && contents[0]?.text?.startsWith('Resource 7: '),
      `read: ${JSON.stringify(contents)}`);
  });

  await checks.run('resources/read of an unknown URI: the server\'s JSON-RPC error reaches the client', async () => {
    try {
      await A.client.readResource({ uri: `demo://no/such/resource/${tag}` }, requestOptions);
    } catch (e) {
      expect(e instanceof McpError, `expected an McpError, got ${e?.constructor?.name}: ${e?.message}`);
      return `code ${e.code}: ${e.message.slice(0, 100)}`;
    }
    expect(false, 'the read succeeded');
  });

  await checks.run('prompts/list and prompts/get (without and with arguments)', async () => {
    const { prompts } = await A.client.listPrompts(undefined, requestOptions);
    const names = prompts.map((p) => p.name);
    expect(names.includes('simple-prompt') && names.includes('args-prompt'), `prompts: ${names.join(', ')}`);
    const simple = await A.client.getPrompt({ name: 'simple-prompt' }, requestOptions);
    expectEqual(simple.messages, [{ role: 'user', content: { type: 'text', text: 'This is a simple prompt without arguments.' } }],
      'simple-prompt');
    const args = await A.client.getPrompt({ name: 'args-prompt', arguments: { city: 'Zürich', state: 'ZH' } }, requestOptions);
    expectEqual(args.messages?.[0]?.content?.text, 'What\'s weather in Zürich, ZH?', 'args-prompt');
  });

  const subscribed = `demo://resource/dynamic/text/1?${tag}`;
  await checks.run('logging/setLevel debug; the server\'s notifications/message arrives', async () => {
    await A.client.setLoggingLevel('debug', requestOptions);
    // resources/subscribe makes server-everything log an info message naming the URI.
    await A.client.subscribeResource({ uri: subscribed }, requestOptions);
    await waitFor(() => A.logs.some((l) => String(l.data).includes(subscribed)), 5000,
      `a log message naming ${subscribed} (got ${JSON.stringify(A.logs).slice(0, 300)})`);
    const log = A.logs.find((l) => String(l.data).includes(subscribed));
    expectEqual(log.level, 'info', 'level');
  });

  await checks.run('resources/subscribe: notifications/resources/updated arrives; unsubscribe', async () => {
    const text = resultText(await callTool(A, 'toggle-subscriber-updates', {}), 'toggle-subscriber-updates');
    expect(text.startsWith('Started'), `toggle: ${text}`);
    await waitFor(() => A.updates.some((u) => u.uri === subscribed), 7000, `notifications/resources/updated for ${subscribed}`);
    const stop = resultText(await callTool(A, 'toggle-subscriber-updates', {}), 'toggle-subscriber-updates');
    expect(stop.startsWith('Stopped'), `second toggle: ${stop}`);
    await A.client.unsubscribeResource({ uri: subscribed }, requestOptions);
    return `${A.updates.length} update(s)`;
  });

  await checks.run('tools/call of an unknown tool is answered with an error', async () => {
    let res;
    try {
      res = await callTool(A, `no-such-tool-${tag}`, {});
    } catch (e) {
      expect(e instanceof McpError, `expected an McpError, got ${e?.constructor?.name}: ${e?.message}`);
      return `JSON-RPC error ${e.code}`;
    }
    expect(res.isError === true, `expected isError, got ${JSON.stringify(res)}`);
    return 'isError result';
  });

  await checks.run('ping', async () => {
    expectEqual(await A.client.ping(requestOptions), {}, 'ping result');
  });

  // ---- a second session (B1) -----------------------------------------------------------

  const second = await checks.run('session B: initialize while A is open', async () => {
    B = await openSession('B');
    expectEqual(B.client.getServerVersion()?.name, 'mcp-servers/everything', 'serverInfo.name');
    if (!legacy) expect(B.transport.sessionId && B.transport.sessionId !== A.transport.sessionId, 'distinct session ids');
  });
  if (!second) await checks.finish(async () => { await A?.client.close(); });

  if (bridgePid) {
    await checks.run('session B has its own child; the bridge runs two', async () => {
      const note = await expectNewChild(B, [A.child]);
      const live = serverChildren().filter((p) => p.state !== 'Z');
      expect(live.length === 2, `expected 2 children, found ${describeProcs(live)}`);
      return note;
    });
  }

  await checks.run('isolation: a session resource made in A exists in A only', async () => {
    const content = `only in A ${tag}\n`.repeat(50);
    const name = `a-only-${tag}.txt.gz`;
    const res = await callTool(A, 'gzip-file-as-resource', {
      name, data: `data:text/plain;base64,${Buffer.from(content).toString('base64')}`, outputType: 'resourceLink',
    });
    expect(!res.isError && res.content?.[0]?.type === 'resource_link', `gzip-file-as-resource: ${JSON.stringify(res).slice(0, 400)}`);
    const uri = res.content[0].uri;
    const inA = (await A.client.listResources(undefined, requestOptions)).resources.map((r) => r.uri);
    expect(inA.includes(uri), `A's resources/list lacks ${uri}`);
    const { contents } = await A.client.readResource({ uri }, requestOptions);
    expect(gunzipSync(Buffer.from(contents[0].blob, 'base64')).toString() === content, 'the gzip blob does not unpack to the data');
    const inB = (await B.client.listResources(undefined, requestOptions)).resources.map((r) => r.uri);
    expect(!inB.includes(uri), `B's resources/list shows A's ${uri}`);
    let readInB = false;
    try {
      await B.client.readResource({ uri }, requestOptions);
      readInB = true;
    } catch { /* expected */ }
    expect(!readInB, `B can read A's ${uri}`);
  });

  await checks.run('isolation: each session sees its own roots and answers its own sampling', async () => {
    await waitFor(() => B.rootsRequests > 0, 5000, 'the server\'s roots/list request to B');
    const [ta, tb] = await Promise.all([callTool(A, 'get-roots-list', {}), callTool(B, 'get-roots-list', {})]);
    const a = resultText(ta, 'get-roots-list in A');
    const b = resultText(tb, 'get-roots-list in B');
    expect(a.includes(A.root.uri) && !a.includes(B.root.uri), `A's roots: ${a}`);
    expect(b.includes(B.root.uri) && !b.includes(A.root.uri), `B's roots: ${b}`);
    const sb = resultText(await callTool(B, 'trigger-sampling-request', { prompt: 'b' }), 'sampling in B');
    expect(sb.includes('mcpsse-bridge-model-B') && B.sampling.length === 1 && A.sampling.length === 1,
      `B's sampling went astray: A ${A.sampling.length}, B ${B.sampling.length}: ${sb.slice(0, 200)}`);
  });

  await checks.run('both sessions at once: a progress call in A while B answers echo calls', async () => {
    const progress = [];
    const slow = callTool(A, 'trigger-long-running-operation', { duration: 0.6, steps: 3 },
      { onprogress: (p) => progress.push(p), resetTimeoutOnProgress: true });
    const fast = [];
    for (let i = 0; i < 5; i++) fast.push(resultText(await callTool(B, 'echo', { message: `b${i}` }), 'echo in B'));
    expectEqual(fast, [0, 1, 2, 3, 4].map((i) => `Echo: b${i}`), 'B\'s answers');
    resultText(await slow, 'long-running in A');
    expectEqual(progress.length + takeLateProgress(A, 3).length, 3, 'A\'s progress notifications');
  });

  // ---- ending sessions (B3) ---------------------------------------------------------------

  await checks.run(legacy ? 'closing A\'s SSE stream ends session A' : 'DELETE ends session A; its id then gets 404', async () => {
    if (legacy) {
      await A.client.close();
      return '';
    }
    const id = A.transport.sessionId;
    await A.transport.terminateSession();
    await A.client.close();
    const r = await fetch(endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-session-id': id,
        'mcp-protocol-version': A.transport.protocolVersion ?? '2025-06-18',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    await r.body?.cancel();
    expectEqual(r.status, 404, `POST with the ended session id ${id}`);
  });
  if (bridgePid) {
    await checks.run('session A\'s child exited and was reaped; B\'s still runs', async () => {
      const note = await expectChildGone(A);
      expect(pidExists(B.child), `B's child ${B.child} is gone too`);
      return note;
    });
  }

  await checks.run('session B still works after A ended', async () => {
    expectEqual(resultText(await callTool(B, 'echo', { message: `still here ${tag}` }), 'echo'), `Echo: still here ${tag}`, 'echo');
  });

  await checks.run(legacy ? 'closing B\'s SSE stream ends session B' : 'DELETE ends session B', async () => {
    if (!legacy) await B.transport.terminateSession();
    await B.client.close();
  });
  if (bridgePid) {
    await checks.run('session B\'s child exited and was reaped; no child process left', async () => {
      const note = await expectChildGone(B);
      const left = descendants(bridgePid);
      expect(left.length === 0, `left: ${describeProcs(left)}`);
      return note;
    });
  }

  const unexpected = [...(A?.errors ?? []), ...(B?.errors ?? [])]
    .filter((m) => !m.startsWith(lateProgressPrefix) && !/abort|closed|terminated/i.test(m));
  await checks.run('no unexpected transport errors reported by the SDK', async () => {
    expect(unexpected.length === 0, unexpected.join('\n'));
  });
} catch (e) {
  console.log(`not ok - unexpected exception: ${e?.stack ?? e}`);
  checks.failed += 1;
}
await checks.finish(async () => {
  await A?.client.close().catch(() => {});
  await B?.client.close().catch(() => {});
});
