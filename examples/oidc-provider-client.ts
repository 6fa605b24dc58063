// private_key_jwt, issuer discovery and DPoP against a real authorization
// server: panva's oidc-provider (a dev dependency) runs on a loopback port with
// one client that registered only its public key and gets DPoP-bound tokens.
// attachAuth reads the server's metadata from the issuer, signs a new client
// assertion for every token request and a new DPoP proof for every request:
// `npx tsx examples/oidc-provider-client.ts`, no network needed.
// In your own code, import from 'axios-oauth-queue' and load the key from a file or a vault.

import { generateKeyPairSync } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import axios from 'axios';
import Provider from 'oidc-provider';
import { attachAuth } from '../lib/index.js';

// The client's key pair: the server knows only the public half.
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });

const server = http.createServer();
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
// oidc-provider announces its development defaults on the console; this example needs none of that.
console.warn = () => {};
console.info = () => {};
const provider = new Provider(issuer, {
  clients: [
    {
      client_id: 'reporting-service',
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [{ ...publicKey.export({ format: 'jwk' }), kid: 'reporting-2026' }] },
      dpop_bound_access_tokens: true,
    },
  ],
  features: { clientCredentials: { enabled: true }, devInteractions: { enabled: false }, revocation: { enabled: true }, dPoP: { enabled: true } },
});
server.on('request', provider.callback());

// The API this client calls; here it only echoes the Authorization scheme it got and whether a proof came with it.
const apiServer = http.createServer((request, response) =>
  response.end(JSON.stringify({ scheme: request.headers.authorization?.split(' ')[0], proof: typeof request.headers['dpop'] === 'string' })),
);
await new Promise<void>((resolve) => apiServer.listen(0, '127.0.0.1', resolve));

const api = axios.create({ baseURL: `http://127.0.0.1:${(apiServer.address() as AddressInfo).port}` });
const auth = attachAuth(api, {
  issuer, // the token and revocation endpoints come from ${issuer}/.well-known/openid-configuration
  clientId: 'reporting-service',
  tokenRequest: {
    clientAuth: 'private_key_jwt',
    clientAssertion: { key: privateKey, kid: 'reporting-2026' }, // or PEM text, or a private JWK
  },
  dpop: true, // a generated ES256 key; or { key } to keep the binding across restarts
});

const { data } = await api.get('/reports/today');
console.log('GET /reports/today →', data);
await auth.refresh(); // a second token request: a new assertion with a new jti
console.log('token requests:', auth.stats().tokenRequests);
console.log('revoke() at the discovered revocation_endpoint →', await auth.revoke());

auth.detach();
server.closeAllConnections();
apiServer.closeAllConnections();
server.close();
apiServer.close();
