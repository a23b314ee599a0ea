// Interop test (deploy_kill.sh): the kill test. An official MCP TypeScript SDK client
// (1.x, Streamable HTTP with a session) talks through HAProxy round-robin to three
// everything_server instances that share sessions and events through Redis; the
// instance answering its long tool call is killed with SIGKILL in the middle of it.
//
//   node deploy_kill_client.mjs <mcp-url> <deploy-dir>
//
// <deploy-dir> is examples/deploy/run.sh's --dir: `instances` (NAME PORT PID per
// line) and `redis/info` (PID PORT). The environment gives DEPLOY_KILL_LEASE_MS (the
// instances' --instance-lease-ms) and DEPLOY_KILL_REDIS_CLI (redis-cli's path).
//
// The flow:
//   1. connect; the SDK opens the standalone GET stream after `initialized`; the
//      instance holding it is the one whose mcpsse_sse_streams_open rose;
//   2. ping until HAProxy's round-robin points at that instance (each ping's instance
//      is the one whose mcpsse_rpc_requests_total{method="ping"} rose), so that the
//      long call lands on the instance that also holds the standalone stream;
//   3. tools/call `slow_compute` (4 s, a progress notification every 100 ms, the
//      progress value = elapsed ms: 100, 200, ... 4000) with a progress token;
//      after 8 notifications the instance whose mcpsse_rpc_requests_in_flight is 1
//      is sent SIGKILL;
//   4. the SDK reconnects both streams (GET + Last-Event-ID) through HAProxy to the
//      survivors; once the dead instance's lease has expired, the instance reached
//      replays the stored events and answers the call with a JSON-RPC error: the
//      callTool promise must reject with -32603, data.reason "instance_lost", within
//      lease + first reconnection delay + 5 s of the kill (DEPLOY_KILL_RECONNECT_MS,
//      DEPLOY_KILL_EARLY: see below);
//   5. Redis (XRANGE of mcpsse:{<session>}:events:<stream>) is compared with what the
//      client received: every stored progress notification arrived exactly once, in
//      order, with no gap (100, 200, ..., k*100); lost = scheduled (40) - stored;
//   6. the session goes on: `greet` through HAProxy answers, and a tools/list_changed
//      notification (test_trigger_tool_change, called until the instance holding the
//      resumed standalone stream served it) reaches the client on its standalone stream;
//   7. the call is answered once: one error response in Redis (the SDK resumes after
//      an error response too; the instance it reaches must add nothing).
// Every HTTP exchange is logged with its time, method, Last-Event-ID and status; the
// log is printed when a check fails. Prints one line per check and "N passed,
// N failed"; exits non-zero when a check failed.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpError, ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { Checks, expect, sdkVersion } from './lib.mjs';

const [url, deployDir] = process.argv.slice(2);
if (!url || !deployDir) {
  console.error('usage: node deploy_kill_client.mjs <mcp-url> <deploy-dir>');
  console.log('0 passed, 1 failed');
  process.exit(2);
}
const leaseMs = Number(process.env.DEPLOY_KILL_LEASE_MS ?? 1000);
const redisCli = process.env.DEPLOY_KILL_REDIS_CLI ?? 'redis-cli';
const workMs = 4000; // slow_compute's duration
const stepMs = 100; // its progress interval
const scheduled = workMs / stepMs; // progress notifications it would send, uninterrupted
const killAfter = 8; // progress notifications received before the kill
// DEPLOY_KILL_RECONNECT_MS: the SDK's first reconnection delay. Longer than the lease
// (the default here), the first resumption finds the dead instance's lease gone. Shorter
// (DEPLOY_KILL_EARLY=1), it comes while the lease still runs: the instance it reaches
// then waits for the stream's next events or for the lease to lapse, and answers with
// the error once it has.
const reconnectMs = Number(process.env.DEPLOY_KILL_RECONNECT_MS ?? leaseMs + 500);
const early = process.env.DEPLOY_KILL_EARLY === '1';
const reconnect = {
  initialReconnectionDelay: reconnectMs,
  maxReconnectionDelay: Math.max(1000, reconnectMs),
  reconnectionDelayGrowFactor: 1.5,
  maxRetries: 20,
};
// The error must come within the lease, plus reconnection delays, plus a margin.
const errorBoundMs = leaseMs + reconnectMs + 5000;

const instances = readFileSync(path.join(deployDir, 'instances'), 'utf8').trim().split('\n')
  .map((line) => {
    const [name, port, pid] = line.trim().split(/\s+/);
    return { name, port: Number(port), pid: Number(pid) };
  });
const redisPort = Number(readFileSync(path.join(deployDir, 'redis', 'info'), 'utf8').trim().split(/\s+/)[1]);
const byName = (name) => instances.find((i) => i.name === name);

const checks = new Checks(60000);
const t0 = Date.now();
const at = () => `${String(Date.now() - t0).padStart(5)} ms`;
console.log(`# MCP TypeScript SDK ${sdkVersion()} on Node ${process.version}; endpoint ${url}; ` +
  `instances ${instances.map((i) => `${i.name}:${i.port}`).join(' ')}; lease ${leaseMs} ms, ` +
  `first reconnection after ${reconnectMs} ms${early ? ' (within the lease)' : ''}`);

// ---- HTTP exchanges, with times ---------------------------------------------------------
const exchanges = [];
const headerOf = (init, name) => {
  const h = init?.headers;
  if (!h) return undefined;
  if (h instanceof Headers) return h.get(name) ?? undefined;
  const key = Object.keys(h).find((k) => k.toLowerCase() === name);
  return key ? h[key] : undefined;
};
const loggingFetch = async (input, init) => {
  const x = { t: Date.now() - t0, method: init?.method ?? 'GET', lastEventId: headerOf(init, 'last-event-id') };
  if (x.method === 'POST' && typeof init?.body === 'string') {
    try {
      const m = JSON.parse(init.body);
      x.what = m.method ? `${m.method}${m.params?.name ? ` ${m.params.name}` : ''}` : 'response';
    } catch { /* not JSON */ }
  }
  exchanges.push(x);
  try {
    const response = await fetch(input, init);
    x.status = response.status;
    x.tStatus = Date.now() - t0;
    return response;
  } catch (e) {
    x.status = `exception ${e?.message ?? e}`;
    throw e;
  }
};
const exchangeLog = () => exchanges.map((x) => `${String(x.t).padStart(5)} ms ${x.method}` +
  `${x.what ? ` ${x.what}` : ''}${x.lastEventId ? ` Last-Event-ID ${x.lastEventId}` : ''} -> ${x.status}`);

// ---- metrics and Redis -------------------------------------------------------------------
async function metric(instance, name, labelPart = '') {
  const response = await fetch(`http://127.0.0.1:${instance.port}/metrics`, { signal: AbortSignal.timeout(2000) });
  const text = await response.text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== '{' && rest[0] !== ' ') continue;
    if (labelPart && !rest.includes(labelPart)) continue;
    sum += Number(line.trim().split(/\s+/).at(-1));
  }
  return sum;
}
async function metricAll(name, labelPart, only = instances) {
  const values = {};
  for (const i of only) values[i.name] = await metric(i, name, labelPart);
  return values;
}
// The instance whose metric rose by one or more between `before` and now.
async function whichRose(before, name, labelPart, only = instances) {
  const after = await metricAll(name, labelPart, only);
  return Object.keys(after).filter((n) => after[n] > (before[n] ?? 0));
}
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
async function waitFor(what, fn, ms) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(25);
  }
}
function redis(...args) {
  return execFileSync(redisCli, ['-p', String(redisPort), '--raw', ...args], { encoding: 'utf8' });
}

// ---- the client ----------------------------------------------------------------------------
const client = new Client({ name: 'mcpsse-deploy-kill', version: '1.0.0' }, { capabilities: {} });
const transport = new StreamableHTTPClientTransport(new URL(url), { fetch: loggingFetch, reconnectionOptions: reconnect });
const transportErrors = [];
client.onerror = (e) => transportErrors.push(`${at()}: ${e?.message ?? e}`);
const listChanged = [];
client.setNotificationHandler(ToolListChangedNotificationSchema, () => { listChanged.push(Date.now() - t0); });

const dump = () => {
  console.log('# HTTP exchanges (time since start, method, Last-Event-ID, status):');
  for (const line of exchangeLog()) console.log(`#   ${line}`);
  console.log(`# transport errors reported to the client: ${transportErrors.length}`);
  for (const line of transportErrors) console.log(`#   ${line}`);
};
const bail = async () => {
  dump();
  await checks.finish(() => transport.close());
};

let getHolder;
let sessionId;
const streamsBefore = await metricAll('mcpsse_sse_streams_open', 'kind="standalone"');
if (!await checks.run('the SDK client initializes through HAProxy and opens its standalone GET stream', async () => {
  await client.connect(transport, { timeout: 10000 });
  sessionId = transport.sessionId;
  expect(sessionId, 'no Mcp-Session-Id');
  await waitFor('the GET stream (200)', () => exchanges.some((x) => x.method === 'GET' && x.status === 200), 5000);
  const rose = await waitFor('an instance with the GET stream open (mcpsse_sse_streams_open)',
    async () => { const r = await whichRose(streamsBefore, 'mcpsse_sse_streams_open', 'kind="standalone"'); return r.length === 1 && r; }, 5000);
  getHolder = byName(rose[0]);
  return `session ${sessionId}; standalone stream on ${getHolder.name}`;
})) await bail();

// Steer HAProxy's round-robin so that the next request (the long call) goes to getHolder.
const order = instances.map((i) => i.name);
const nextAfter = (name) => order[(order.indexOf(name) + 1) % order.length];
await checks.run('pings steer the round-robin towards the instance holding the standalone stream', async () => {
  const served = [];
  for (let n = 0; n < 4; n++) {
    const before = await metricAll('mcpsse_rpc_requests_total', 'method="ping"');
    await client.ping();
    const rose = await whichRose(before, 'mcpsse_rpc_requests_total', 'method="ping"');
    served.push(rose.join('+'));
    if (rose.length === 1 && nextAfter(rose[0]) === getHolder.name) return `pings served by ${served.join(', ')}`;
  }
  throw new Error(`pings served by ${served.join(', ')}; never before ${getHolder.name}`);
});

// ---- the long call and the kill -------------------------------------------------------------
const progress = []; // progress values, in arrival order
const progressTimes = [];
const tokens = [];
let onEnoughProgress;
const enoughProgress = new Promise((resolve) => { onEnoughProgress = resolve; });
const callStart = Date.now();
const inFlightBefore = await metricAll('mcpsse_rpc_requests_in_flight');
const call = client.callTool({ name: 'slow_compute', arguments: { seconds: workMs / 1000, progress_ms: stepMs, label: 'kill' } },
  undefined, {
    timeout: 30000,
    onprogress: (p) => {
      progress.push(p.progress);
      progressTimes.push(Date.now() - t0);
      if (progress.length === killAfter) onEnoughProgress();
    },
    onresumptiontoken: (token) => tokens.push(token),
  });
const outcome = call.then((result) => ({ result, t: Date.now() }), (error) => ({ error, t: Date.now() }));

let victim;
let killedAt;
let progressAtKill;
if (!await checks.run(`${killAfter} progress notifications arrive, the instance answering the call is found and SIGKILLed`, async () => {
  const early = await Promise.race([enoughProgress.then(() => null), outcome, sleep(5000).then(() => 'timeout')]);
  expect(early === null, early === 'timeout' ? `only ${progress.length} progress notifications in 5 s`
    : `the call ended before the kill: ${JSON.stringify(early?.result ?? early?.error?.message)}`);
  const inFlight = await metricAll('mcpsse_rpc_requests_in_flight');
  const busy = Object.keys(inFlight).filter((n) => inFlight[n] > (inFlightBefore[n] ?? 0));
  expect(busy.length === 1, `instances with a request in flight: ${JSON.stringify(inFlight)}`);
  victim = byName(busy[0]);
  progressAtKill = progress.length;
  process.kill(victim.pid, 'SIGKILL');
  killedAt = Date.now();
  return `${victim.name} (pid ${victim.pid}) at ${killedAt - t0} ms, ${killedAt - callStart} ms into the call, ` +
    `after ${progressAtKill} notifications; the standalone stream was ${victim === getHolder ? 'on it too' : `on ${getHolder.name}`}`;
})) await bail();

// ---- the client is told --------------------------------------------------------------------
const waitMs = errorBoundMs + (early ? 0 : 5000);
const ended = await Promise.race([outcome, sleep(waitMs).then(() => null)]);
await checks.run(`the call fails with -32603, data.reason "instance_lost", within ${errorBoundMs} ms of the kill`, async () => {
  expect(ended, `the call had not ended ${waitMs} ms after the kill`);
  expect(!ended.result, `the call succeeded: ${JSON.stringify(ended.result)}`);
  const e = ended.error;
  expect(e instanceof McpError, `not an McpError: ${e?.constructor?.name}: ${e?.message}`);
  expect(e.code === -32603, `code ${e.code}: ${e.message}`);
  expect(e.data?.reason === 'instance_lost', `data ${JSON.stringify(e.data)}`);
  const ms = ended.t - killedAt;
  expect(ms <= errorBoundMs, `the error came ${ms} ms after the kill`);
  return `after ${ms} ms: ${e.message}`;
});

// ---- what was stored, what arrived, what was lost ------------------------------------------
// The call's stream: the one its first event id names.
const postStream = tokens.length ? tokens[0].split('-')[0] : undefined;
let stored = [];
await checks.run('every progress notification stored before the kill reached the client exactly once, in order', async () => {
  expect(postStream, 'no event id (resumption token) seen on the call\'s stream');
  const others = tokens.filter((t) => t.split('-')[0] !== postStream);
  if (others.length) console.log(`# event ids of other streams delivered to the call's stream handler: ${others.join(' ')}`);
  if (!early) expect(others.length === 0, `event ids of several streams: ${tokens.join(' ')}`);
  const key = `mcpsse:{${sessionId}}:events:${postStream}`;
  const raw = redis('XRANGE', key, '-', '+').trim().split('\n');
  // --raw XRANGE: entry id, field name, value, per entry.
  for (let n = 0; n + 2 < raw.length; n += 3) stored.push({ id: raw[n], message: JSON.parse(raw[n + 2]) });
  const storedProgress = stored.filter((s) => s.message.method === 'notifications/progress').map((s) => s.message.params.progress);
  const errors = stored.filter((s) => s.message.error);
  console.log(`# Redis ${key}: ${stored.length} events: ${storedProgress.length} progress, ` +
    `${errors.length} error responses${errors.length ? ` (${errors.map((s) => s.id).join(' ')})` : ''}, ` +
    `${stored.length - storedProgress.length - errors.length} other`);
  expect(storedProgress.length > 0, 'no progress notification in Redis');
  expect(JSON.stringify(progress) === JSON.stringify(storedProgress),
    `received ${JSON.stringify(progress)}\nstored   ${JSON.stringify(storedProgress)}`);
  const expected = storedProgress.map((_, n) => (n + 1) * stepMs);
  expect(JSON.stringify(storedProgress) === JSON.stringify(expected), `stored values have gaps: ${JSON.stringify(storedProgress)}`);
  if (!early) {
    expect(errors.length === 1 && errors[0].message.error?.data?.reason === 'instance_lost',
      `stored error responses: ${JSON.stringify(errors.map((s) => s.message))}`);
  }
  const lost = scheduled - storedProgress.length;
  // What the tool had sent by the kill, by its schedule (100 ms apart from the call's start).
  const dueByKill = Math.min(scheduled, Math.floor((killedAt - callStart) / stepMs));
  console.log(`# progress: scheduled ${scheduled}, received ${progress.length} (${progressAtKill} before the kill), ` +
    `stored ${storedProgress.length}, lost ${lost} (never stored: the instance died ${killedAt - callStart} ms into ` +
    `${workMs} ms of work, about ${dueByKill} were due by then); the result: never stored, replaced by the error`);
  return `${progress.length} received = ${storedProgress.length} stored; lost ${lost} of ${scheduled}`;
});

// ---- the session goes on --------------------------------------------------------------------
await checks.run('the session goes on: greet through HAProxy answers', async () => {
  const result = await client.callTool({ name: 'greet', arguments: { name: 'after the kill' } }, undefined, { timeout: 10000 });
  expect(result?.content?.[0]?.text === 'Hello, after the kill!', `answer ${JSON.stringify(result)}`);
});
const survivors = instances.filter((i) => i !== victim);
await checks.run('a notification reaches the client on its resumed standalone stream (tools/list_changed)', async () => {
  const holders = await waitFor('a survivor holding the resumed standalone stream', async () => {
    const open = await metricAll('mcpsse_sse_streams_open', 'kind="standalone"', survivors);
    const h = Object.keys(open).filter((n) => open[n] > 0);
    return h.length ? h : undefined;
  }, errorBoundMs);
  const calls = [];
  for (let n = 0; n < 4 && listChanged.length === 0; n++) {
    const before = await metricAll('mcpsse_tool_calls_total', 'tool="test_trigger_tool_change"', survivors);
    await client.callTool({ name: 'test_trigger_tool_change', arguments: {} }, undefined, { timeout: 10000 });
    const rose = await whichRose(before, 'mcpsse_tool_calls_total', 'tool="test_trigger_tool_change"', survivors);
    calls.push(rose.join('+'));
    if (holders.includes(rose[0])) {
      await waitFor('notifications/tools/list_changed', () => listChanged.length > 0, 3000);
    }
  }
  expect(listChanged.length > 0, `no tools/list_changed; trigger calls served by ${calls.join(', ')}; ` +
    `standalone stream on ${holders.join(', ')}`);
  return `standalone stream on ${holders.join('+')}; trigger calls served by ${calls.join(', ')}`;
});

// A request answered once: the SDK resumes a stream that ended without a *result*
// (an error response does not count), so it may come back after the error.
await sleep(1500);
const postResumes = exchanges.filter((x) => x.method === 'GET' && x.lastEventId?.startsWith(`${postStream}-`));
const afterError = postResumes.filter((x) => ended && x.t > ended.t - t0);
// A resumption after the error response finds it among the stream's stored events and
// adds nothing.
await checks.run('the call is answered once (no further error response after the first)', async () => {
  const key = `mcpsse:{${sessionId}}:events:${postStream}`;
  const raw = redis('XRANGE', key, '-', '+').trim().split('\n');
  const errors = [];
  for (let n = 0; n + 2 < raw.length; n += 3) if (JSON.parse(raw[n + 2]).error) errors.push(raw[n]);
  expect(errors.length === 1, `${errors.length} error responses stored (${errors.join(' ')}); ` +
    `${afterError.length} resumptions of the call's stream after the error`);
  return `${postResumes.length} resumptions of the call's stream, ${afterError.length} after the error`;
});

console.log(`# resumptions of the call's stream: ${postResumes.map((x) => `${x.t} ms -> ${x.status}`).join(', ')}`);
console.log(`# progress arrival times (ms): ${progressTimes.join(' ')}`);
if (checks.failed) dump();
else console.log(`# transport errors reported to the client: ${transportErrors.length}` +
  `${transportErrors.length ? ` (first: ${transportErrors[0]})` : ''}`);
await checks.finish(() => transport.close());
