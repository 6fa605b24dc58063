// Clients beyond a shared secret, against oidc-provider 8: signed JWT client
// authentication (RFC 7523: private_key_jwt with ES256 and PS256 keys registered
// in the client's JWKS, client_secret_jwt) and issuer discovery (RFC 8414 /
// OpenID Connect Discovery). oidc-provider checks every claim, the signature and
// that no jti is presented twice, so each renewal proves a new assertion was signed.

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import axios, { type AxiosInstance } from 'axios';
import { expect } from 'chai';
import { attachAuth, OAuthError, type AttachAuthOptions, type AuthHandle } from '../../lib/index.js';
import { findSecret } from '../helpers/error-secrets.js';
import { API_CLIENT, JWT_AUDIENCE, startOidcProvider, type OidcProviderServer } from './helpers/oidc-provider-server.js';
import { startDPoPApi, type DPoPApi } from './helpers/dpop-api.js';
import { startProtectedApi, type ApiAnswer, type ProtectedApi } from './helpers/protected-api.js';

const BOUND_MS = 10_000;
/** oidc-provider wants an HS256 secret of at least 32 bytes. */
const JWT_SECRET = 'client-secret-jwt-0f5b2c9e7d31a8b4c6e0f2a1';

const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const otherEc = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const publicJwk = (key: typeof ec.publicKey, kid: string): Record<string, unknown> => ({ ...key.export({ format: 'jwk' }), kid, use: 'sig' });

describe('interop: clients beyond a shared secret, with oidc-provider 8', function () {
  let op: OidcProviderServer;
  let api: ProtectedApi;
  let dpopApi: DPoPApi;
  /** Whether oidc-provider's token endpoint asks DPoP clients for a nonce. */
  let tokenEndpointWantsNonce = false;
  const handles: AuthHandle[] = [];

  before(async () => {
    op = await startOidcProvider({
      clients: [
        { client_id: 'pk-es256', grant_types: ['client_credentials'], token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [publicJwk(ec.publicKey, 'ec-1')] } },
        {
          client_id: 'pk-rs256',
          grant_types: ['client_credentials'],
          token_endpoint_auth_method: 'private_key_jwt',
          token_endpoint_auth_signing_alg: 'PS256',
          jwks: { keys: [publicJwk(rsa.publicKey, 'rsa-1')] },
        },
        { client_id: 'cs-jwt', client_secret: JWT_SECRET, grant_types: ['client_credentials'], token_endpoint_auth_method: 'client_secret_jwt' },
        { client_id: 'cs-jwt-basic', client_secret: JWT_SECRET, grant_types: ['client_credentials'], token_endpoint_auth_method: 'client_secret_basic' },
        {
          client_id: 'dpop-pk',
          grant_types: ['client_credentials'],
          token_endpoint_auth_method: 'private_key_jwt',
          jwks: { keys: [publicJwk(ec.publicKey, 'ec-1')] },
          dpop_bound_access_tokens: true,
        },
        { client_id: 'dpop-post', client_secret: JWT_SECRET, grant_types: ['client_credentials'], token_endpoint_auth_method: 'client_secret_post', dpop_bound_access_tokens: true },
      ],
      features: { dPoP: { enabled: true, nonceSecret: randomBytes(32), requireNonce: () => tokenEndpointWantsNonce } },
    });
    api = await startProtectedApi({ issuer: op.issuer, introspectionUrl: op.introspectionUrl, jwksUrl: op.jwksUrl, audience: JWT_AUDIENCE, client: API_CLIENT });
    dpopApi = await startDPoPApi({ introspectionUrl: op.introspectionUrl, client: API_CLIENT });
  });

  after(async () => {
    await dpopApi?.close();
    await api?.close();
    await op?.close();
  });

  beforeEach(() => {
    op.reset();
    api.reset();
    dpopApi.reset();
    tokenEndpointWantsNonce = false;
  });

  afterEach(() => {
    for (const handle of handles.splice(0)) handle.detach();
    expect(op.serverErrors).to.deep.equal([]);
  });

  function connect(options: Omit<AttachAuthOptions, 'tokenUrl'>): { client: AxiosInstance; handle: AuthHandle } {
    const client = axios.create({ baseURL: api.baseURL, timeout: BOUND_MS });
    const handle = attachAuth(client, { tokenUrl: op.tokenUrl, revocationUrl: op.revocationUrl, ...options });
    handles.push(handle);
    return { client, handle };
  }

  const kinds: [string, Omit<AttachAuthOptions, 'tokenUrl'>][] = [
    ['private_key_jwt with an ES256 key (PEM)', { clientId: 'pk-es256', tokenRequest: { clientAuth: 'private_key_jwt', clientAssertion: { key: ec.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), kid: 'ec-1' } } }],
    ['private_key_jwt with an RSA key signing PS256 (JWK)', { clientId: 'pk-rs256', tokenRequest: { clientAuth: 'private_key_jwt', clientAssertion: { key: { ...rsa.privateKey.export({ format: 'jwk' }), kid: 'rsa-1' }, alg: 'PS256' } } }],
    ['client_secret_jwt', { clientId: 'cs-jwt', clientSecret: JWT_SECRET, tokenRequest: { clientAuth: 'client_secret_jwt' } }],
  ];

  for (const [name, options] of kinds) {
    describe(name, () => {
      it('gets a token, calls the protected API, renews, and survives a revocation at the provider', async () => {
        const { client, handle } = connect(options);

        const first = await client.get<ApiAnswer>('/me');
        expect(first.data).to.include({ clientId: options.clientId, tokenKind: 'opaque' });

        // A renewal: oidc-provider refuses an assertion whose jti it has seen, so this proves a new one.
        const renewed = await handle.refresh();
        const second = await client.get<ApiAnswer>('/me');
        expect(second.status).to.equal(200);
        expect(api.requests.at(-1)?.token).to.equal(renewed.accessToken);

        // An administrator revokes the token: the API answers 401, one new token, one replay.
        expect(await op.destroyAccessToken(renewed.accessToken)).to.equal(true);
        const third = await client.get<ApiAnswer>('/me');
        expect(third.status).to.equal(200);
        expect(api.unauthorized()).to.equal(1);

        expect(op.tokenRequestsOf(options.clientId).map((record) => [record.clientAuth, record.status])).to.deep.equal([
          ['body', 200],
          ['body', 200],
          ['body', 200],
        ]);
        expect(handle.stats()).to.include({ tokenRequests: 3, replays: 1 });
      });

      it('revokes its token at the revocation endpoint, authenticating with a new assertion', async () => {
        const { client, handle } = connect(options);
        const { accessToken } = await handle.getToken();
        expect((await client.get('/me')).status).to.equal(200);

        expect(await handle.revoke()).to.deep.equal({ refreshToken: 'none', accessToken: 'revoked' });
        expect(op.revocations.map((record) => record.status)).to.deep.equal([200]);
        const direct = await axios.get(`${api.baseURL}/me`, { headers: { Authorization: `Bearer ${accessToken}` }, validateStatus: () => true });
        expect(direct.status, 'the revoked token is refused by the API').to.equal(401);
      });
    });
  }

  describe('issuer discovery', () => {
    it('finds the token endpoint from the issuer alone (OpenID Connect document), gets tokens with private_key_jwt (aud = issuer), renews, introspects and revokes', async () => {
      const client = axios.create({ baseURL: api.baseURL, timeout: BOUND_MS });
      const handle = attachAuth(client, {
        issuer: op.issuer,
        clientId: 'pk-es256',
        tokenRequest: { clientAuth: 'private_key_jwt', clientAssertion: { key: ec.privateKey, kid: 'ec-1', audience: 'issuer' } },
      });
      handles.push(handle);

      expect((await client.get<ApiAnswer>('/me')).data).to.include({ clientId: 'pk-es256' });
      const renewed = await handle.refresh();
      expect((await client.get<ApiAnswer>('/me')).status).to.equal(200);
      const introspection = (await handle.introspect()) as Record<string, unknown>;
      expect(introspection).to.include({ active: true, client_id: 'pk-es256' });
      expect(await handle.revoke()).to.deep.equal({ refreshToken: 'none', accessToken: 'revoked' });
      expect(await axios.get(`${api.baseURL}/me`, { headers: { Authorization: `Bearer ${renewed.accessToken}` }, validateStatus: () => true }).then((response) => response.status)).to.equal(401);
      expect(op.tokenRequestsOf('pk-es256').map((record) => record.status)).to.deep.equal([200, 200]);
      expect(op.revocations.map((record) => record.status)).to.deep.equal([200]);
    });

    it('chooses client_secret_basic from the metadata when clientAuth is not given', async () => {
      const client = axios.create({ baseURL: api.baseURL, timeout: BOUND_MS });
      const handle = attachAuth(client, { issuer: op.issuer, clientId: 'cs-jwt-basic', clientSecret: JWT_SECRET });
      handles.push(handle);

      expect((await client.get<ApiAnswer>('/me')).status).to.equal(200);
      expect(op.tokenRequestsOf('cs-jwt-basic').map((record) => [record.clientAuth, record.status])).to.deep.equal([['basic', 200]]);
    });

    it('rejects every request with a typed error, and asks for no token, when the issuer does not match the metadata', async () => {
      const client = axios.create({ baseURL: api.baseURL, timeout: BOUND_MS });
      // oidc-provider names itself without the trailing slash: not the same identifier (RFC 8414 §3.3).
      const handle = attachAuth(client, { issuer: `${op.issuer}/`, clientId: 'cs-jwt-basic', clientSecret: JWT_SECRET });
      handles.push(handle);

      const error: unknown = await client.get('/me').then(
        () => expect.fail('a request went out with an issuer that does not match'),
        (reason: unknown) => reason,
      );
      expect(error).to.include({ code: 'ERR_DISCOVERY_FAILED' });
      expect(op.tokenRequests).to.deep.equal([]);
      expect(api.requests).to.deep.equal([]);
    });
  });

  describe('DPoP (RFC 9449)', () => {
    function connectDPoP(options: Omit<AttachAuthOptions, 'issuer' | 'tokenUrl'>): { client: AxiosInstance; handle: AuthHandle } {
      const client = axios.create({ baseURL: dpopApi.baseURL, timeout: BOUND_MS });
      const handle = attachAuth(client, { issuer: op.issuer, ...options });
      handles.push(handle);
      return { client, handle };
    }

    it('gets a DPoP-bound token with private_key_jwt through a token-endpoint nonce, calls the API, survives an API nonce change, renews and a revocation', async () => {
      tokenEndpointWantsNonce = true;
      const { client, handle } = connectDPoP({ clientId: 'dpop-pk', dpop: true, tokenRequest: { clientAuth: 'private_key_jwt', clientAssertion: { key: ec.privateKey, kid: 'ec-1' } } });

      // The token endpoint asks for a nonce first: one more try, with a new client assertion (oidc-provider spent the first jti).
      const first = await client.get('/me');
      expect(first.data).to.deep.equal({ clientId: 'dpop-pk', bound: true });
      expect(op.tokenRequestsOf('dpop-pk').map((record) => record.status)).to.deep.equal([400, 200]);
      expect((await handle.getToken()).tokenType).to.equal('DPoP');

      // The API starts asking for its own nonce, then changes it: each costs one more send, no token request.
      dpopApi.requireNonce('api-nonce-1');
      expect((await client.get('/me')).status).to.equal(200);
      dpopApi.requireNonce('api-nonce-2');
      expect((await client.get('/me')).status).to.equal(200);
      expect((await client.get('/me')).status).to.equal(200);
      expect(dpopApi.requests.map((record) => [record.status, record.error ?? '', record.nonce ?? ''])).to.deep.equal([
        [200, '', ''],
        [401, 'use_dpop_nonce', ''],
        [200, '', 'api-nonce-1'],
        [401, 'use_dpop_nonce', 'api-nonce-1'],
        [200, '', 'api-nonce-2'],
        [200, '', 'api-nonce-2'],
      ]);
      expect(handle.stats()).to.include({ replays: 0, refreshes: 1 });

      // A renewal: the token endpoint's nonce is remembered, so no second use_dpop_nonce.
      await handle.refresh();
      expect((await client.get('/me')).status).to.equal(200);
      expect(op.tokenRequestsOf('dpop-pk').map((record) => record.status)).to.deep.equal([400, 200, 200]);

      // An administrator revokes the token: one new token and one replay, with a new proof.
      expect(await op.destroyAccessToken((await handle.getToken()).accessToken)).to.equal(true);
      expect((await client.get('/me')).status).to.equal(200);
      expect(handle.stats().replays).to.equal(1);
      const jtis = dpopApi.requests.map((record) => record.jti);
      expect(new Set(jtis).size, 'no proof was sent twice').to.equal(jtis.length);
    });

    it('binds tokens of a client_secret_post client to a key of its own, with the algorithm the metadata lists', async () => {
      const { privateKey } = generateKeyPairSync('ed25519');
      const { client, handle } = connectDPoP({ clientId: 'dpop-post', clientSecret: JWT_SECRET, tokenRequest: { clientAuth: 'body' }, dpop: { key: privateKey } });
      expect((await client.get('/me')).data).to.deep.equal({ clientId: 'dpop-post', bound: true });
      expect((await handle.introspect()) as Record<string, unknown>).to.include({ token_type: 'DPoP', active: true });
    });

    it('a DPoP-bound token sent without a proof, as a thief would, is refused by the API (the binding holds)', async () => {
      const { handle } = connectDPoP({ clientId: 'dpop-post', clientSecret: JWT_SECRET, tokenRequest: { clientAuth: 'body' }, dpop: true });
      const { accessToken } = await handle.getToken();
      const stolen = await axios.get(`${dpopApi.baseURL}/me`, { headers: { Authorization: `DPoP ${accessToken}` }, validateStatus: () => true });
      expect(stolen.status).to.equal(401);
    });
  });

  it('rejects with invalid_client, naming no key, when the assertion is signed with a key the client did not register', async () => {
    const otherPem = otherEc.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const { client } = connect({ clientId: 'pk-es256', tokenRequest: { clientAuth: 'private_key_jwt', clientAssertion: { key: otherPem, kid: 'ec-1' } } });

    const error: unknown = await client.get('/me').then(
      () => expect.fail('a token was issued for an assertion signed with the wrong key'),
      (reason: unknown) => reason,
    );

    expect(error).to.be.instanceOf(OAuthError);
    expect(error).to.include({ code: 'invalid_client', status: 401 });
    expect(findSecret(error, [otherPem, ...otherPem.split('\n').filter((line) => line.length > 20)])).to.equal(undefined);
    expect(api.requests).to.deep.equal([]);
  });
});
