import { generateKeyPairSync } from 'node:crypto';
import https from 'node:https';
import axios from 'axios';
import { decodeJwt } from 'jose';
import type MockAdapter from 'axios-mock-adapter';
import { expect } from 'chai';
import { attachAuth, ConfigurationError, ErrorCodes, TokenEndpointError, type AttachAuthOptions } from '../lib/index.js';
import { metadataUrls } from '../lib/discovery.js';
import { rejection, settleAll } from './helpers/deferred.js';
import { FakeClock } from './helpers/fake-clock.js';
import { JSON_HEADERS, mockAxiosDefaults, token } from './helpers/mock-token-endpoint.js';

const ISSUER = 'https://login.example.com/tenant-1';
const OAUTH_METADATA = 'https://login.example.com/.well-known/oauth-authorization-server/tenant-1';
const OPENID_METADATA = 'https://login.example.com/tenant-1/.well-known/openid-configuration';
const TOKEN_URL = 'https://login.example.com/tenant-1/oauth2/v2/token';
const API = 'https://api.example.com';
const SECRET = 'discovery-secret-Q1';

function metadata(extra: Record<string, unknown> = {}): [number, string, Record<string, string>] {
  return [
    200,
    JSON.stringify({
      issuer: ISSUER,
      token_endpoint: TOKEN_URL,
      revocation_endpoint: `${ISSUER}/oauth2/revoke`,
      introspection_endpoint: `${ISSUER}/oauth2/introspect`,
      token_endpoint_auth_methods_supported: ['client_secret_post'],
      ...extra,
    }),
    JSON_HEADERS,
  ];
}

describe('issuer discovery (RFC 8414, OpenID Connect Discovery)', () => {
  let mock: MockAdapter;
  let clock: FakeClock;
  const metadataReads: string[] = [];
  const tokenBodies: URLSearchParams[] = [];

  beforeEach(() => {
    mock = mockAxiosDefaults();
    clock = new FakeClock();
    metadataReads.length = 0;
    tokenBodies.length = 0;
    mock.onPost(TOKEN_URL).reply((config) => {
      tokenBodies.push(new URLSearchParams(String(config.data)));
      return token(`access-${tokenBodies.length}`);
    });
    mock.onGet(`${API}/x`).reply(200, { ok: true }, JSON_HEADERS);
  });
  afterEach(() => mock.restore());

  function serveMetadata(oauth: (() => [number, string, Record<string, string>]) | undefined, openid: () => [number, string, Record<string, string>] = metadata): void {
    mock.onGet(OAUTH_METADATA).reply(() => {
      metadataReads.push('oauth');
      return oauth?.() ?? [404, '', {}];
    });
    mock.onGet(OPENID_METADATA).reply(() => {
      metadataReads.push('openid');
      return openid();
    });
  }

  function attach(extra: Partial<AttachAuthOptions> = {}) {
    const api = axios.create({ baseURL: API });
    const handle = attachAuth(api, { issuer: ISSUER, clientId: 'client-1', clientSecret: SECRET, clock, retry: { limit: 1, baseDelay: 1, maxDelay: 5 }, ...extra });
    return { api, handle };
  }

  it('builds both well-known URLs from an issuer with a path (RFC 8414 §3.1, OpenID Connect Discovery §4)', () => {
    expect(metadataUrls(ISSUER)).to.deep.equal([OAUTH_METADATA, OPENID_METADATA]);
    expect(metadataUrls('https://login.example.com')).to.deep.equal(['https://login.example.com/.well-known/oauth-authorization-server', 'https://login.example.com/.well-known/openid-configuration']);
  });

  it('reads the metadata once for 200 concurrent requests and takes the token endpoint from it', async () => {
    serveMetadata(metadata);
    const { api, handle } = attach();
    const results = await settleAll(Array.from({ length: 200 }, () => api.get('/x')), 5000);
    expect(results.filter((result) => result.status === 'rejected')).to.have.length(0);
    await handle.refresh();
    expect(metadataReads).to.deep.equal(['oauth']);
    expect(tokenBodies).to.have.length(2);
  });

  it('falls back to the OpenID Connect document when the RFC 8414 one is not there', async () => {
    serveMetadata(undefined);
    const { handle } = attach();
    expect((await handle.getToken()).accessToken).to.equal('access-1');
    expect(metadataReads).to.deep.equal(['oauth', 'openid']);
  });

  it('rejects held requests with a typed error when the metadata names another issuer (RFC 8414 §3.3), and sends no token request', async () => {
    serveMetadata(() => metadata({ issuer: 'https://login.example.com/other-tenant' }));
    const { api } = attach();
    const results = await settleAll([api.get('/x'), api.get('/x')], 5000);
    for (const result of results) {
      expect(result.status).to.equal('rejected');
      const error = (result as PromiseRejectedResult).reason as TokenEndpointError;
      expect(error).to.be.instanceOf(TokenEndpointError);
      expect(error.code).to.equal(ErrorCodes.DISCOVERY_FAILED);
      expect(error.message).to.include('RFC 8414 §3.3');
    }
    expect(tokenBodies).to.have.length(0);
  });

  it('refuses a token endpoint over plain http to a host that is not loopback', async () => {
    serveMetadata(() => metadata({ token_endpoint: 'http://login.example.com/token' }));
    const { handle } = attach();
    const error = await rejection(handle.getToken());
    expect(error).to.include({ code: ErrorCodes.DISCOVERY_FAILED });
    expect(tokenBodies).to.have.length(0);
  });

  it('rejects while the metadata cannot be read, then reads it again after a back-off', async () => {
    let down = true;
    serveMetadata(() => (down ? [503, '', {}] : metadata()));
    const { handle } = attach({ failureCoolDown: 0 });
    const first = await rejection(handle.getToken());
    expect(first).to.be.instanceOf(TokenEndpointError);
    expect((first as TokenEndpointError).status).to.equal(503);
    const readsWhileDown = metadataReads.length;

    down = false;
    // Within the back-off the last failure is answered without a read.
    await rejection(handle.getToken());
    expect(metadataReads.length).to.equal(readsWhileDown);
    clock.advance(60_000);
    expect((await handle.getToken()).accessToken).to.equal('access-1');
    expect(metadataReads.length).to.equal(readsWhileDown + 1);
  });

  it('authenticates as the metadata says when clientAuth is not given (client_secret_post only → body; nothing said → Basic)', async () => {
    serveMetadata(metadata);
    await attach().handle.getToken();
    expect(tokenBodies[0]!.get('client_secret')).to.equal(SECRET);

    mock.restore();
    mock = mockAxiosDefaults();
    let authorization: unknown;
    mock.onGet(OAUTH_METADATA).reply(() => metadata({ token_endpoint_auth_methods_supported: undefined }));
    mock.onPost(TOKEN_URL).reply((config) => {
      authorization = config.headers?.['Authorization'];
      return token('basic-1');
    });
    await attach().handle.getToken();
    expect(authorization).to.equal(`Basic ${Buffer.from(`client-1:${SECRET}`).toString('base64')}`);
  });

  it('revokes at the revocation_endpoint and introspects at the introspection_endpoint the metadata names', async () => {
    serveMetadata(metadata);
    const calls: string[] = [];
    mock.onPost(`${ISSUER}/oauth2/revoke`).reply(() => {
      calls.push('revoke');
      return [200, '', {}];
    });
    mock.onPost(`${ISSUER}/oauth2/introspect`).reply((config) => {
      calls.push(`introspect ${new URLSearchParams(String(config.data)).get('token')}`);
      return [200, JSON.stringify({ active: true }), JSON_HEADERS];
    });
    const { handle } = attach();
    expect(await handle.introspect()).to.deep.equal({ active: true });
    await handle.revoke();
    expect(calls).to.deep.equal(['introspect access-1', 'revoke']);
  });

  it('signs client assertions for the token endpoint from the metadata, or for the issuer when asked', async () => {
    serveMetadata(metadata);
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    await attach({ tokenRequest: { clientAuth: 'private_key_jwt', clientAssertion: { key: privateKey } } }).handle.refresh();
    await attach({ tokenRequest: { clientAuth: 'private_key_jwt', clientAssertion: { key: privateKey, audience: 'issuer' } } }).handle.refresh();
    expect(tokenBodies.map((body) => decodeJwt(body.get('client_assertion')!).aud)).to.deep.equal([TOKEN_URL, ISSUER]);
  });

  it('sends the token request of an mTLS client to the mtls_endpoint_aliases token endpoint (RFC 8705 §5)', async () => {
    const alias = 'https://mtls.login.example.com/tenant-1/token';
    serveMetadata(() => metadata({ mtls_endpoint_aliases: { token_endpoint: alias } }));
    const bodies: URLSearchParams[] = [];
    mock.onPost(alias).reply((config) => {
      bodies.push(new URLSearchParams(String(config.data)));
      return token('mtls-1');
    });
    const agent = new https.Agent({ cert: 'certificate', key: 'key' });
    expect((await attach({ tokenRequest: { clientAuth: 'tls_client_auth', httpsAgent: agent } }).handle.getToken()).accessToken).to.equal('mtls-1');
    expect(bodies[0]?.get('client_id')).to.equal('client-1');
    expect(bodies[0]?.has('client_secret')).to.equal(false);
    expect(tokenBodies).to.have.length(0);
  });

  describe('options checked at attach time', () => {
    const api = axios.create({ baseURL: API });
    const refuse = (options: Partial<AttachAuthOptions>, option: string): void => {
      expect(() => attachAuth(api, { clientId: 'c', ...options } as AttachAuthOptions))
        .to.throw(ConfigurationError)
        .with.property('option', option);
    };
    it('an issuer with a query names issuer', () => refuse({ issuer: `${ISSUER}?x=1` }, 'issuer'));
    it('an issuer over plain http to a host that is not loopback names issuer', () => refuse({ issuer: 'http://login.example.com' }, 'issuer'));
    it('both issuer and tokenUrl names tokenUrl', () => refuse({ issuer: ISSUER, tokenUrl: TOKEN_URL }, 'tokenUrl'));
    it('neither issuer nor tokenUrl names tokenUrl', () => refuse({}, 'tokenUrl'));
    it('an assertion audience of "issuer" without an issuer names tokenRequest.clientAssertion.audience', () =>
      refuse({ tokenUrl: TOKEN_URL, tokenRequest: { clientAuth: 'client_secret_jwt', clientAssertion: { audience: 'issuer' } }, clientSecret: SECRET }, 'tokenRequest.clientAssertion.audience'));
  });
});
