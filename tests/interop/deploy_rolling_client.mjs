// Interop test (deploy_rolling.sh): a steady load of official MCP TypeScript SDK
// clients (1.x, Streamable HTTP with sessions) through HAProxy round-robin over
// everything_server instances that share their sessions through Redis, while the
// test restarts the instances one after another.
//
//   node deploy_rolling_client.mjs <mcp-url> <sessions> <control-dir>
//
// <sessions> SDK clients, each with a session of its own (initialize through
// HAProxy), each calling the `greet` tool in a closed loop (the next call starts
// when the previous one ended) with a name unique to the call, so every answer is
// checked against its own request. Every call that does not end with exactly
// "Hello, <name>!" is a failure, counted by kind: an HTTP error status, a JSON-RPC
// error, a tool error (isError), a transport exception (a refused or reset
// connection), a timeout (INTEROP_REQUEST_TIMEOUT_MS, default 5 s here), or a wrong
// answer. A fetch wrapper counts every HTTP exchange by method and status (the SDK's
// GET streams included) and the transports' onerror events.
//
// Control files in <control-dir>: the client writes `running` once every session is
// initialized and has made one call; the caller may write a phase name into `phase`
// (read every 20 ms; calls and failures are also counted per phase, by the phase in
// which the call started); the client stops the loops when `stop` appears, or after
// INTEROP_LOAD_MAX_MS (default 60 s). It then writes `summary.json` (the counts and
// call latencies) and prints one line per check, then "N passed, N failed"; it exits
// non-zero when a check failed: every session made calls, none failed, and no
// transport error was reported.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Checks, expect, sdkVersion } from './lib.mjs';

const [url, sessionsText, controlDir] = process.argv.slice(2);
const sessionCount = Number(sessionsText);
if (!url || !Number.isInteger(sessionCount) || sessionCount < 1 || !controlDir) {
  console.error('usage: node deploy_rolling_client.mjs <mcp-url> <sessions> <control-dir>');
  console.log('0 passed, 1 failed');
  process.exit(2);
}
const callTimeoutMs = Number(process.env.INTEROP_REQUEST_TIMEOUT_MS ?? 5000);
const maxMs = Number(process.env.INTEROP_LOAD_MAX_MS ?? 60000);
const stopFile = path.join(controlDir, 'stop');
const phaseFile = path.join(controlDir, 'phase');
let phase = 'start';
// phase name -> { calls, failed }
const phases = new Map();
const phaseCount = (name) => {
  if (!phases.has(name)) phases.set(name, { calls: 0, failed: 0 });
  return phases.get(name);
};
const latencies = [];

const checks = new Checks(maxMs + 30000);
console.log(`# MCP TypeScript SDK ${sdkVersion()} on Node ${process.version}; endpoint ${url}; ` +
  `${sessionCount} sessions, call timeout ${callTimeoutMs} ms`);

// "METHOD STATUS" -> count, over every HTTP exchange of every client.
const exchanges = new Map();
const countExchange = (key) => exchanges.set(key, (exchanges.get(key) ?? 0) + 1);
const countingFetch = async (input, init) => {
  const method = init?.method ?? 'GET';
  try {
    const response = await fetch(input, init);
    countExchange(`${method} ${response.status}`);
    return response;
  } catch (e) {
    countExchange(`${method} exception`);
    throw e;
  }
};

// The kind of a failed call, for the counts.
function failureKind(e) {
  const text = `${e?.constructor?.name ?? ''} ${e?.message ?? e}`;
  if (/timed? ?out/i.test(text) || e?.code === -32001) return 'timeout';
  if (/HTTP \d{3}|Error POSTing|status \d{3}/i.test(text) || e?.code >= 400 && e?.code < 600) return 'http';
  if (e?.code !== undefined && Number.isInteger(e.code) && e.code < 0) return 'jsonrpc';
  return 'transport';
}

const sessions = [];
for (let n = 0; n < sessionCount; n++) {
  const s = {
    n,
    client: new Client({ name: `mcpsse-deploy-rolling-${n}`, version: '1.0.0' }, { capabilities: {} }),
    transport: new StreamableHTTPClientTransport(new URL(url), { fetch: countingFetch }),
    calls: 0,
    ok: 0,
    failures: { http: 0, jsonrpc: 0, tool: 0, transport: 0, timeout: 0, wrong: 0 },
    examples: [],
    transportErrors: 0,
    transportErrorExamples: [],
  };
  s.client.onerror = (e) => {
    s.transportErrors += 1;
    if (s.transportErrorExamples.length < 3) s.transportErrorExamples.push(`${Date.now() - t0} ms: ${e?.message ?? e}`);
  };
  sessions.push(s);
}
const t0 = Date.now();

const initialized = await checks.run(`${sessionCount} SDK clients initialize through HAProxy`, async () => {
  await Promise.all(sessions.map((s) => s.client.connect(s.transport, { timeout: callTimeoutMs })));
  for (const s of sessions) expect(s.transport.sessionId, `client ${s.n}: no Mcp-Session-Id`);
  expect(new Set(sessions.map((s) => s.transport.sessionId)).size === sessionCount, 'two clients got the same session');
});
if (!initialized) await checks.finish(() => Promise.all(sessions.map((s) => s.transport.close())));

let stopping = false;
async function oneCall(s) {
  const name = `s${s.n}-c${s.calls}`;
  s.calls += 1;
  const inPhase = phaseCount(phase);
  inPhase.calls += 1;
  const callPhase = phase;
  const started = Date.now();
  try {
    const result = await s.client.callTool({ name: 'greet', arguments: { name } }, undefined,
      { timeout: callTimeoutMs });
    const text = result?.content?.[0]?.text;
    if (result?.isError) throw Object.assign(new Error(`tool error: ${JSON.stringify(result.content)}`), { kind: 'tool' });
    if (text !== `Hello, ${name}!`) throw Object.assign(new Error(`wrong answer: ${JSON.stringify(result)}`), { kind: 'wrong' });
    s.ok += 1;
    latencies.push(Date.now() - started);
  } catch (e) {
    const kind = e?.kind ?? failureKind(e);
    s.failures[kind] += 1;
    inPhase.failed += 1;
    if (s.examples.length < 5) {
      s.examples.push(`call ${name} (${callPhase}) at ${started - t0} ms, ${Date.now() - started} ms: ${kind}: ` +
        `${e?.constructor?.name ?? 'Error'}${e?.code !== undefined ? ` ${e.code}` : ''}: ${e?.message ?? e}`);
    }
  }
}
async function loop(s) {
  while (!stopping) await oneCall(s);
}

// One call each before `running`: the load is steady when the restarts begin.
await Promise.all(sessions.map((s) => oneCall(s)));
writeFileSync(path.join(controlDir, 'running'), `${Date.now()}\n`);
const loops = Promise.all(sessions.map((s) => loop(s)));
await new Promise((resolve) => {
  const poll = setInterval(() => {
    try {
      phase = readFileSync(phaseFile, 'utf8').trim() || phase;
    } catch { /* no phase yet */ }
    if (existsSync(stopFile) || Date.now() - t0 > maxMs) {
      clearInterval(poll);
      resolve();
    }
  }, 20);
});
stopping = true;
await loops;
const elapsedMs = Date.now() - t0;

const total = (key) => sessions.reduce((sum, s) => sum + (key(s) ?? 0), 0);
const failed = (s) => Object.values(s.failures).reduce((a, b) => a + b, 0);
const summary = {
  sessions: sessionCount,
  elapsed_ms: elapsedMs,
  calls: total((s) => s.calls),
  ok: total((s) => s.ok),
  failed: total(failed),
  failures: Object.fromEntries(Object.keys(sessions[0].failures).map((k) => [k, total((s) => s.failures[k])])),
  calls_per_session: sessions.map((s) => s.calls),
  failed_per_session: sessions.map(failed),
  phases: Object.fromEntries(phases),
  latency_ms: (() => {
    const sorted = [...latencies].sort((a, b) => a - b);
    const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
    return { p50: at(0.5), p99: at(0.99), max: sorted.at(-1) ?? 0 };
  })(),
  transport_errors: total((s) => s.transportErrors),
  exchanges: Object.fromEntries([...exchanges].sort()),
};
writeFileSync(path.join(controlDir, 'summary.json'), `${JSON.stringify(summary)}\n`);
console.log(`# ${summary.calls} calls in ${elapsedMs} ms; per session: ${summary.calls_per_session.join(' ')}`);
console.log(`# HTTP exchanges: ${JSON.stringify(summary.exchanges)}`);
console.log(`# per phase: ${JSON.stringify(summary.phases)}; latency of answered calls (ms): ` +
  `${JSON.stringify(summary.latency_ms)}`);

await checks.run('every session made calls through the restarts', async () => {
  const idle = sessions.filter((s) => s.calls < 2).map((s) => s.n);
  expect(idle.length === 0, `sessions with fewer than 2 calls: ${idle.join(' ')}`);
  return `${summary.calls} calls`;
});
await checks.run('no call failed (HTTP error, JSON-RPC error, tool error, transport exception, timeout, wrong answer)', async () => {
  const lines = [];
  for (const s of sessions) {
    if (failed(s)) lines.push(`session ${s.n} (${s.transport.sessionId}): ${failed(s)} of ${s.calls} failed ` +
      `${JSON.stringify(s.failures)}`, ...s.examples.map((x) => `  ${x}`));
  }
  expect(lines.length === 0, lines.join('\n'));
  return `${summary.ok} of ${summary.calls} answered correctly`;
});
await checks.run('no transport error was reported to the clients (POSTs and GET streams)', async () => {
  const lines = sessions.filter((s) => s.transportErrors)
    .map((s) => `session ${s.n}: ${s.transportErrors} errors; ${s.transportErrorExamples.join('; ')}`);
  expect(lines.length === 0, lines.join('\n'));
});

// Closes the clients' connections; the sessions stay (no DELETE).
await checks.finish(() => Promise.all(sessions.map((s) => s.transport.close())));
