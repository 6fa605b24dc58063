import { createHash, generateKeyPairSync } from 'node:crypto';
import axios, { type AxiosRequestConfig } from 'axios';
import type MockAdapter from 'axios-mock-adapter';
import { expect } from 'chai';
import { EmbeddedJWK, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { attachAuth, ConfigurationError, type AttachAuthOptions } from '../lib/index.js';
import { rejection } from './helpers/deferred.js';
import { FAKE_EPOCH, FakeClock } from './helpers/fake-clock.js';
import { JSON_HEADERS, mockAxiosDefaults } from './helpers/mock-token-endpoint.js';

const TOKEN_URL = 'https://auth.example.com/oauth2/token';
const API = 'https://api.example.com';

interface Sent {
  url: string;
  method: string;
  authorization: unknown;
  proof: string;
  assertion: string | null;
}

function header(config: AxiosRequestConfig, name: string): unknown {
  const headers = (config.headers ?? {}) as Record<string, unknown>;
  const key = Object.keys(headers).find((candidate) => candidate.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : headers[key];
}

function record(config: AxiosRequestConfig): Sent {
  return {
    url: String(config.url),
    method: String(config.method).toUpperCase(),
    authorization: header(config, 'Authorization'),
    proof: String(header(config, 'DPoP') ?? ''),
    assertion: new URLSearchParams(typeof config.data === 'string' ? config.data : '').get('client_assertion'),
  };
}

/** Verifies a proof with the key in its own header, as a server does, and returns its claims and header. */
async function verifyProof(proof: string) {
  const { payload, protectedHeader } = await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt', currentDate: new Date(FAKE_EPOCH) });
  return { payload, protectedHeader };
}

const ath = (token: string): string => createHash('sha256').update(token).digest('base64url');

describe('DPoP (RFC 9449)', () => {
  let mock: MockAdapter;
  let clock: FakeClock;
  const tokenCalls: Sent[] = [];
  const apiCalls: Sent[] = [];

  beforeEach(() => {
    mock = mockAxiosDefaults();
    clock = new FakeClock();
    tokenCalls.length = 0;
    apiCalls.length = 0;
  });
  afterEach(() => mock.restore());

  type Reply = [number, unknown, Record<string, string>?];
  function tokenEndpoint(...replies: Reply[]): void {
    mock.onPost(TOKEN_URL).reply((config) => {
      tokenCalls.push(record(config));
      const reply = replies[tokenCalls.length - 1];
      return reply === undefined ? [200, JSON.stringify({ access_token: `dpop-token-${tokenCalls.length}`, token_type: 'DPoP', expires_in: 3600 }), JSON_HEADERS] : [reply[0], JSON.stringify(reply[1]), { ...JSON_HEADERS, ...reply[2] }];
    });
  }
  function apiEndpoint(...replies: Reply[]): void {
    mock.onGet(/^https:\/\/api\.example\.com\//).reply((config) => {
      apiCalls.push(record(config));
      const reply = replies[apiCalls.length - 1];
      return reply === undefined ? [200, JSON.stringify({ ok: true }), JSON_HEADERS] : [reply[0], JSON.stringify(reply[1]), { ...JSON_HEADERS, ...reply[2] }];
    });
  }
  function attach(extra: Partial<AttachAuthOptions> = {}) {
    const api = axios.create({ baseURL: API });
    const handle = attachAuth(api, { tokenUrl: TOKEN_URL, clientId: 'dpop-client', clientSecret: 'dpop-secret-1', dpop: true, clock, ...extra });
    return { api, handle };
  }

  it('sends a proof with the token request and a proof bound to the token with each API request, the claims exact', async () => {
    tokenEndpoint();
    apiEndpoint();
    const { api } = attach();
    await api.get('/orders/7?expand=lines#top');

    const token = await verifyProof(tokenCalls[0]!.proof);
    expect(token.protectedHeader.alg).to.equal('ES256');
    expect(token.protectedHeader.jwk).to.have.keys(['kty', 'crv', 'x', 'y']);
    const iat = Math.floor(FAKE_EPOCH / 1000);
    expect(token.payload).to.deep.equal({ htm: 'POST', htu: TOKEN_URL, jti: token.payload.jti, iat });

    expect(apiCalls[0]!.authorization).to.equal('DPoP dpop-token-1');
    const resource = await verifyProof(apiCalls[0]!.proof);
    expect(resource.payload).to.deep.equal({ htm: 'GET', htu: `${API}/orders/7`, jti: resource.payload.jti, iat, ath: ath('dpop-token-1') });
    expect(resource.protectedHeader.jwk, 'the same key for the token and the API').to.deep.equal(token.protectedHeader.jwk);
    expect(resource.payload.jti).not.to.equal(token.payload.jti);
  });

  it('retries a use_dpop_nonce answer of the token endpoint once with the nonce, signing a new client assertion', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    tokenEndpoint([400, { error: 'use_dpop_nonce', error_description: 'nonce required' }, { 'DPoP-Nonce': 'token-nonce-1' }]);
    apiEndpoint();
    const api = axios.create({ baseURL: API });
    const handle = attachAuth(api, { tokenUrl: TOKEN_URL, clientId: 'dpop-client', dpop: true, clock, tokenRequest: { clientAuth: 'private_key_jwt', clientAssertion: { key: privateKey } } });
    await api.get('/x');

    expect(tokenCalls).to.have.length(2);
    const [first, second] = await Promise.all(tokenCalls.map((call) => verifyProof(call.proof)));
    expect(first!.payload.nonce).to.equal(undefined);
    expect(second!.payload.nonce).to.equal('token-nonce-1');
    expect(second!.payload.jti).not.to.equal(first!.payload.jti);
    expect(decodeJwt(tokenCalls[1]!.assertion!).jti, 'a new client assertion').not.to.equal(decodeJwt(tokenCalls[0]!.assertion!).jti);
    expect(handle.stats()).to.include({ refreshes: 1, failures: 0 });
    // The nonce is the token endpoint's: the API, another origin, gets none.
    expect((await verifyProof(apiCalls[0]!.proof)).payload.nonce).to.equal(undefined);
  });

  it('rejects with the OAuth error when the token endpoint asks for a nonce twice (no loop)', async () => {
    const again: Reply = [400, { error: 'use_dpop_nonce' }, { 'DPoP-Nonce': 'n-1' }];
    tokenEndpoint(again, [400, { error: 'use_dpop_nonce' }, { 'DPoP-Nonce': 'n-2' }], again, again);
    const { handle } = attach({ retry: { limit: 0 } });
    const error = await rejection(handle.getToken());
    expect(error).to.include({ code: 'use_dpop_nonce' });
    expect(tokenCalls).to.have.length(2);
  });

  it('answers an API nonce challenge with one more send carrying the nonce: no token request, not the 401 replay', async () => {
    tokenEndpoint();
    apiEndpoint([401, { error: 'use_dpop_nonce' }, { 'WWW-Authenticate': 'DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof"', 'DPoP-Nonce': 'api-nonce-1' }], [200, {}], [401, { error: 'invalid_token' }, { 'WWW-Authenticate': 'DPoP error="invalid_token"' }]);
    const { api, handle } = attach();
    expect((await api.get('/x')).status).to.equal(200);
    expect(tokenCalls).to.have.length(1);
    expect(handle.stats().replays).to.equal(0);
    const [challenged, retried] = await Promise.all(apiCalls.map((call) => verifyProof(call.proof)));
    expect(retried!.payload.nonce).to.equal('api-nonce-1');
    expect(retried!.payload.jti).not.to.equal(challenged!.payload.jti);

    // The nonce is remembered for the origin, and the 401 replay is still there for a revoked token.
    expect((await api.get('/y')).status).to.equal(200);
    expect(tokenCalls).to.have.length(2);
    expect(handle.stats().replays).to.equal(1);
    const afterRevocation = await Promise.all(apiCalls.slice(2).map((call) => verifyProof(call.proof)));
    expect(afterRevocation.map((proof) => proof.payload.nonce)).to.deep.equal(['api-nonce-1', 'api-nonce-1']);
    expect(afterRevocation[1]!.payload.ath).to.equal(ath('dpop-token-2'));
    expect(new Set(apiCalls.map((call) => decodeJwt(call.proof).jti)).size, 'never a reused jti').to.equal(4);
  });

  it('lets the second nonce challenge of one request reach the caller', async () => {
    tokenEndpoint();
    const challenge: Reply = [401, { error: 'use_dpop_nonce' }, { 'WWW-Authenticate': 'DPoP error="use_dpop_nonce"', 'DPoP-Nonce': 'a' }];
    apiEndpoint(challenge, [401, { error: 'use_dpop_nonce' }, { 'WWW-Authenticate': 'DPoP error="use_dpop_nonce"', 'DPoP-Nonce': 'b' }]);
    const { api } = attach();
    const error = await rejection(api.get('/x'));
    expect((error as { response?: { status?: number } }).response?.status).to.equal(401);
    expect(apiCalls).to.have.length(2);
    expect(tokenCalls).to.have.length(1);
  });

  it('sends a Bearer token without a proof when the server did not bind it (token_type Bearer)', async () => {
    mock.onPost(TOKEN_URL).reply(200, JSON.stringify({ access_token: 'plain-1', token_type: 'Bearer', expires_in: 3600 }), JSON_HEADERS);
    apiEndpoint();
    const { api } = attach();
    await api.get('/x');
    expect(apiCalls[0]!.authorization).to.equal('Bearer plain-1');
    expect(apiCalls[0]!.proof).to.equal('');
  });

  it('signs with the key given, its algorithm inferred (EdDSA)', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    tokenEndpoint();
    const { handle } = attach({ dpop: { key: privateKey } });
    await handle.getToken();
    const { protectedHeader } = await verifyProof(tokenCalls[0]!.proof);
    expect(protectedHeader.alg).to.equal('EdDSA');
    expect(protectedHeader.jwk).to.deep.equal({ kty: 'OKP', crv: 'Ed25519', x: publicKey.export({ format: 'jwk' }).x });
  });

  it('refuses a public key as dpop.key at attach time', () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    expect(() => attach({ dpop: { key: publicKey } }))
      .to.throw(ConfigurationError)
      .with.property('option', 'dpop.key');
  });

  it('refuses a DPoP token type when DPoP was not asked for', async () => {
    tokenEndpoint();
    const { handle } = attach({ dpop: false });
    const error = await rejection(handle.getToken());
    expect(error.message).to.include('token_type other than Bearer');
    expect(decodeProtectedHeader).to.be.a('function');
  });
});
