// One short session per provider preset, each against a local stand-in
// (examples/provider-emulators.ts): `npx tsx examples/providers.ts`.
// In your own code, import from 'axios-oauth-queue' and drop `baseUrl`:
// the presets know the real hosts.

import axios from 'axios';
import { attachAuth, createPkce, movemintAuthorizeUrl, presets } from '../lib/index.js';
import {
  EXAMPLE_CLIENT_ID as clientId,
  EXAMPLE_CLIENT_SECRET as clientSecret,
  EXAMPLE_PASSWORD,
  EXAMPLE_REDIRECT_URI,
  EXAMPLE_USERNAME,
  ExampleProvider,
} from './provider-emulators.js';

async function mvmntSession(): Promise<void> {
  const provider = new ExampleProvider('mvmnt');
  const baseUrl = await provider.start(); // stands in for https://api.mvmnt.io
  const api = axios.create({ baseURL: baseUrl });
  const auth = attachAuth(api, presets.mvmnt({ clientId, clientSecret, baseUrl }));

  await api.get('/v1/orders');
  provider.revokeAccessTokens();
  // Fifty requests meet a revoked token: one token request, every request replayed once.
  await Promise.all(Array.from({ length: 50 }, () => api.get('/v1/orders')));
  console.log('mvmnt     grants:', provider.grants.join(', '));
  auth.detach();
  await provider.close();
}

async function movemintSession(): Promise<void> {
  const provider = new ExampleProvider('movemint');
  const baseUrl = await provider.start(); // stands in for https://www.movemint.cc

  // 1. Send the user to Movemint; 2. read the code from the redirect back to you.
  const pkce = createPkce();
  const url = movemintAuthorizeUrl({ clientId, redirectUri: EXAMPLE_REDIRECT_URI, state: 'csrf-check', codeChallenge: pkce.codeChallenge, baseUrl });
  const redirect = await axios.get(url, { maxRedirects: 0, validateStatus: (status) => status === 302 });
  const code = new URL(String(redirect.headers['location'])).searchParams.get('code') ?? '';

  // 3. Exchange it once; renewals use the refresh token.
  const api = axios.create({ baseURL: baseUrl });
  const auth = attachAuth(api, presets.movemint({ clientId, clientSecret, baseUrl, grant: { type: 'authorization_code', code, redirectUri: EXAMPLE_REDIRECT_URI, codeVerifier: pkce.codeVerifier } }));
  await api.get('/api/v1/entities');
  await auth.refresh();
  console.log('movemint  grants:', provider.grants.join(', '), '| token info:', JSON.stringify(await auth.tokenInfo()));
  console.log('movemint  revoke:', JSON.stringify(await auth.revoke()));
  auth.detach();
  await provider.close();
}

async function musementSession(): Promise<void> {
  const provider = new ExampleProvider('musement');
  const baseUrl = await provider.start(); // stands in for https://api.musement.com
  const api = axios.create({ baseURL: baseUrl });
  const auth = attachAuth(api, presets.musement({ clientId, clientSecret, baseUrl, grant: { type: 'password', username: EXAMPLE_USERNAME, password: EXAMPLE_PASSWORD } }));

  await api.get('/api/v3/cities');
  provider.revokeAccessTokens();
  await api.get('/api/v3/cities'); // 401 → the rotating refresh token → replay
  console.log('musement  grants:', provider.grants.join(', '));
  auth.detach();
  await provider.close();
}

async function myparcelSession(): Promise<void> {
  const provider = new ExampleProvider('myparcel');
  const baseUrl = await provider.start(); // stands in for auth.myparcel.com and its API
  const api = axios.create({ baseURL: baseUrl });
  const auth = attachAuth(api, presets.myparcel({ clientId, clientSecret, baseUrl, scope: ['shipments.manage', 'files.show'] }));

  await api.get('/shipments');
  const { expiresAt } = await auth.getToken();
  console.log('myparcel  grants:', provider.grants.join(', '), '| expires (from the JWT exp):', new Date(expiresAt ?? 0).toISOString());
  auth.detach();
  await provider.close();
}

await mvmntSession();
await movemintSession();
await musementSession();
await myparcelSession();
