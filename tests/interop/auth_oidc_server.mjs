// An OAuth 2.1 authorization server for the mcpsse auth interop test:
// oidc-provider (pinned in package.json) on 127.0.0.1, plain HTTP, with the
// client credentials grant and resource indicators (RFC 8707) issuing JWT
// access tokens (RFC 9068: typ "at+jwt", aud = the resource).
//
//   node auth_oidc_server.mjs --jwks-out FILE --resource URL [--resource URL...]
//                        [--client-id ID] [--client-secret SECRET]
//                        [--scopes "mcp:tools mcp:read"]
//
// Each --resource is a resource indicator the server accepts (the first is the
// default when a token request names none); its tokens carry that URL as
// their only audience and the scopes of --scopes. Any other resource indicator
// is refused with invalid_target. There is one confidential client
// (client_credentials only, client_secret_basic or client_secret_post).
// The signing key is a fresh RSA key (RS256) made at startup.
//
// Listens on a free port; the issuer is http://127.0.0.1:<port>. Once the
// public JWKS (fetched from its own jwks_uri) is written to FILE (atomically),
// prints "issuer http://127.0.0.1:<port>" on stdout. Stops on SIGTERM/SIGINT.

import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { renameSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { parseArgs } from 'node:util';
import Provider, { errors } from 'oidc-provider';

let args;
try {
  ({ values: args } = parseArgs({
    options: {
      'jwks-out': { type: 'string' },
      resource: { type: 'string', multiple: true },
      'client-id': { type: 'string', default: 'mcpsse-interop' },
      'client-secret': { type: 'string', default: 'mcpsse-interop-secret' },
      scopes: { type: 'string', default: 'mcp:tools mcp:read' },
    },
  }));
  if (!args['jwks-out'] || !args.resource?.length) throw new Error('--jwks-out and --resource are required');
  for (const r of args.resource) new URL(r); // eslint-disable-line no-new
} catch (e) {
  console.error(`auth_oidc_server: ${e.message}`);
  console.error('usage: node auth_oidc_server.mjs --jwks-out FILE --resource URL [--resource URL...] ' +
    '[--client-id ID] [--client-secret SECRET] [--scopes "S1 S2"]');
  process.exit(2);
}
const resources = args.resource;
const scopes = args.scopes.split(' ').filter(Boolean);

// Listen first: the issuer has to name the port.
const server = http.createServer();
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(0, '127.0.0.1', resolve);
});
const issuer = `http://127.0.0.1:${server.address().port}`;

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), alg: 'RS256', use: 'sig' };

const provider = new Provider(issuer, {
  clients: [{
    client_id: args['client-id'],
    client_secret: args['client-secret'],
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: 'client_secret_basic',
    scope: scopes.join(' '),
  }],
  // client_secret_basic is what the SDK's ClientCredentialsProvider picks when
  // the metadata lists it; curl in auth.sh uses it too.
  clientAuthMethods: ['client_secret_basic', 'client_secret_post'],
  jwks: { keys: [signingKey] },
  scopes,
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: false },
    revocation: { enabled: false },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => resources[0],
      useGrantedResource: () => true,
      getResourceServerInfo: (ctx, resourceIndicator) => {
        if (!resources.includes(resourceIndicator)) {
          throw new errors.InvalidTarget(`unknown resource indicator ${resourceIndicator}`);
        }
        return {
          scope: scopes.join(' '),
          audience: resourceIndicator,
          accessTokenTTL: 600,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256' } },
        };
      },
    },
  },
});
provider.on('server_error', (ctx, err) => console.error(`auth_oidc_server: server_error ${err.stack ?? err}`));
provider.on('grant.error', (ctx, err) => console.error(`auth_oidc_server: token request refused: ${err.message}` +
  `${err.error_description ? ` (${err.error_description})` : ''}`));
server.on('request', provider.callback());

// The public keys, as any resource server would fetch them.
const discovery = await (await fetch(`${issuer}/.well-known/openid-configuration`)).json();
const jwksText = await (await fetch(discovery.jwks_uri)).text();
const jwks = JSON.parse(jwksText);
if (!jwks.keys?.length || jwks.keys.some((k) => k.d !== undefined)) {
  console.error(`auth_oidc_server: unexpected JWKS from ${discovery.jwks_uri}: ${jwksText}`);
  process.exit(1);
}
const tmp = `${args['jwks-out']}.tmp-${process.pid}`;
writeFileSync(tmp, jwksText);
renameSync(tmp, args['jwks-out']);

const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
console.log(`issuer ${issuer}`);
