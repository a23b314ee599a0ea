// Interop check: the official MCP TypeScript SDK 2.x client
// (@modelcontextprotocol/client, pinned in v2/package.json) speaks protocol
// revision 2026-07-28 -- stateless Streamable HTTP -- to mcpsse's
// everything_server.
//
//   node stateless_client.mjs <base-url>        (endpoint <base-url>/mcp)
//
// Run it through run_client.sh --v2, which puts it next to the installed
// packages. Every HTTP exchange goes through a recording fetch, so the checks
// can look at the wire too (headers, bodies) and a failure can print a
// transcript. Environment: INTEROP_CONCURRENCY (default 50),
// INTEROP_REQUEST_TIMEOUT_MS (10 s), INTEROP_TIMEOUT_MS (watchdog, 90 s),
// INTEROP_TRACE=1 prints the whole transcript to stderr at the end.

import { Client, ProtocolError, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import * as z from 'zod/v4';

import { Checks, expect, expectEqual, packageVersion, requestOptions } from './lib.mjs';

const VERSION = '2026-07-28';

const base = process.argv[2];
if (!base || process.argv.length > 3) {
  console.error('usage: stateless_client.mjs <base-url>');
  process.exit(2);
}
const endpoint = new URL(`${base.replace(/\/+$/, '')}/mcp`);
const concurrency = Number(process.env.INTEROP_CONCURRENCY ?? 50);
const checks = new Checks(Number(process.env.INTEROP_TIMEOUT_MS ?? 90000));

console.log(`# @modelcontextprotocol/client ${packageVersion('@modelcontextprotocol/client')}` +
  ` (core ${packageVersion('@modelcontextprotocol/core')}) on Node ${process.version}; endpoint ${endpoint}`);

// ---- the wire transcript -------------------------------------------------------------

/** Every HTTP exchange of every client in this run, in order. */
const transcript = [];

/**
 * A fetch that records each exchange: method, request headers and body,
 * status, response headers and (for JSON responses) the response body.
 */
async function recordingFetch(url, init = {}) {
  const entry = {
    method: init.method ?? 'GET',
    url: String(url),
    requestHeaders: Object.fromEntries(new Headers(init.headers).entries()),
    requestBody: typeof init.body === 'string' ? init.body : undefined,
  };
  transcript.push(entry);
  try { entry.request = entry.requestBody ? JSON.parse(entry.requestBody) : undefined; } catch { /* not JSON */ }
  const response = await fetch(url, init);
  entry.status = response.status;
  entry.responseHeaders = Object.fromEntries(response.headers.entries());
  const type = response.headers.get('content-type') ?? '';
  if (type.includes('application/json')) {
    entry.responseBody = await response.clone().text();
    try { entry.response = JSON.parse(entry.responseBody); } catch { /* not JSON */ }
  } else if (type.includes('text/event-stream')) {
    entry.responseBody = '(event stream)';
  }
  return response;
}

function formatExchange(e) {
  const lines = [`${e.method} ${e.url}`];
  for (const [k, v] of Object.entries(e.requestHeaders)) lines.push(`  > ${k}: ${v}`);
  if (e.requestBody) lines.push(`  > ${e.requestBody}`);
  lines.push(`  < ${e.status ?? '(no response)'}`);
  for (const [k, v] of Object.entries(e.responseHeaders ?? {})) lines.push(`  < ${k}: ${v}`);
  if (e.responseBody) lines.push(`  < ${e.responseBody}`);
  return lines.join('\n');
}

/** The exchanges from index `from` on whose JSON-RPC body has method `method`. */
function exchangesFor(method, from = 0, name) {
  return transcript.slice(from).filter((e) => e.request?.method === method &&
    (name === undefined || e.request?.params?.name === name));
}

/** Fails with the transcript of `exchanges` appended. */
function expectWire(cond, msg, exchanges) {
  expect(cond, `${msg}\n${exchanges.map(formatExchange).join('\n')}`);
}

// ---- clients ---------------------------------------------------------------------------

/** What the client-side input handlers were asked, per method. */
const asked = { elicitation: [], sampling: [], roots: 0 };

/**
 * A 2.x client on a fresh transport: `mode` is the versionNegotiation mode,
 * `capabilities` what it declares; it answers elicitation, sampling and roots.
 */
function makeClient({ mode = { pin: VERSION }, capabilities = { elicitation: {}, sampling: {}, roots: {} } } = {}) {
  const client = new Client({ name: 'mcpsse-interop-stateless', version: '1.0.0' },
    { capabilities, versionNegotiation: { mode } });
  if (capabilities.elicitation) {
    client.setRequestHandler('elicitation/create', async (request) => {
      asked.elicitation.push(request.params);
      const properties = Object.keys(request.params.requestedSchema?.properties ?? {});
      const content = {};
      for (const key of properties) content[key] = key === 'color' ? 'blue' : 'Interop';
      return { action: 'accept', content };
    });
  }
  if (capabilities.sampling) {
    client.setRequestHandler('sampling/createMessage', async (request) => {
      asked.sampling.push(request.params);
      return { model: 'interop-model', role: 'assistant', content: { type: 'text', text: 'Paris' } };
    });
  }
  if (capabilities.roots) {
    client.setRequestHandler('roots/list', async () => {
      asked.roots += 1;
      return { roots: [{ uri: 'file:///interop/root', name: 'interop' }] };
    });
  }
  const errors = [];
  client.onerror = (e) => errors.push(e);
  const transport = new StreamableHTTPClientTransport(endpoint, { fetch: recordingFetch });
  return { client, transport, errors };
}

function textOf(result, what) {
  expect(!result.isError, `${what} returned isError: ${JSON.stringify(result)}`);
  expect(Array.isArray(result.content) && result.content.length === 1 && result.content[0].type === 'text',
    `${what}: expected one text block, got ${JSON.stringify(result.content)}`);
  return result.content[0].text;
}

// ---- checks ----------------------------------------------------------------------------

const main = makeClient();
const { client } = main;
let tools = [];

await checks.run('discovery: connect pinned to 2026-07-28 sends server/discover, no initialize', async () => {
  await client.connect(main.transport, requestOptions);
  expectEqual(client.getProtocolEra(), 'modern', 'protocol era');
  expectEqual(client.getNegotiatedProtocolVersion(), VERSION, 'negotiated version');
  const first = transcript[0];
  expectWire(first?.request?.method === 'server/discover', 'the first POST should be server/discover', transcript.slice(0, 1));
  expectWire(first.requestHeaders['mcp-method'] === 'server/discover' &&
    first.requestHeaders['mcp-protocol-version'] === VERSION, 'discover headers', [first]);
  expectWire(first.status === 200 && first.response?.result, 'discover should succeed with a JSON result', [first]);
  const d = client.getDiscoverResult();
  expect(d?.supportedVersions?.includes(VERSION), `supportedVersions lacks ${VERSION}: ${JSON.stringify(d)}`);
  expect(d.capabilities?.tools, `capabilities.tools missing: ${JSON.stringify(d.capabilities)}`);
  const info = client.getServerVersion();
  expect(info?.name === 'mcpsse-everything-server', `serverInfo (result _meta): ${JSON.stringify(info)}`);
  expect(exchangesFor('initialize').length === 0, 'an initialize request was sent');
  return `supportedVersions ${d.supportedVersions.join(' ')}`;
});

await checks.run('discovery: versionNegotiation "auto" picks 2026-07-28 (server/discover probe)', async () => {
  const from = transcript.length;
  const auto = makeClient({ mode: 'auto' });
  try {
    await auto.client.connect(auto.transport, requestOptions);
    expectEqual(auto.client.getProtocolEra(), 'modern', 'protocol era');
    expectEqual(auto.client.getNegotiatedProtocolVersion(), VERSION, 'negotiated version');
    expectEqual(transcript.slice(from).map((e) => e.request?.method), ['server/discover'], 'methods sent by connect');
  } finally {
    await auto.client.close();
  }
});

await checks.run('server/discover called explicitly', async () => {
  const d = await client.discover(requestOptions);
  expect(d.supportedVersions?.includes(VERSION), `supportedVersions: ${JSON.stringify(d)}`);
  expect(typeof d.instructions === 'string' || d.instructions === undefined, 'instructions');
});

await checks.run('tools/list', async () => {
  const from = transcript.length;
  ({ tools } = await client.listTools(undefined, requestOptions));
  const names = new Set(tools.map((t) => t.name));
  for (const n of ['test_simple_text', 'test_tool_with_progress', 'test_input_required_result_elicitation',
    'test_input_required_result_sampling', 'test_custom_header', 'greet']) {
    expect(names.has(n), `tool ${n} missing from tools/list (${tools.length} tools)`);
  }
  const list = exchangesFor('tools/list', from);
  expectWire(list.length >= 1 && list.every((e) => e.requestHeaders['mcp-method'] === 'tools/list'),
    'tools/list POSTs should carry Mcp-Method: tools/list', list);
  const header = tools.find((t) => t.name === 'test_custom_header');
  expect(header.inputSchema?.properties?.region?.['x-mcp-header'] === 'Region',
    `test_custom_header keeps its x-mcp-header annotation: ${JSON.stringify(header.inputSchema)}`);
  return `${tools.length} tools in ${list.length} page(s)`;
});

await checks.run('tools/call test_simple_text (Mcp-Name header, per-request _meta)', async () => {
  const from = transcript.length;
  const res = await client.callTool({ name: 'test_simple_text', arguments: {} }, requestOptions);
  expectEqual(textOf(res, 'test_simple_text'), 'This is a simple text response for testing.', 'text');
  const [e] = exchangesFor('tools/call', from);
  const meta = e?.request?.params?._meta ?? {};
  expectWire(e.requestHeaders['mcp-name'] === 'test_simple_text' && e.requestHeaders['mcp-method'] === 'tools/call',
    'Mcp-Method/Mcp-Name headers', [e]);
  expectWire(meta['io.modelcontextprotocol/protocolVersion'] === VERSION &&
    meta['io.modelcontextprotocol/clientInfo']?.name === 'mcpsse-interop-stateless' &&
    meta['io.modelcontextprotocol/clientCapabilities']?.elicitation, 'per-request _meta envelope', [e]);
});

await checks.run('tools/call test_image_content and test_error_handling (isError)', async () => {
  const img = await client.callTool({ name: 'test_image_content', arguments: {} }, requestOptions);
  expect(img.content?.[0]?.type === 'image' && img.content[0].mimeType === 'image/png',
    `image content: ${JSON.stringify(img)}`);
  const err = await client.callTool({ name: 'test_error_handling', arguments: {} }, requestOptions);
  expect(err.isError === true, `test_error_handling should return isError: ${JSON.stringify(err)}`);
  expect(JSON.stringify(err.content).includes('intentionally returns an error'), `error text: ${JSON.stringify(err)}`);
});

await checks.run('tools/call with an x-mcp-header argument (Mcp-Param-Region, plain and base64)', async () => {
  const from = transcript.length;
  for (const region of ['eu-west-1', 'Zürich ']) {
    const res = await client.callTool({ name: 'test_custom_header', arguments: { region } }, requestOptions);
    expectEqual(textOf(res, 'test_custom_header'), `Region: ${region}`, 'text');
  }
  const calls = exchangesFor('tools/call', from, 'test_custom_header');
  expectWire(calls.length === 2 && calls.every((e) => e.status === 200), 'two calls, both 200', calls);
  expectWire(calls[0].requestHeaders['mcp-param-region'] === 'eu-west-1' &&
    /^=\?base64\?.*\?=$/.test(calls[1].requestHeaders['mcp-param-region'] ?? ''),
  'Mcp-Param-Region should be plain, then base64-encoded', calls);
});

await checks.run('progress notifications on the request\'s SSE response stream', async () => {
  const from = transcript.length;
  const progress = [];
  const res = await client.callTool({ name: 'test_tool_with_progress', arguments: {} },
    { ...requestOptions, onprogress: (p) => progress.push(p) });
  const [e] = exchangesFor('tools/call', from, 'test_tool_with_progress');
  const token = e?.request?.params?._meta?.progressToken;
  expectWire(token !== undefined, 'the request should carry _meta.progressToken', [e]);
  expectEqual(textOf(res, 'test_tool_with_progress'), String(token), 'the tool returns the progress token');
  expectEqual(progress.map((p) => [p.progress, p.total]), [[0, 100], [50, 100], [100, 100]], 'progress steps');
  expectWire((e.responseHeaders?.['content-type'] ?? '').includes('text/event-stream'), 'response should be SSE', [e]);
});

await checks.run('input-required round trip: elicitation', async () => {
  const from = transcript.length;
  const before = asked.elicitation.length;
  const res = await client.callTool({ name: 'test_input_required_result_elicitation', arguments: {} }, requestOptions);
  expectEqual(textOf(res, 'elicitation tool'), 'Hello, Interop!', 'text');
  expectEqual(asked.elicitation.slice(before).map((p) => p.message), ['What is your name?'], 'elicitation requests');
  const calls = exchangesFor('tools/call', from, 'test_input_required_result_elicitation');
  expectWire(calls.length === 2, 'expected two POSTs (input_required, then the retry)', calls);
  expectWire(calls[0].response?.result?.resultType === 'input_required' &&
    calls[0].response.result.inputRequests?.user_name?.method === 'elicitation/create',
  'first answer should be an InputRequiredResult asking user_name', calls);
  expectWire(calls[1].request.params.inputResponses?.user_name?.content?.name === 'Interop' &&
    calls[1].request.id !== calls[0].request.id, 'retry should carry inputResponses.user_name on a new id', calls);
});

await checks.run('input-required round trip: sampling', async () => {
  const from = transcript.length;
  const before = asked.sampling.length;
  const res = await client.callTool({ name: 'test_input_required_result_sampling', arguments: {} }, requestOptions);
  expectEqual(textOf(res, 'sampling tool'), 'Sampling response: Paris', 'text');
  const got = asked.sampling.slice(before);
  expect(got.length === 1 && got[0].maxTokens === 100 &&
    JSON.stringify(got[0].messages).includes('What is the capital of France?'), `sampling requests: ${JSON.stringify(got)}`);
  const calls = exchangesFor('tools/call', from, 'test_input_required_result_sampling');
  expectWire(calls.length === 2 && calls[1].request.params.inputResponses?.capital_question?.content?.text === 'Paris',
    'retry should carry inputResponses.capital_question', calls);
});

await checks.run('input-required: two rounds with a sealed requestState echoed verbatim', async () => {
  const from = transcript.length;
  const res = await client.callTool({ name: 'test_input_required_result_multi_round', arguments: {} }, requestOptions);
  expectEqual(textOf(res, 'multi-round tool'), 'Name: Interop, color: blue', 'text');
  const calls = exchangesFor('tools/call', from, 'test_input_required_result_multi_round');
  expectWire(calls.length === 3, 'expected three POSTs', calls);
  for (const i of [0, 1]) {
    const state = calls[i].response?.result?.requestState;
    expectWire(typeof state === 'string' && calls[i + 1].request.params.requestState === state,
      `round ${i + 1}: requestState should be echoed byte for byte`, calls);
  }
});

await checks.run('input-required: elicitation, sampling and roots in one round', async () => {
  const before = asked.roots;
  const res = await client.callTool({ name: 'test_input_required_result_multiple_inputs', arguments: {} }, requestOptions);
  expectEqual(textOf(res, 'multiple-inputs tool'), 'Name: Interop, greeting: Paris', 'text');
  expectEqual(asked.roots - before, 1, 'roots/list handler calls');
});

await checks.run('input-required without the client capability: -32021', async () => {
  const bare = makeClient({ capabilities: {} });
  try {
    await bare.client.connect(bare.transport, requestOptions);
    const from = transcript.length;
    let error;
    try {
      await bare.client.callTool({ name: 'test_input_required_result_sampling', arguments: {} }, requestOptions);
    } catch (e) { error = e; }
    const [e] = exchangesFor('tools/call', from);
    expectWire(error && error.code === -32021, `expected error -32021, got ${error?.constructor?.name} ${error?.code}: ${error?.message}`, [e]);
    expectWire(e.status === 400, 'HTTP status should be 400', [e]);
    expect(JSON.stringify(error.data ?? {}).includes('sampling'), `error data names sampling: ${JSON.stringify(error.data)}`);
  } finally {
    await bare.client.close();
  }
});

await checks.run('a server-to-client request (legacy test_sampling) fails cleanly under 2026-07-28', async () => {
  const before = asked.sampling.length;
  let error;
  try {
    await client.callTool({ name: 'test_sampling', arguments: { prompt: 'hi' } }, requestOptions);
  } catch (e) { error = e; }
  expect(error instanceof ProtocolError, `expected a JSON-RPC error, got ${error?.constructor?.name}: ${error?.message}`);
  expectEqual(asked.sampling.length, before, 'sampling handler calls (no request may reach the client)');
  return `${error.code}: ${error.message}`;
});

await checks.run(`${concurrency} concurrent tools/call`, async () => {
  const from = transcript.length;
  const tag = Math.random().toString(36).slice(2, 8);
  const calls = [];
  for (let i = 0; i < concurrency; i++) {
    calls.push(i % 2 === 0
      ? { name: 'greet', arguments: { name: `n${i}-${tag}` }, expected: `Hello, n${i}-${tag}!` }
      : { name: 'test_custom_header', arguments: { region: `r${i}-${tag}` }, expected: `Region: r${i}-${tag}` });
  }
  const results = await Promise.allSettled(calls.map((c) =>
    client.callTool({ name: c.name, arguments: c.arguments }, requestOptions)));
  const bad = [];
  results.forEach((r, i) => {
    if (r.status === 'rejected') bad.push(`#${i} ${calls[i].name}: ${r.reason?.message ?? r.reason}`);
    else if (r.value.isError || r.value.content?.[0]?.text !== calls[i].expected) {
      bad.push(`#${i} ${calls[i].name}: expected ${JSON.stringify(calls[i].expected)}, got ${JSON.stringify(r.value)}`);
    }
  });
  expect(bad.length === 0, `${bad.length} of ${concurrency} calls wrong:\n${bad.slice(0, 10).join('\n')}`);
  const posts = exchangesFor('tools/call', from);
  expectEqual(posts.length, concurrency, 'one POST per call');
  expectEqual(new Set(posts.map((e) => e.request.id)).size, concurrency, 'distinct request ids');
});

await checks.run('unknown tool: JSON-RPC error -32602', async () => {
  let error;
  try {
    await client.callTool({ name: 'no_such_tool', arguments: {} }, requestOptions);
  } catch (e) { error = e; }
  expect(error instanceof ProtocolError && error.code === -32602,
    `expected ProtocolError -32602, got ${error?.constructor?.name} ${error?.code}: ${error?.message}`);
  expect(error.message.includes('no_such_tool'), `message should name the tool: ${error.message}`);
});

await checks.run('unknown method: HTTP 404 with JSON-RPC error -32601', async () => {
  const from = transcript.length;
  let error;
  try {
    await client.request({ method: 'interop/no-such-method', params: {} }, z.object({}).loose(), requestOptions);
  } catch (e) { error = e; }
  expect(error, 'the request should fail');
  const [e] = exchangesFor('interop/no-such-method', from);
  expectWire(e?.status === 404 && e.response?.error?.code === -32601, 'expected 404 and -32601', [e]);
  return `client reports ${error.constructor.name} ${error.code}`;
});

await checks.run('subscriptions/listen delivers tools/list_changed', async () => {
  let changed = 0;
  client.setNotificationHandler('notifications/tools/list_changed', () => { changed += 1; });
  const sub = await client.listen({ toolsListChanged: true }, requestOptions);
  try {
    expect(sub.honoredFilter?.toolsListChanged === true, `honoredFilter: ${JSON.stringify(sub.honoredFilter)}`);
    const res = await client.callTool({ name: 'test_trigger_tool_change', arguments: {} }, requestOptions);
    expectEqual(textOf(res, 'test_trigger_tool_change'), 'Tool list changed', 'text');
    for (let i = 0; i < 50 && changed === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(changed >= 1, 'no notifications/tools/list_changed arrived within 1 s');
    // Put the tool list back as it was.
    await client.callTool({ name: 'test_trigger_tool_change', arguments: {} }, requestOptions);
  } finally {
    await sub.close();
  }
  expectEqual(await sub.closed, 'local', 'how the subscription ended');
});

// The 2.x client POSTs notifications/cancelled (without Mcp-Method: the
// spec requires the standard headers on requests only and leaves notification
// POSTs undefined) when a subscription is closed; a server that accepts the
// notification answers 202.
await checks.run('closing a subscription: the client\'s notifications/cancelled is accepted (202)', async () => {
    const cancels = exchangesFor('notifications/cancelled');
    expect(cancels.length >= 1, 'the client sent no notifications/cancelled');
    expectWire(cancels.every((e) => e.status === 202), 'notification POSTs should get 202 Accepted', cancels);
  });

await checks.run('stateless wire: no Mcp-Session-Id, no GET/DELETE, version header on every POST', async () => {
  expect(main.transport.sessionId === undefined, `transport.sessionId = ${main.transport.sessionId}`);
  const withSession = transcript.filter((e) => e.responseHeaders?.['mcp-session-id'] !== undefined ||
    e.requestHeaders['mcp-session-id'] !== undefined);
  expectWire(withSession.length === 0, 'Mcp-Session-Id appeared', withSession.slice(0, 3));
  const notPost = transcript.filter((e) => e.method !== 'POST');
  expectWire(notPost.length === 0, 'only POSTs expected', notPost.slice(0, 3));
  const badVersion = transcript.filter((e) => e.requestHeaders['mcp-protocol-version'] !== VERSION);
  expectWire(badVersion.length === 0, `every POST should carry MCP-Protocol-Version: ${VERSION}`, badVersion.slice(0, 3));
  const requests = transcript.filter((e) => e.request?.id !== undefined);
  const badMethod = requests.filter((e) => e.requestHeaders['mcp-method'] !== e.request.method);
  expectWire(badMethod.length === 0, 'every request POST should carry a matching Mcp-Method', badMethod.slice(0, 3));
  return `${transcript.length} POSTs`;
});

await checks.finish(async () => {
  if (process.env.INTEROP_TRACE) console.error(transcript.map(formatExchange).join('\n'));
  await client.close();
});
