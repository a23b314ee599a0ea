// Interop test: the official MCP TypeScript SDK client (1.x) authorizes with
// the OAuth client credentials grant against an authorization server
// (auth_oidc_server.mjs) and talks to everything_server acting as an OAuth
// resource server (Streamable HTTP at <mcp-url>).
//
//   node auth_client.mjs <mcp-url> --issuer URL --client-id ID --client-secret SECRET
//                        [--scope "mcp:tools mcp:read"]
//
// Checks:
//   - without an auth provider, initialize fails with the SDK's
//     UnauthorizedError or StreamableHTTPError 401 after a 401 whose
//     WWW-Authenticate is `Bearer resource_metadata="..."`;
//   - with a wrong client secret the authorization server refuses the token
//     request and no MCP request carries a token;
//   - with ClientCredentialsProvider (client_secret_basic, expectedIssuer =
//     --issuer) the SDK goes 401 -> protected resource metadata (RFC 9728) ->
//     authorization server metadata -> token request (grant_type
//     client_credentials, resource = the metadata's resource) -> initialize
//     with `Authorization: Bearer`, and the token is an RFC 9068 JWT (typ
//     at+jwt, iss = issuer, aud = the resource);
//   - tools/list, tools/call, a second call without a new token request, and
//     DELETE of the session, all with the token.
// Every HTTP exchange goes through a recording fetch handed to the transport;
// INTEROP_TRACE=1 prints them to stderr. Prints one line per check and
// "N passed, N failed"; exits non-zero if any check failed.

import { parseArgs } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ClientCredentialsProvider } from '@modelcontextprotocol/sdk/client/auth-extensions.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Checks, assertTextContent, expect, requestOptions, sdkVersion } from './lib.mjs';

const simpleText = 'This is a simple text response for testing.';

let endpoint;
let args;
try {
  const parsed = parseArgs({
    allowPositionals: true,
    options: {
      issuer: { type: 'string' },
      'client-id': { type: 'string' },
      'client-secret': { type: 'string' },
      scope: { type: 'string', default: 'mcp:tools mcp:read' },
    },
  });
  args = parsed.values;
  if (parsed.positionals.length !== 1) throw new Error('one <mcp-url> expected');
  endpoint = new URL(parsed.positionals[0]);
  if (!args.issuer || !args['client-id'] || !args['client-secret']) {
    throw new Error('--issuer, --client-id and --client-secret are required');
  }
} catch (e) {
  console.error(`auth_client: ${e.message}`);
  console.error('usage: node auth_client.mjs <mcp-url> --issuer URL --client-id ID --client-secret SECRET [--scope S]');
  console.log('0 passed, 1 failed');
  process.exit(2);
}
const issuer = args.issuer;

const checks = new Checks(Number(process.env.INTEROP_TIMEOUT_MS ?? 60000));
console.log(`# MCP TypeScript SDK ${sdkVersion()} on Node ${process.version}`);
console.log(`# resource server ${endpoint.href}, authorization server ${issuer}, client ${args['client-id']}`);

/** A fetch that records every exchange (method, url, request headers and body, status, response headers). */
function recordingFetch(log) {
  return async (input, init = {}) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const headers = new Headers(init.headers ?? (input instanceof Request ? input.headers : undefined));
    const entry = {
      method: init.method ?? (input instanceof Request ? input.method : 'GET'),
      url,
      authorization: headers.get('authorization') ?? undefined,
      body: typeof init.body === 'string' ? init.body : init.body instanceof URLSearchParams ? init.body.toString() : undefined,
    };
    log.push(entry);
    const res = await fetch(input, init);
    entry.status = res.status;
    entry.wwwAuthenticate = res.headers.get('www-authenticate') ?? undefined;
    if (process.env.INTEROP_TRACE) {
      console.error(`> ${entry.method} ${url}${entry.authorization ? ` (Authorization: ${entry.authorization.slice(0, 24)}...)` : ''}` +
        `${entry.body ? `\n>   ${entry.body.slice(0, 300)}` : ''}\n< ${res.status}` +
        `${entry.wwwAuthenticate ? ` WWW-Authenticate: ${entry.wwwAuthenticate}` : ''}`);
    }
    return res;
  };
}

const describe = (log) => log.map((e) => `${e.method} ${e.url} -> ${e.status ?? '(no answer)'}` +
  `${e.authorization ? ` [${e.authorization.split(' ')[0]}]` : ''}${e.wwwAuthenticate ? ` ${e.wwwAuthenticate}` : ''}`).join('\n');

const isMcp = (e) => e.url.split('?')[0] === endpoint.href;

function decodeJwt(token) {
  const parts = String(token).split('.');
  expect(parts.length === 3, `access token is not a JWS compact serialization: ${String(token).slice(0, 40)}...`);
  const part = (s) => JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
  return { header: part(parts[0]), payload: part(parts[1]) };
}

// ---- no credentials -------------------------------------------------------------
await checks.run('no auth provider: initialize -> 401 with WWW-Authenticate resource_metadata, the SDK reports it', async () => {
  const log = [];
  const client = new Client({ name: 'mcpsse-auth-interop-anonymous', version: '0.0.0' });
  const transport = new StreamableHTTPClientTransport(endpoint, { fetch: recordingFetch(log) });
  let error;
  try {
    await client.connect(transport, requestOptions);
  } catch (e) {
    error = e;
  } finally {
    await client.close().catch(() => {});
  }
  expect(error, `initialize succeeded without a token\n${describe(log)}`);
  const first = log.find(isMcp);
  expect(first?.status === 401, `expected 401 from ${endpoint.href}, got ${first?.status}\n${describe(log)}`);
  expect(/^Bearer\b/i.test(first.wwwAuthenticate ?? '') && /resource_metadata="[^"]+"/.test(first.wwwAuthenticate),
    `WWW-Authenticate: ${first.wwwAuthenticate}`);
  // 1.32.2 reports the 401 itself (StreamableHTTPError, code 401) when it has no provider to ask.
  expect(error instanceof UnauthorizedError || (error instanceof StreamableHTTPError && error.code === 401),
    `SDK raised ${error?.constructor?.name} ${error?.code ?? ''}: ${error?.message}`);
  return `${error.constructor.name}${error.code ? ` ${error.code}` : ''}; ${first.wwwAuthenticate}`;
});

// ---- wrong client secret --------------------------------------------------------
await checks.run('ClientCredentialsProvider with a wrong client secret: token request refused, no MCP request with a token', async () => {
  const log = [];
  const client = new Client({ name: 'mcpsse-auth-interop-bad-secret', version: '0.0.0' });
  const authProvider = new ClientCredentialsProvider({
    clientId: args['client-id'], clientSecret: `${args['client-secret']}-wrong`, expectedIssuer: issuer, scope: args.scope,
  });
  const transport = new StreamableHTTPClientTransport(endpoint, { authProvider, fetch: recordingFetch(log) });
  let error;
  try {
    await client.connect(transport, requestOptions);
  } catch (e) {
    error = e;
  } finally {
    await client.close().catch(() => {});
  }
  expect(error, `initialize succeeded with a wrong client secret\n${describe(log)}`);
  const tokenRequests = log.filter((e) => e.method === 'POST' && e.url.startsWith(issuer));
  expect(tokenRequests.length > 0 && tokenRequests.every((e) => e.status === 400 || e.status === 401),
    `expected refused token requests to ${issuer}\n${describe(log)}`);
  expect(!log.some((e) => isMcp(e) && e.authorization), `an MCP request carried a token\n${describe(log)}`);
  return `${error?.constructor?.name}: ${error?.message}`;
});

// ---- the client credentials flow -----------------------------------------------
const log = [];
const client = new Client({ name: 'mcpsse-auth-interop', version: '0.0.0' });
const authProvider = new ClientCredentialsProvider({
  clientId: args['client-id'], clientSecret: args['client-secret'], expectedIssuer: issuer, scope: args.scope,
});
const transport = new StreamableHTTPClientTransport(endpoint, { authProvider, fetch: recordingFetch(log) });
let connected = false;
let resource;

await checks.run('ClientCredentialsProvider: initialize after 401, discovery and a client_credentials token', async () => {
  try {
    await client.connect(transport, requestOptions);
  } catch (e) {
    throw new Error(`${e?.constructor?.name}: ${e?.message}\n${describe(log)}`);
  }
  connected = true;
  expect(transport.sessionId, 'no Mcp-Session-Id after initialize');
  const info = client.getServerVersion();
  expect(info?.name === 'mcpsse-everything-server', `unexpected serverInfo ${JSON.stringify(info)}`);
  return `session ${transport.sessionId}, ${log.length} HTTP exchanges`;
});

if (connected) {
  await checks.run('the exchanges: 401, protected resource metadata, AS metadata, token (Basic, resource), initialize with Bearer', async () => {
    const trace = describe(log);
    const i401 = log.findIndex((e) => isMcp(e) && e.status === 401 && !e.authorization);
    expect(i401 >= 0, `no unauthenticated 401 from ${endpoint.href}\n${trace}`);
    const metadataUrl = /resource_metadata="([^"]+)"/.exec(log[i401].wwwAuthenticate ?? '')?.[1];
    expect(metadataUrl, `401 without resource_metadata: ${log[i401].wwwAuthenticate}`);
    const iPrm = log.findIndex((e, i) => i > i401 && e.method === 'GET' && e.url === metadataUrl && e.status === 200);
    expect(iPrm > 0, `no successful GET of ${metadataUrl} after the 401\n${trace}`);
    const iAs = log.findIndex((e, i) => i > iPrm && e.method === 'GET' && e.url.startsWith(`${issuer}/.well-known/`) &&
      e.status === 200);
    expect(iAs > 0, `no authorization server metadata fetched from ${issuer}/.well-known/...\n${trace}`);
    const iToken = log.findIndex((e, i) => i > iAs && e.method === 'POST' && e.url.startsWith(issuer));
    expect(iToken > 0 && log[iToken].status === 200, `no successful token request to ${issuer}\n${trace}`);
    const token = log[iToken];
    expect(token.authorization?.startsWith('Basic '), `token request not authenticated with client_secret_basic: ` +
      `Authorization ${token.authorization}`);
    const params = new URLSearchParams(token.body ?? '');
    expect(params.get('grant_type') === 'client_credentials', `token request body: ${token.body}`);
    resource = params.get('resource');
    expect(resource, `token request without a resource indicator: ${token.body}`);
    const iInit = log.findIndex((e, i) => i > iToken && isMcp(e) && e.authorization?.startsWith('Bearer ') && e.status === 200);
    expect(iInit > 0, `no successful MCP request with a Bearer token after the token request\n${trace}`);
    return `metadata ${metadataUrl}, token endpoint ${token.url}, resource ${resource}, scope ${params.get('scope')}`;
  });

  await checks.run('the access token is an RFC 9068 JWT: typ at+jwt, iss = issuer, aud = the resource, exp, sub', async () => {
    const tokens = authProvider.tokens();
    expect(tokens?.access_token, 'the provider holds no access token');
    const { header, payload } = decodeJwt(tokens.access_token);
    expect(header.typ?.toLowerCase() === 'at+jwt', `header ${JSON.stringify(header)}`);
    expect(payload.iss === issuer, `iss ${payload.iss}, issuer ${issuer}`);
    const aud = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
    expect(aud.includes(resource), `aud ${JSON.stringify(payload.aud)}, resource ${resource}`);
    expect(Number.isInteger(payload.exp) && payload.exp * 1000 > Date.now(), `exp ${payload.exp}`);
    expect(payload.sub, `no sub: ${JSON.stringify(payload)}`);
    const bearer = log.filter((e) => isMcp(e) && e.authorization?.startsWith('Bearer ')).map((e) => e.authorization.slice(7));
    expect(bearer.every((t) => t === tokens.access_token), 'the MCP requests carried some other token');
    return `header ${JSON.stringify(header)}, payload ${JSON.stringify(payload)}`;
  });

  await checks.run('tools/list with the token', async () => {
    const { tools } = await client.listTools(undefined, requestOptions);
    expect(Array.isArray(tools) && tools.some((t) => t.name === 'test_simple_text'),
      `test_simple_text missing from ${JSON.stringify(tools?.map((t) => t.name))}`);
    return `${tools.length} tools`;
  });

  await checks.run('tools/call test_simple_text and greet with the token, no second token request', async () => {
    const tokenRequestsBefore = log.filter((e) => e.method === 'POST' && e.url.startsWith(issuer)).length;
    assertTextContent(await client.callTool({ name: 'test_simple_text', arguments: {} }, undefined, requestOptions),
      simpleText, 'test_simple_text');
    assertTextContent(await client.callTool({ name: 'greet', arguments: { name: 'oauth' } }, undefined, requestOptions),
      'Hello, oauth!', 'greet');
    const tokenRequests = log.filter((e) => e.method === 'POST' && e.url.startsWith(issuer)).length;
    expect(tokenRequests === tokenRequestsBefore, `${tokenRequests - tokenRequestsBefore} more token request(s)`);
    expect(!log.some((e) => isMcp(e) && e.status === 401 && e.authorization),
      `a request with the token was refused\n${describe(log)}`);
  });

  await checks.run('DELETE ends the session with the token', async () => {
    await transport.terminateSession();
    expect(transport.sessionId === undefined, `session id still set: ${transport.sessionId}`);
    const del = log.filter((e) => isMcp(e) && e.method === 'DELETE');
    expect(del.length && del.every((e) => e.authorization?.startsWith('Bearer ') && e.status < 300),
      `DELETE exchanges:\n${describe(del)}`);
  });
}

await checks.finish(() => client.close());
