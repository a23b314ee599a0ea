// Interop test: the official MCP TypeScript SDK client drives an mcpsse
// HTTP example server.
//
//   node http_client.mjs <base-url> [--legacy] [--echo-tool NAME] [--add-tool NAME]
//        [--progress-tool NAME] [--sampling-tool NAME] [--elicitation-tool NAME]
//        [--no-resumption]
//
// Without --legacy the Streamable HTTP transport is used against
// <base-url>/mcp; with --legacy, the HTTP+SSE transport against
// <base-url>/sse (the server tells the client where to POST).
//
// Tools under test (so the script can target different example servers);
// each option also reads an environment variable, and an empty name skips
// the checks that need the tool (except echo, which is required):
//   --echo-tool NAME         (INTEROP_ECHO_TOOL, default "echo"): takes
//                            {text: string}, returns it as one text item.
//   --add-tool NAME          (INTEROP_ADD_TOOL, default "add"): takes
//                            {a: number, b: number}, returns the sum as text.
//   --progress-tool NAME     (INTEROP_PROGRESS_TOOL, default "countdown"):
//                            takes {steps, interval_ms}; when the request has
//                            a progressToken it sends notifications/progress
//                            with progress 1..steps and total steps, one per
//                            interval; returns "done after <steps> steps".
//   --sampling-tool NAME     (INTEROP_SAMPLING_TOOL, default "ask_model"):
//                            takes {prompt}, sends sampling/createMessage to
//                            the client and returns the text of its answer.
//   --elicitation-tool NAME  (INTEROP_ELICITATION_TOOL, default "ask_user"):
//                            takes {}, sends elicitation/create asking for
//                            {name: string}; returns "hello, <name>" when the
//                            user accepts and "the user declined" otherwise.
//   --no-resumption          (INTEROP_RESUMPTION=0) skips the Streamable HTTP
//                            stream resumption checks (they use the progress
//                            tool and need resumable SSE streams).
// Environment: INTEROP_CONCURRENCY (default 50) concurrent tools/call
// requests; INTEROP_TIMEOUT_MS (default 90000) overall watchdog;
// INTEROP_REQUEST_TIMEOUT_MS (default 10000) per request.
//
// The resumption checks simulate a dropped connection on the client side: a
// fetch wrapper given to the SDK transport forwards the POST response
// stream of one tools/call event by event and aborts the HTTP connection
// after a few progress events. The SDK must then resume with GET and
// Last-Event-ID (by itself, or when asked to via the resumptionToken request
// option), and the call must complete with every progress step and the
// result exactly once.
//
// Prints one line per check and a closing "N passed, N failed" line; exits
// non-zero if any check failed.

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import {
  CallToolResultSchema,
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  McpError,
} from '@modelcontextprotocol/sdk/types.js';
import {
  Checks,
  assertTextContent,
  assertToolSchema,
  expect,
  expectEqual,
  expectedAddText,
  makeConcurrentCalls,
  requestOptions,
  sdkVersion,
} from './lib.mjs';

const usageText = 'usage: node http_client.mjs <base-url> [--legacy] [--echo-tool NAME] [--add-tool NAME]' +
  ' [--progress-tool NAME] [--sampling-tool NAME] [--elicitation-tool NAME] [--no-resumption]';

function usage(msg) {
  if (msg) console.error(`http_client: ${msg}`);
  console.error(usageText);
  console.log('0 passed, 1 failed');
  process.exit(2);
}

let baseUrl;
let legacy = false;
let echoTool = process.env.INTEROP_ECHO_TOOL ?? 'echo';
let addTool = process.env.INTEROP_ADD_TOOL ?? 'add';
let progressTool = process.env.INTEROP_PROGRESS_TOOL ?? 'countdown';
let samplingTool = process.env.INTEROP_SAMPLING_TOOL ?? 'ask_model';
let elicitationTool = process.env.INTEROP_ELICITATION_TOOL ?? 'ask_user';
let resumption = (process.env.INTEROP_RESUMPTION ?? '1') !== '0';
const argv = process.argv.slice(2);
const value = (i, flag) => argv[i] ?? usage(`${flag} needs a value`);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === '--legacy') legacy = true;
  else if (a === '--echo-tool') echoTool = value(++i, a);
  else if (a === '--add-tool') addTool = value(++i, a);
  else if (a === '--progress-tool') progressTool = value(++i, a);
  else if (a === '--sampling-tool') samplingTool = value(++i, a);
  else if (a === '--elicitation-tool') elicitationTool = value(++i, a);
  else if (a === '--no-resumption') resumption = false;
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
const runResumption = resumption && !legacy && Boolean(progressTool);

console.log(`# MCP TypeScript SDK ${sdkVersion()} on Node ${process.version}`);
console.log(`# ${kind} transport, endpoint ${endpoint.href}`);
console.log(`# tools: echo=${echoTool} add=${addTool || '(skipped)'} progress=${progressTool || '(skipped)'}` +
  ` sampling=${samplingTool || '(skipped)'} elicitation=${elicitationTool || '(skipped)'};` +
  ` resumption ${runResumption ? 'on' : 'off'}`);

// ---- client side of sampling and elicitation -------------------------------

// What the client answers; the checks set these before calling the tools.
const clientAnswers = {
  samplingText: 'interop sampled text',
  elicitation: { action: 'decline' },
};
// Requests the server sent to the client, for the checks to inspect.
const serverRequests = { sampling: [], elicitation: [] };

/** A client declaring sampling and elicitation, answering from clientAnswers. */
function makeClient(name) {
  const client = new Client({ name, version: '0.0.0' }, {
    capabilities: { sampling: {}, elicitation: {} },
  });
  client.setRequestHandler(CreateMessageRequestSchema, async (request) => {
    serverRequests.sampling.push(request.params);
    return {
      model: 'mcpsse-interop-model',
      role: 'assistant',
      content: { type: 'text', text: clientAnswers.samplingText },
      stopReason: 'endTurn',
    };
  });
  client.setRequestHandler(ElicitRequestSchema, async (request) => {
    serverRequests.elicitation.push(request.params);
    return clientAnswers.elicitation;
  });
  // Errors the SDK reports outside any request (say a progress notification
  // or response for an unknown id, or a dropped stream).
  client.errors = [];
  client.onerror = (e) => client.errors.push(e?.message ?? String(e));
  return client;
}

function makeTransport(options) {
  return legacy ? new SSEClientTransport(endpoint) : new StreamableHTTPClientTransport(endpoint, options);
}

async function connect(name, transportOptions) {
  const transport = makeTransport(transportOptions);
  const client = makeClient(name);
  await client.connect(transport, requestOptions);
  return { client, transport };
}

const callTool = (client, name, args, extra) =>
  client.callTool({ name, arguments: args }, undefined, { ...requestOptions, ...extra });

/** The single text item of a successful tools/call result. */
function resultText(res, what) {
  expect(!res.isError, `${what} returned isError: ${JSON.stringify(res)}`);
  expect(Array.isArray(res.content) && res.content.length === 1 && res.content[0].type === 'text',
    `${what} should return one text item, got ${JSON.stringify(res.content)}`);
  return res.content[0].text;
}

const lateProgressPrefix = 'Received a progress notification for an unknown token: ';

/**
 * Removes from client.errors the progress notifications with the given
 * total that the SDK received after the request had completed, and returns
 * their params. SDK 1.x runs notification handlers in a later microtask but
 * responses at once, so when a progress notification and the response come
 * in the same read (the HTTP+SSE transport parses a whole chunk at a time)
 * the response retires the progress handler first and the SDK reports the
 * notification as having an unknown token (typescript-sdk issue 2580).
 * The server sent it in time, so the checks count it as delivered.
 */
function takeLateProgress(client, total) {
  const late = [];
  client.errors = client.errors.filter((m) => {
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

/**
 * Asserts the progress notifications of one request were exactly 1..steps
 * of steps, in order: those given to onprogress, then those the SDK reported
 * late (see takeLateProgress). Returns a note about late ones.
 */
function assertProgressSteps(progress, steps, what, client) {
  const late = client ? takeLateProgress(client, steps) : [];
  const expected = Array.from({ length: steps }, (_, i) => ({ progress: i + 1, total: steps }));
  expectEqual([...progress, ...late].map((p) => ({ progress: p.progress, total: p.total })), expected,
    `${what}: progress notifications (in order of arrival${late.length ? `; the last ${late.length} reached the SDK after the result` : ''})`);
  return late.length ? `the last ${late.length} reached the SDK after the result, which reported an unknown token (typescript-sdk#2580)` : '';
}

const unexpectedErrors = (client, allowed = () => false) => client.errors.filter((m) => !allowed(m));

// ---- a fetch that sees every SSE event and can drop one response stream ----

function mediaType(response) {
  return (response.headers.get('content-type') ?? '').split(';')[0].trim().toLowerCase();
}

/**
 * Splits an SSE byte stream (as text) into events. push() returns the events
 * completed by the new text: {raw, id, event, data}, raw being the event's
 * text including the blank line that ends it.
 */
class SseSplitter {
  constructor() {
    this.pending = '';
  }

  push(text) {
    this.pending += text;
    const events = [];
    for (;;) {
      const m = /\r\n\r\n|\n\n|\r\r/.exec(this.pending);
      if (!m) break;
      const raw = this.pending.slice(0, m.index + m[0].length);
      this.pending = this.pending.slice(raw.length);
      const ev = { raw, id: undefined, event: undefined, data: undefined };
      for (const line of raw.slice(0, m.index).split(/\r\n|\n|\r/)) {
        if (line === '' || line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        let v = colon < 0 ? '' : line.slice(colon + 1);
        if (v.startsWith(' ')) v = v.slice(1);
        if (field === 'id') ev.id = v;
        else if (field === 'event') ev.event = v;
        else if (field === 'data') ev.data = ev.data === undefined ? v : `${ev.data}\n${v}`;
      }
      events.push(ev);
    }
    return events;
  }
}

/**
 * A fetch for StreamableHTTPClientTransport that records every exchange
 * (method, Last-Event-ID, SSE events received) and, when tap.dropPlan is
 * set, cuts the first matching POST response stream after
 * dropPlan.afterDataEvents events with data: the events up to there are
 * delivered, then the HTTP connection is aborted and the body errors as on
 * a network failure.
 */
function makeTap() {
  const tap = { exchanges: [], drops: [], dropPlan: null };
  tap.fetch = async (url, init = {}) => {
    const method = (init.method ?? 'GET').toUpperCase();
    const ex = {
      method,
      lastEventId: new Headers(init.headers).get('last-event-id'),
      body: typeof init.body === 'string' ? init.body : undefined,
      status: 0,
      events: [],
      dropped: false,
    };
    tap.exchanges.push(ex);
    let plan = null;
    if (tap.dropPlan && method === 'POST' && tap.dropPlan.match(ex.body)) {
      plan = tap.dropPlan;
      tap.dropPlan = null;
    }
    const local = new AbortController();
    const signal = init.signal ? AbortSignal.any([init.signal, local.signal]) : local.signal;
    const response = await fetch(url, { ...init, signal });
    ex.status = response.status;
    if (!response.body || mediaType(response) !== 'text/event-stream') return response;

    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    const encoder = new TextEncoder();
    const splitter = new SseSplitter();
    let dataEvents = 0;
    let finished = false;
    const body = new ReadableStream({
      // Loops until it has something to deliver: a pull that enqueues
      // nothing is not called again.
      async pull(controller) {
        while (!finished) {
          let r;
          try {
            r = await reader.read();
          } catch (e) {
            finished = true;
            controller.error(e);
            return;
          }
          if (r.done) {
            finished = true;
            const rest = splitter.pending + decoder.decode();
            if (plan && rest) controller.enqueue(encoder.encode(rest));
            controller.close();
            return;
          }
          const text = decoder.decode(r.value, { stream: true });
          const events = splitter.push(text);
          ex.events.push(...events);
          if (!plan) {
            controller.enqueue(r.value);
            return;
          }
          // Forward whole events only, so the cut falls between two events.
          let out = '';
          for (const ev of events) {
            out += ev.raw;
            if (ev.data) dataEvents += 1;
            if (dataEvents >= plan.afterDataEvents) {
              ex.events.length -= events.length - events.indexOf(ev) - 1;
              if (out) controller.enqueue(encoder.encode(out));
              finished = true;
              ex.dropped = true;
              tap.drops.push(ex);
              const err = new Error('interop: simulated connection drop');
              local.abort(err);
              reader.cancel(err).catch(() => {});
              controller.error(err);
              return;
            }
          }
          if (out) {
            controller.enqueue(encoder.encode(out));
            return;
          }
        }
      },
      cancel(reason) {
        finished = true;
        return reader.cancel(reason).catch(() => {});
      },
    });
    return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
  };
  return tap;
}

/** A dropPlan matcher: a POST body that is a tools/call of the named tool. */
function isCallOf(name) {
  return (body) => {
    try {
      const msg = JSON.parse(body);
      return msg?.method === 'tools/call' && msg.params?.name === name;
    } catch {
      return false;
    }
  };
}

async function waitFor(cond, ms, what) {
  const deadline = Date.now() + ms;
  while (!cond()) {
    expect(Date.now() < deadline, `timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * Checks the SSE events of a dropped POST stream and of the GET streams
 * that resumed it: the first resume asks for the last id delivered before
 * the drop; no event id arrives twice; ids of the form <stream>-<n> continue
 * without gaps; and the JSON-RPC response with responseId arrives exactly
 * once, after all progress notifications. Returns a summary.
 */
function assertResumedEvents(tap, responseId) {
  expect(tap.drops.length === 1,
    `the tools/call response stream was not cut (drops: ${tap.drops.length}); exchanges: ` +
    JSON.stringify(tap.exchanges.map((e) => ({ method: e.method, status: e.status, events: e.events.length }))));
  const dropped = tap.drops[0];
  const before = dropped.events.filter((e) => e.id !== undefined && e.id !== '');
  expect(before.length > 0, 'the server sent no event ids on the POST stream, so it cannot be resumed');
  const lastBefore = before.at(-1).id;
  const resumes = tap.exchanges.filter((e) => e.method === 'GET' && e.lastEventId !== null);
  expect(resumes.length >= 1, 'the client never sent GET with Last-Event-ID after the drop');
  expect(resumes[0].lastEventId === lastBefore,
    `the first resume sent Last-Event-ID ${JSON.stringify(resumes[0].lastEventId)}, expected ${JSON.stringify(lastBefore)}`);
  expect(resumes[0].status === 200, `the resuming GET got HTTP ${resumes[0].status}`);
  const after = resumes.flatMap((e) => e.events);
  const all = [...dropped.events, ...after];
  const ids = all.map((e) => e.id).filter((id) => id !== undefined && id !== '');
  const dup = ids.filter((id, i) => ids.indexOf(id) !== i);
  expect(dup.length === 0, `event ids delivered twice: ${JSON.stringify(dup)}; all ids ${JSON.stringify(ids)}`);
  const parsed = ids.map((id) => /^(.*)-(\d+)$/.exec(id));
  if (parsed.every(Boolean) && new Set(parsed.map((m) => m[1])).size === 1) {
    const seq = parsed.map((m) => Number(m[2]));
    const gaps = seq.slice(1).filter((n, i) => n !== seq[i] + 1);
    expect(gaps.length === 0, `event id sequence has gaps or goes back: ${JSON.stringify(ids)}`);
  }
  const messages = all.filter((e) => e.data).map((e) => JSON.parse(e.data));
  const responses = messages.filter((m) => m.id === responseId && ('result' in m || 'error' in m));
  expect(responses.length === 1, `the response to request ${responseId} arrived ${responses.length} times`);
  expect(messages.at(-1) === responses[0], 'the response was not the last message of the call');
  return `cut after ${lastBefore}, resumed with ${resumes.length} GET(s), ` +
    `${after.filter((e) => e.data).length} messages after the cut, ids ${ids[0]}..${ids.at(-1)}`;
}

const requestIdOf = (exchange) => JSON.parse(exchange.body).id;

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

const listedTools = [echoTool, addTool, progressTool, samplingTool, elicitationTool].filter(Boolean);
await checks.run(`tools/list includes ${listedTools.join(', ')}`, async () => {
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
  const missing = [progressTool, samplingTool, elicitationTool].filter((n) => n && !names.includes(n));
  expect(missing.length === 0, `tools missing: ${JSON.stringify(missing)}; tools: ${JSON.stringify(names)}`);
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

if (progressTool) {
  await checks.run(`tools/call ${progressTool} with onprogress gets progress 1..6 in order, then the result`, async () => {
    const steps = 6;
    const progress = [];
    const res = await callTool(main.client, progressTool, { steps, interval_ms: 20 }, {
      onprogress: (p) => progress.push(p),
    });
    const lateNote = assertProgressSteps(progress, steps, progressTool, main.client);
    expectEqual(resultText(res, progressTool), `done after ${steps} steps`, `${progressTool} result`);
    const stray = unexpectedErrors(main.client);
    expect(stray.length === 0, `client errors: ${stray.join('; ')}`);
    return [`${progress.length} notifications to onprogress`, lateNote].filter(Boolean).join('; ');
  });

  await checks.run(`5 concurrent ${progressTool} calls each get only their own progress`, async () => {
    const lists = [[], [], [], [], []];
    const results = await Promise.all(lists.map((list, i) =>
      callTool(main.client, progressTool, { steps: 3 + i, interval_ms: 10 }, { onprogress: (p) => list.push(p) })));
    const notes = [];
    results.forEach((res, i) => {
      const note = assertProgressSteps(lists[i], 3 + i, `${progressTool} #${i}`, main.client);
      if (note) notes.push(`#${i}: ${note}`);
      expectEqual(resultText(res, progressTool), `done after ${3 + i} steps`, `${progressTool} #${i} result`);
    });
    const stray = unexpectedErrors(main.client);
    expect(stray.length === 0, `client errors: ${stray.join('; ')}`);
    return notes.join('; ');
  });
}

if (samplingTool) {
  await checks.run(`tools/call ${samplingTool}: sampling/createMessage round trip returns the client's text`, async () => {
    const tag = Math.random().toString(36).slice(2, 8);
    clientAnswers.samplingText = `sampled answer ${tag} \u00e9\u4e16 "q"`;
    serverRequests.sampling.length = 0;
    const prompt = `interop prompt ${tag}`;
    const res = await callTool(main.client, samplingTool, { prompt });
    expect(serverRequests.sampling.length === 1,
      `the client's sampling handler ran ${serverRequests.sampling.length} times, expected once`);
    const req = serverRequests.sampling[0];
    expect(JSON.stringify(req.messages ?? []).includes(prompt),
      `the sampling request should carry the prompt ${JSON.stringify(prompt)}, got ${JSON.stringify(req)}`);
    const text = resultText(res, samplingTool);
    expect(text.includes(clientAnswers.samplingText),
      `${samplingTool} result should contain ${JSON.stringify(clientAnswers.samplingText)}, got ${JSON.stringify(text)}`);
    return `maxTokens ${req.maxTokens}`;
  });
}

if (elicitationTool) {
  await checks.run(`tools/call ${elicitationTool}: elicitation/create accepted with name "Ada" returns "hello, Ada"`, async () => {
    clientAnswers.elicitation = { action: 'accept', content: { name: 'Ada' } };
    serverRequests.elicitation.length = 0;
    const res = await callTool(main.client, elicitationTool, {});
    expect(serverRequests.elicitation.length === 1,
      `the client's elicitation handler ran ${serverRequests.elicitation.length} times, expected once`);
    const req = serverRequests.elicitation[0];
    expect(req.requestedSchema?.properties?.name?.type === 'string',
      `the elicitation request should ask for name: string, got ${JSON.stringify(req)}`);
    expectEqual(resultText(res, elicitationTool), 'hello, Ada', `${elicitationTool} result`);
    return `message ${JSON.stringify(req.message)}`;
  });

  await checks.run(`tools/call ${elicitationTool}: elicitation/create declined returns "the user declined"`, async () => {
    clientAnswers.elicitation = { action: 'decline' };
    serverRequests.elicitation.length = 0;
    const res = await callTool(main.client, elicitationTool, {});
    expect(serverRequests.elicitation.length === 1,
      `the client's elicitation handler ran ${serverRequests.elicitation.length} times, expected once`);
    expectEqual(resultText(res, elicitationTool), 'the user declined', `${elicitationTool} result`);
  });
}

if (samplingTool && elicitationTool && progressTool) {
  await checks.run('sampling, elicitation and progress calls interleaved on one session', async () => {
    clientAnswers.samplingText = 'interleaved sample';
    clientAnswers.elicitation = { action: 'accept', content: { name: 'Ada' } };
    const progress = [];
    const [s, e, p] = await Promise.all([
      callTool(main.client, samplingTool, { prompt: 'interleaved' }),
      callTool(main.client, elicitationTool, {}),
      callTool(main.client, progressTool, { steps: 4, interval_ms: 15 }, { onprogress: (x) => progress.push(x) }),
    ]);
    expect(resultText(s, samplingTool).includes('interleaved sample'), `${samplingTool}: ${JSON.stringify(s)}`);
    expectEqual(resultText(e, elicitationTool), 'hello, Ada', `${elicitationTool} result`);
    const note = assertProgressSteps(progress, 4, progressTool, main.client);
    expectEqual(resultText(p, progressTool), 'done after 4 steps', `${progressTool} result`);
    return note;
  });
}

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

if (runResumption) {
  const reconnection = { initialReconnectionDelay: 200, maxReconnectionDelay: 1000, reconnectionDelayGrowFactor: 1.5 };

  await checks.run(`${progressTool}: after the response stream drops mid-call the SDK resumes it (GET, Last-Event-ID); ` +
    'every progress step and the result arrive once', async () => {
    const tap = makeTap();
    const { client } = await connect('mcpsse-interop-resume', {
      fetch: tap.fetch,
      reconnectionOptions: { ...reconnection, maxRetries: 3 },
    });
    try {
      const steps = 10;
      tap.dropPlan = { afterDataEvents: 3, match: isCallOf(progressTool) };
      const progress = [];
      const tokens = [];
      const res = await callTool(client, progressTool, { steps, interval_ms: 40 }, {
        onprogress: (p) => progress.push(p),
        onresumptiontoken: (t) => tokens.push(t),
      });
      const summary = assertResumedEvents(tap, requestIdOf(tap.drops[0]));
      assertProgressSteps(progress, steps, progressTool, client);
      expectEqual(resultText(res, progressTool), `done after ${steps} steps`, `${progressTool} result`);
      const ids = [tap.drops[0], ...tap.exchanges.filter((e) => e.method === 'GET' && e.lastEventId !== null)]
        .flatMap((e) => e.events).map((e) => e.id).filter(Boolean);
      expectEqual(tokens, ids, 'resumption tokens reported through onresumptiontoken');
      const stray = unexpectedErrors(client, (m) => m.includes('simulated connection drop'));
      expect(stray.length === 0, `client errors: ${stray.join('; ')}`);
      return summary;
    } finally {
      await client.close().catch(() => {});
    }
  });

  await checks.run(`${progressTool}: when the server ends the stream's connection mid-call (SSE polling, drop_after) ` +
    'the SDK resumes with GET + Last-Event-ID; every progress step and the result arrive once', async () => {
    const tap = makeTap();
    const { client } = await connect('mcpsse-interop-server-drop', {
      fetch: tap.fetch,
      reconnectionOptions: { ...reconnection, maxRetries: 3 },
    });
    try {
      const steps = 6;
      const progress = [];
      const res = await callTool(client, progressTool, { steps, interval_ms: 40, drop_after: 2 }, {
        onprogress: (p) => progress.push(p),
      });
      assertProgressSteps(progress, steps, progressTool, client);
      expectEqual(resultText(res, progressTool), `done after ${steps} steps`, `${progressTool} result`);
      const resumed = tap.exchanges.filter((e) => e.method === 'GET' && e.lastEventId !== null);
      expect(resumed.length >= 1, 'the client never resumed with GET + Last-Event-ID');
      const posts = tap.exchanges.filter((e) => e.method === 'POST' && isCallOf(progressTool)(e.body));
      expect(posts.length === 1, `the call was POSTed ${posts.length} times`);
      const stray = unexpectedErrors(client, () => false);
      expect(stray.length === 0, `client errors: ${stray.join('; ')}`);
      return `${resumed.length} resumption(s), Last-Event-ID ${resumed[0].lastEventId}`;
    } finally {
      await client.close().catch(() => {});
    }
  });

  await checks.run(`${progressTool}: a call whose stream dropped is resumed with the resumptionToken request option`, async () => {
    const tap = makeTap();
    // No automatic reconnection: the application resumes by itself.
    const { client } = await connect('mcpsse-interop-resume-token', {
      fetch: tap.fetch,
      reconnectionOptions: { ...reconnection, maxRetries: 0 },
    });
    const abandon = new AbortController();
    try {
      const steps = 8;
      tap.dropPlan = { afterDataEvents: 2, match: isCallOf(progressTool) };
      const progress = [];
      const tokens = [];
      const params = { name: progressTool, arguments: { steps, interval_ms: 40 } };
      const first = client.callTool(params, undefined, {
        ...requestOptions,
        signal: abandon.signal,
        onprogress: (p) => progress.push(p),
        onresumptiontoken: (t) => tokens.push(t),
      });
      first.catch(() => {});
      await waitFor(() => tap.drops.length === 1, 5000, 'the stream to be cut');
      const token = tokens.at(-1);
      expect(token, 'no resumption token was reported before the drop');
      // Replayed progress keeps the first request's token, so it reaches the
      // first request's onprogress; the result is delivered under the new id.
      const res = await client.request({ method: 'tools/call', params }, CallToolResultSchema, {
        ...requestOptions,
        resumptionToken: token,
        onresumptiontoken: (t) => tokens.push(t),
      });
      const summary = assertResumedEvents(tap, requestIdOf(tap.drops[0]));
      assertProgressSteps(progress, steps, progressTool, client);
      expectEqual(resultText(res, progressTool), `done after ${steps} steps`, `${progressTool} result`);
      expect(tap.exchanges.filter((e) => e.method === 'POST' && isCallOf(progressTool)(e.body)).length === 1,
        'the resumed call was POSTed again instead of resumed');
      const stray = unexpectedErrors(client,
        (m) => m.includes('simulated connection drop') || m.includes('Maximum reconnection attempts'));
      expect(stray.length === 0, `client errors: ${stray.join('; ')}`);
      return summary;
    } finally {
      abandon.abort();
      await client.close().catch(() => {});
    }
  });
}

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
