// Client authentication with signed JWTs (RFC 7523) against oidc-provider 8:
// private_key_jwt (ES256 and RS256 keys registered in the client's JWKS) and
// client_secret_jwt. oidc-provider checks every claim, the signature and that
// no jti is presented twice, so each renewal proves a new assertion was signed.

import { generateKeyPairSync } from 'node:crypto';
import axios, { type AxiosInstance } from 'axios';
import { expect } from 'chai';
import { attachAuth, OAuthError, type AttachAuthOptions, type AuthHandle } from '../../lib/index.js';
import { findSecret } from '../helpers/error-secrets.js';
import { API_CLIENT, JWT_AUDIENCE, startOidcProvider, type OidcProviderServer } from './helpers/oidc-provider-server.js';
import { startProtectedApi, type ApiAnswer, type ProtectedApi } from './helpers/protected-api.js';

const BOUND_MS = 10_000;
/** oidc-provider wants an HS256 secret of at least 32 bytes. */
const JWT_SECRET = 'client-secret-jwt-0f5b2c9e7d31a8b4c6e0f2a1';

const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const otherEc = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const publicJwk = (key: typeof ec.publicKey, kid: string): Record<string, unknown> => ({ ...key.export({ format: 'jwk' }), kid, use: 'sig' });

describe('interop: signed JWT client authentication with oidc-provider 8', function () {
  let op: OidcProviderServer;
  let api: ProtectedApi;
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
      ],
    });
    api = await startProtectedApi({ issuer: op.issuer, introspectionUrl: op.introspectionUrl, jwksUrl: op.jwksUrl, audience: JWT_AUDIENCE, client: API_CLIENT });
  });

  after(async () => {
    await api?.close();
    await op?.close();
  });

  beforeEach(() => {
    op.reset();
    api.reset();
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
