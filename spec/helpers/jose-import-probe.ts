// Run as a child process by spec/jose-loader.spec.ts: attaches with the client
// authentication named in argv[2] ('secret' or 'jwt'), gets a token from an
// adapter that answers at once, and reports on stderr whether `jose` was imported.

import { generateKeyPairSync } from 'node:crypto';
import { register } from 'node:module';
import type { AxiosAdapter } from 'axios';

// An ESM resolve hook that sees every import of 'jose', wherever it comes from.
register(`data:text/javascript,${encodeURIComponent("export async function resolve(s, c, n) { if (s === 'jose') process.stderr.write('jose imported\\n'); return n(s, c); }")}`);

const { default: axios } = await import('axios');
const { attachAuth } = await import('../../lib/index.js');
const { tokenTransport } = await import('../../lib/token-endpoint.js');

const answer: AxiosAdapter = async (config) => ({ data: JSON.stringify({ access_token: 'probe-token', expires_in: 3600 }), status: 200, statusText: 'OK', headers: {}, config });
// The API instance takes the adapter from the defaults; token requests from the internal transport (they ignore axios.defaults.adapter).
axios.defaults.adapter = answer;
tokenTransport.override = answer;
const api = axios.create({ baseURL: 'https://api.example.com' });
const jwt = process.argv[2] === 'jwt';
const handle = attachAuth(api, {
  tokenUrl: 'https://auth.example.com/token',
  clientId: 'probe',
  ...(jwt ? { tokenRequest: { clientAuth: 'private_key_jwt' as const, clientAssertion: { key: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey } } } : { clientSecret: 'probe-secret' }),
});
await handle.getToken();
await api.get('/x');
handle.detach();
process.stdout.write('done\n');
