import { createHash, generateKeyPairSync, X509Certificate, type KeyObject } from 'node:crypto';
import { inspect } from 'node:util';
import axios from 'axios';
import type MockAdapter from 'axios-mock-adapter';
import { expect } from 'chai';
import { decodeProtectedHeader, jwtVerify } from 'jose';
import { attachAuth, ConfigurationError, OAuthError, type AttachAuthOptions } from '../lib/index.js';
import { JWT_BEARER_ASSERTION_TYPE } from '../lib/client-assertion.js';
import { rejection } from './helpers/deferred.js';
import { findSecret } from './helpers/error-secrets.js';
import { FAKE_EPOCH, FakeClock } from './helpers/fake-clock.js';
import { hasOpenssl, makeSelfSignedCertificate } from './helpers/self-signed-certificate.js';
import { JSON_HEADERS, mockAxiosDefaults, oauthError, token } from './helpers/mock-token-endpoint.js';

const TOKEN_URL = 'https://auth.example.com/oauth2/token';
const REVOCATION_URL = 'https://auth.example.com/oauth2/revoke';
const API = 'https://api.example.com';
const CLIENT_ID = 'client-7523';
const HMAC_SECRET = 'a-client-secret-of-at-least-32-bytes-0123456789';

interface KeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }) as KeyPair;
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }) as KeyPair;
const ed = generateKeyPairSync('ed25519') as KeyPair;

describe('client authentication with a signed JWT (RFC 7523)', () => {
  let mock: MockAdapter;
  let clock: FakeClock;
  const bodies: URLSearchParams[] = [];

  beforeEach(() => {
    mock = mockAxiosDefaults();
    clock = new FakeClock();
    bodies.length = 0;
  });
  afterEach(() => mock.restore());

  /** The token endpoint records every body and answers with `replies` in order, then with a token. */
  function tokenEndpoint(...replies: [number, string, Record<string, string>][]): void {
    let count = 0;
    mock.onPost(TOKEN_URL).reply((config) => {
      bodies.push(new URLSearchParams(String(config.data)));
      count += 1;
      return replies[count - 1] ?? token(`access-${count}`);
    });
  }

  function attach(tokenRequest: NonNullable<AttachAuthOptions['tokenRequest']>, extra: Partial<AttachAuthOptions> = {}) {
    const api = axios.create({ baseURL: API });
    const handle = attachAuth(api, { tokenUrl: TOKEN_URL, clientId: CLIENT_ID, tokenRequest, clock, retry: { baseDelay: 1, maxDelay: 5 }, ...extra });
    return { api, handle };
  }

  async function verified(body: URLSearchParams, key: KeyObject | Uint8Array) {
    expect(body.get('client_assertion_type')).to.equal(JWT_BEARER_ASSERTION_TYPE);
    expect(body.get('client_id')).to.equal(CLIENT_ID);
    expect(body.has('client_secret')).to.equal(false);
    const assertion = body.get('client_assertion') ?? '';
    const { payload, protectedHeader } = await jwtVerify(assertion, key, { currentDate: new Date(clock.now()) });
    return { payload, protectedHeader, assertion };
  }

  for (const [name, pair, alg, given] of [
    ['an RSA key in PEM', rsa, 'RS256', rsa.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString()],
    ['a P-256 key as a JWK', ec, 'ES256', ec.privateKey.export({ format: 'jwk' })],
    ['an Ed25519 KeyObject', ed, 'EdDSA', ed.privateKey],
  ] as const) {
    it(`private_key_jwt with ${name} sends an assertion that verifies with the public key, its claims exact (${alg} inferred)`, async () => {
      tokenEndpoint();
      const { handle } = attach({ clientAuth: 'private_key_jwt', clientAssertion: { key: given, kid: 'key-1' } });
      await handle.getToken();
      expect(bodies).to.have.length(1);
      const { payload, protectedHeader } = await verified(bodies[0]!, pair.publicKey);
      expect(protectedHeader).to.deep.equal({ alg, kid: 'key-1' });
      const iat = Math.floor(FAKE_EPOCH / 1000);
      expect(payload).to.deep.equal({ iss: CLIENT_ID, sub: CLIENT_ID, aud: TOKEN_URL, jti: payload.jti, iat, exp: iat + 60 });
      expect(payload.jti).to.match(/^[0-9a-f-]{36}$/);
    });
  }

  it('private_key_jwt signs with PS256 when asked, from an RSA key', async () => {
    tokenEndpoint();
    const { handle } = attach({ clientAuth: 'private_key_jwt', clientAssertion: { key: rsa.privateKey, alg: 'PS256', lifetime: 30 } });
    await handle.getToken();
    const { payload, protectedHeader } = await verified(bodies[0]!, rsa.publicKey);
    expect(protectedHeader).to.deep.equal({ alg: 'PS256' });
    expect(payload.exp! - payload.iat!).to.equal(30);
  });

  it('client_secret_jwt sends an HS256 assertion made with the client secret, and never the secret itself', async () => {
    tokenEndpoint();
    const { handle } = attach({ clientAuth: 'client_secret_jwt' }, { clientSecret: HMAC_SECRET });
    await handle.getToken();
    const { payload, protectedHeader } = await verified(bodies[0]!, new TextEncoder().encode(HMAC_SECRET));
    expect(protectedHeader).to.deep.equal({ alg: 'HS256' });
    expect(payload.iss).to.equal(CLIENT_ID);
    expect(payload.sub).to.equal(CLIENT_ID);
    expect(payload.aud).to.equal(TOKEN_URL);
    expect(bodies[0]!.toString()).not.to.include(encodeURIComponent(HMAC_SECRET));
  });

  it('signs a new assertion (a new jti) for every token request, retries and renewals included', async () => {
    tokenEndpoint([503, '', {}], [502, '', {}]);
    const { handle } = attach({ clientAuth: 'private_key_jwt', clientAssertion: { key: ec.privateKey } });
    await handle.getToken();
    await handle.refresh();
    expect(bodies).to.have.length(4);
    const jtis = await Promise.all(bodies.map(async (body) => (await verified(body, ec.publicKey)).payload.jti));
    expect(new Set(jtis).size).to.equal(4);
  });

  it('authenticates revocation calls with a fresh assertion too', async () => {
    tokenEndpoint();
    const revocations: URLSearchParams[] = [];
    mock.onPost(REVOCATION_URL).reply((config) => {
      revocations.push(new URLSearchParams(String(config.data)));
      return [200, '', {}];
    });
    const { handle } = attach({ clientAuth: 'private_key_jwt', clientAssertion: { key: ec.privateKey } }, { revocationUrl: REVOCATION_URL });
    await handle.getToken();
    await handle.revoke();
    expect(revocations).to.have.length(1);
    const { payload } = await verified(revocations[0]!, ec.publicKey);
    const first = await verified(bodies[0]!, ec.publicKey);
    expect(payload.jti).not.to.equal(first.payload.jti);
    expect(revocations[0]!.get('token')).to.equal('access-1');
  });

  it('keeps the assertion out of an error even when the server echoes it back', async () => {
    mock.onPost(TOKEN_URL).reply((config) => {
      const assertion = new URLSearchParams(String(config.data)).get('client_assertion') ?? '';
      bodies.push(new URLSearchParams(String(config.data)));
      return oauthError(401, 'invalid_client', `bad assertion ${assertion}`);
    });
    const { api } = attach({ clientAuth: 'private_key_jwt', clientAssertion: { key: ec.privateKey } });
    mock.onGet(`${API}/x`).reply(200, {}, JSON_HEADERS);
    const error = await rejection(api.get('/x'));
    expect(error).to.be.instanceOf(OAuthError);
    const assertion = bodies[0]!.get('client_assertion')!;
    const pem = ec.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    expect(findSecret(error, [assertion, assertion.split('.')[2], pem])).to.equal(undefined);
    expect((error as OAuthError).description).to.include('[REDACTED]');
  });

  describe('options checked at attach time', () => {
    const api = axios.create({ baseURL: API });
    const base = { tokenUrl: TOKEN_URL, clientId: CLIENT_ID };
    const refuse = (options: Partial<AttachAuthOptions>, option: string, secret?: string): void => {
      let thrown: unknown;
      try {
        attachAuth(api, { ...base, ...options });
      } catch (error) {
        thrown = error;
      }
      expect(thrown).to.be.instanceOf(ConfigurationError);
      expect((thrown as ConfigurationError).option).to.equal(option);
      if (secret !== undefined) {
        expect(findSecret(thrown, [secret])).to.equal(undefined);
        expect(inspect(thrown, { depth: 10 })).not.to.include(secret.slice(40, 80));
      }
    };
    const publicPem = rsa.publicKey.export({ format: 'pem', type: 'spki' }).toString();
    const privatePem = rsa.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();

    it('private_key_jwt without a key names tokenRequest.clientAssertion.key', () =>
      refuse({ tokenRequest: { clientAuth: 'private_key_jwt' } }, 'tokenRequest.clientAssertion.key'));
    it('a public key where a private one belongs is refused without quoting it', () =>
      refuse({ tokenRequest: { clientAuth: 'private_key_jwt', clientAssertion: { key: publicPem } } }, 'tokenRequest.clientAssertion.key', publicPem));
    it('text that is not a key is refused without quoting it', () =>
      refuse({ tokenRequest: { clientAuth: 'private_key_jwt', clientAssertion: { key: `${privatePem.slice(0, 200)}garbage` } } }, 'tokenRequest.clientAssertion.key', privatePem));
    it('an algorithm that does not suit the key names tokenRequest.clientAssertion.alg', () =>
      refuse({ tokenRequest: { clientAuth: 'private_key_jwt', clientAssertion: { key: privatePem, alg: 'ES256' } } }, 'tokenRequest.clientAssertion.alg', privatePem));
    it('client_secret_jwt without a client secret names clientSecret', () => refuse({ tokenRequest: { clientAuth: 'client_secret_jwt' } }, 'clientSecret'));
    it('client_secret_jwt with an RSA algorithm names tokenRequest.clientAssertion.alg', () =>
      refuse({ clientSecret: HMAC_SECRET, tokenRequest: { clientAuth: 'client_secret_jwt', clientAssertion: { alg: 'RS256' } } }, 'tokenRequest.clientAssertion.alg'));
    it('clientAssertion with a secret-based clientAuth names tokenRequest.clientAssertion', () =>
      refuse({ clientSecret: 's', tokenRequest: { clientAuth: 'basic', clientAssertion: { key: privatePem } } }, 'tokenRequest.clientAssertion'));
    it('an assertion lifetime of an hour and more is refused', () =>
      refuse({ tokenRequest: { clientAuth: 'private_key_jwt', clientAssertion: { key: privatePem, lifetime: 86_400 } } }, 'tokenRequest.clientAssertion.lifetime'));
  });

  it('names the certificate by its x5t and x5t#S256 thumbprints when one is given (Microsoft Entra ID)', async function () {
    if (!hasOpenssl()) this.skip();
    const { cert, key } = makeSelfSignedCertificate('client-7523');
    tokenEndpoint();
    const { handle } = attach({ clientAuth: 'private_key_jwt', clientAssertion: { key, certificate: cert } });
    await handle.getToken();
    const der = new X509Certificate(cert).raw;
    const { protectedHeader } = await verified(bodies[0]!, new X509Certificate(cert).publicKey);
    expect(protectedHeader).to.deep.equal({ alg: 'ES256', x5t: createHash('sha1').update(der).digest('base64url'), 'x5t#S256': createHash('sha256').update(der).digest('base64url') });
  });

  it('refuses a certificate that does not belong to the key, at attach time', function () {
    if (!hasOpenssl()) this.skip();
    const { cert } = makeSelfSignedCertificate();
    expect(() => attach({ clientAuth: 'private_key_jwt', clientAssertion: { key: ec.privateKey, certificate: cert } }))
      .to.throw(ConfigurationError)
      .with.property('option', 'tokenRequest.clientAssertion.certificate');
  });

  it('decodes the kid of a JWK when none is given', async () => {
    tokenEndpoint();
    const { handle } = attach({ clientAuth: 'private_key_jwt', clientAssertion: { key: { ...ec.privateKey.export({ format: 'jwk' }), kid: 'from-jwk' } } });
    await handle.getToken();
    expect(decodeProtectedHeader(bodies[0]!.get('client_assertion')!)).to.deep.equal({ alg: 'ES256', kid: 'from-jwk' });
  });
});
