// Interoperability with an authorization server nobody here wrote: panva's
// oidc-provider 8 on a loopback port, and a protected API that trusts only it
// (introspection for opaque tokens, the provider's JWKS for JWT access tokens).
// Everything goes through attachAuth and a plain Axios instance, as a user's code would.

import axios, { type AxiosInstance, type AxiosResponse } from 'axios';
import { expect } from 'chai';
import { attachAuth, OAuthError, type AttachAuthOptions, type AuthHandle, type TokenSet } from '../../lib/index.js';
import { deferred, settleAll, until, within } from '../helpers/deferred.js';
import { findSecret } from '../helpers/error-secrets.js';
import {
  API_CLIENT,
  APP_SECRET,
  JWT_AUDIENCE,
  RESERVED_SECRET,
  SHORT_TTL_SECONDS,
  startOidcProvider,
  type OidcProviderServer,
} from './helpers/oidc-provider-server.js';
import { introspect, startProtectedApi, type ApiAnswer, type ProtectedApi } from './helpers/protected-api.js';

const BOUND_MS = 10_000;
const WRONG_SECRET = 'wr0ng:s3cret/+&=%20';

describe('interop: oidc-provider 8 as the authorization server', function () {
  let op: OidcProviderServer;
  let api: ProtectedApi;
  const handles: AuthHandle[] = [];

  before(async () => {
    op = await startOidcProvider();
    api = await startProtectedApi({
      issuer: op.issuer,
      introspectionUrl: op.introspectionUrl,
      jwksUrl: op.jwksUrl,
      audience: JWT_AUDIENCE,
      client: API_CLIENT,
    });
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
    // oidc-provider answered every request itself; none of them failed inside it.
    expect(op.serverErrors).to.deep.equal([]);
  });

  /** A fresh Axios instance for the protected API, with attachAuth on it. */
  function connect(options: Omit<AttachAuthOptions, 'tokenUrl'>): { api: AxiosInstance; handle: AuthHandle } {
    const instance = axios.create({ baseURL: api.baseURL, timeout: BOUND_MS });
    const handle = attachAuth(instance, { tokenUrl: op.tokenUrl, revocationUrl: op.revocationUrl, ...options });
    handles.push(handle);
    return { api: instance, handle };
  }

  /** Calls the API with `token` by hand, bypassing attachAuth: is the token still accepted? */
  async function statusWith(token: string): Promise<number> {
    const response = await axios.get(`${api.baseURL}/me`, { headers: { Authorization: `Bearer ${token}` }, validateStatus: () => true, timeout: BOUND_MS });
    return response.status;
  }

  async function concurrently(instance: AxiosInstance, count: number): Promise<AxiosResponse<ApiAnswer>[]> {
    const results = await settleAll(
      Array.from({ length: count }, () => instance.get<ApiAnswer>('/me')),
      BOUND_MS,
    );
    const failures = results.filter((result) => result.status === 'rejected');
    expect(failures, `${failures.length} of ${count} requests failed`).to.have.length(0);
    return results.map((result) => (result as PromiseFulfilledResult<AxiosResponse<ApiAnswer>>).value);
  }

  /**
   * Runs `fire` while oidc-provider holds token requests: waits until all 200 requests are
   * held behind exactly one token request, then lets oidc-provider answer it.
   */
  async function whileTokenEndpointHeld<T>(handle: AuthHandle, fire: () => Promise<T>): Promise<T> {
    const gate = op.holdTokenEndpoint();
    try {
      const settled = fire();
      await until(() => handle.stats().held === 200, '200 requests are held for the token', BOUND_MS);
      expect(op.tokenRequestsArrived(), 'token requests that reached oidc-provider while 200 requests were held').to.equal(1);
      gate.release();
      return await settled;
    } finally {
      gate.release();
    }
  }

  describe('client credentials', () => {
    it('authenticates with client_secret_basic when the secret holds characters reserved in a URL', async () => {
      const { api: client } = connect({ clientId: 'cc-basic', clientSecret: RESERVED_SECRET, tokenRequest: { clientAuth: 'basic' } });

      const response = await client.get<ApiAnswer>('/me');

      expect(response.status).to.equal(200);
      expect(response.data).to.include({ clientId: 'cc-basic', tokenKind: 'opaque' });
      expect(op.tokenRequestsOf('cc-basic')).to.deep.equal([{ clientId: 'cc-basic', grantType: 'client_credentials', clientAuth: 'basic', status: 200 }]);
    });

    it('authenticates with client_secret_post when the secret holds characters reserved in a form body', async () => {
      const { api: client } = connect({ clientId: 'cc-post', clientSecret: RESERVED_SECRET, tokenRequest: { clientAuth: 'body' } });

      const response = await client.get<ApiAnswer>('/me');

      expect(response.status).to.equal(200);
      expect(response.data).to.include({ clientId: 'cc-post', tokenKind: 'opaque' });
      expect(op.tokenRequestsOf('cc-post')).to.deep.equal([{ clientId: 'cc-post', grantType: 'client_credentials', clientAuth: 'body', status: 200 }]);
    });

    it('rejects requests with an OAuthError invalid_client that names no secret when the secret is wrong (Basic)', async () => {
      const { api: client } = connect({ clientId: 'cc-basic', clientSecret: WRONG_SECRET, tokenRequest: { clientAuth: 'basic' } });

      const error: unknown = await client.get('/me').then(
        () => expect.fail('the request succeeded with a wrong secret'),
        (reason: unknown) => reason,
      );

      expect(error).to.be.instanceOf(OAuthError);
      expect(error).to.include({ code: 'invalid_client', status: 401 });
      expect(findSecret(error, [WRONG_SECRET, RESERVED_SECRET])).to.equal(undefined);
      expect(op.tokenRequests.map((record) => [record.clientAuth, record.status])).to.deep.equal([['basic', 401]]);
      expect(api.requests, 'no request reached the API without a token').to.deep.equal([]);
    });

    it('rejects requests with an OAuthError invalid_client that names no secret when the secret is wrong (body)', async () => {
      const { api: client, handle } = connect({ clientId: 'cc-post', clientSecret: WRONG_SECRET });

      const error: unknown = await handle.getToken().then(
        () => expect.fail('a token was issued for a wrong secret'),
        (reason: unknown) => reason,
      );
      const requestError: unknown = await client.get('/me').then(
        () => expect.fail('the request succeeded with a wrong secret'),
        (reason: unknown) => reason,
      );

      expect(error).to.be.instanceOf(OAuthError);
      expect(error).to.include({ code: 'invalid_client', status: 401 });
      expect(requestError).to.include({ code: 'invalid_client' });
      expect(findSecret(error, [WRONG_SECRET, RESERVED_SECRET])).to.equal(undefined);
      expect(findSecret(requestError, [WRONG_SECRET, RESERVED_SECRET])).to.equal(undefined);
      expect(op.tokenRequests.map((record) => [record.clientAuth, record.status]), 'the request during the cool-down asked nothing').to.deep.equal([['body', 401]]);
      expect(api.requests).to.deep.equal([]);
    });
  });

  describe('expiry and renewal', () => {
    it('fetches a new token before calling the API once oidc-provider has expired the old one', async () => {
      const tokens: TokenSet[] = [];
      const { api: client } = connect({ clientId: 'cc-short', clientSecret: RESERVED_SECRET, events: { onToken: (tokenSet) => tokens.push(tokenSet) } });
      await client.get('/me');
      const [first] = tokens;
      expect(first?.expiresAt, 'expires_in from oidc-provider').to.be.a('number');

      // Real time must pass for the provider; wait for the state, not a guessed delay.
      await waitFor(
        async () => Date.now() >= (first?.expiresAt ?? Infinity) && (await introspect({ introspectionUrl: op.introspectionUrl, client: API_CLIENT }, first!.accessToken))['active'] === false,
        `the ${SHORT_TTL_SECONDS} s token has expired at oidc-provider`,
        (SHORT_TTL_SECONDS + 3) * 1000,
      );
      const responses = await concurrently(client, 20);

      expect(responses.every((response) => response.status === 200)).to.equal(true);
      expect(tokens).to.have.length(2);
      expect(tokens[1]?.accessToken).to.not.equal(first?.accessToken);
      expect(op.tokenRequestsOf('cc-short')).to.have.length(2);
      expect(api.unauthorized(), 'no expired token reached the API').to.equal(0);
      expect(api.requests.filter((record) => record.token === first?.accessToken)).to.have.length(1);
    });

    it('renews in the background while the stale token is still served (clock option)', async () => {
      let skew = 0;
      const tokens: TokenSet[] = [];
      const renewed = deferred<TokenSet>();
      const { api: client } = connect({
        clientId: 'cc-post',
        clientSecret: RESERVED_SECRET,
        clock: { now: () => Date.now() + skew },
        events: {
          onToken: (tokenSet) => {
            tokens.push(tokenSet);
            if (tokens.length === 2) renewed.resolve(tokenSet);
          },
        },
      });
      await client.get('/me');
      const first = tokens[0]!;

      // 50 s before expiry: inside the default 60 s refresh window, still valid at the provider.
      skew = first.expiresAt! - Date.now() - 50_000;
      const stale = await client.get<ApiAnswer>('/me');
      const second = await within(renewed.promise, BOUND_MS, 'the background refresh');
      const after = await client.get<ApiAnswer>('/me');

      expect(stale.status).to.equal(200);
      expect(after.status).to.equal(200);
      expect(second.accessToken).to.not.equal(first.accessToken);
      expect(api.requests.map((record) => record.token)).to.deep.equal([first.accessToken, first.accessToken, second.accessToken]);
      expect(op.tokenRequestsOf('cc-post')).to.have.length(2);
      expect(api.unauthorized()).to.equal(0);
    });
  });

  describe('refresh token rotation', () => {
    it('spends a stored refresh token once for 200 concurrent requests', async () => {
      const { refreshToken, grantId } = await op.mintRefreshToken();
      const { api: client, handle } = connect({ clientId: 'app', clientSecret: APP_SECRET, tokenRequest: { clientAuth: 'basic' }, grant: { type: 'refresh_token', refreshToken } });

      const responses = await whileTokenEndpointHeld(handle, () => concurrently(client, 200));

      expect(responses.every((response) => response.status === 200 && response.data.subject === 'alice')).to.equal(true);
      expect(op.tokenRequestsOf('app')).to.deep.equal([{ clientId: 'app', grantType: 'refresh_token', clientAuth: 'basic', status: 200 }]);
      expect(await op.refreshTokenState(refreshToken), 'oidc-provider rotated the refresh token').to.equal('consumed');
      expect((await handle.getToken()).refreshToken).to.be.a('string').and.not.equal(refreshToken);
      expect(op.revokedGrants).to.deep.equal([]);
      expect(await op.grantExists(grantId)).to.equal(true);
    });

    it('renews an invalidated token once for 200 concurrent requests and keeps the grant alive', async () => {
      const { refreshToken, grantId } = await op.mintRefreshToken();
      const { api: client, handle } = connect({ clientId: 'app', clientSecret: APP_SECRET, tokenRequest: { clientAuth: 'basic' }, grant: { type: 'refresh_token', refreshToken } });
      await client.get('/me');
      const before = await handle.getToken();
      expect(await op.destroyAccessToken(before.accessToken), 'the access token was stored at the provider').to.equal(true);
      op.reset();
      api.reset();

      const responses = await whileTokenEndpointHeld(handle, () => concurrently(client, 200));

      expect(responses.every((response) => response.status === 200)).to.equal(true);
      expect(api.unauthorized(), 'each request met the refusal once, then was replayed').to.equal(200);
      expect(handle.stats().replays).to.equal(200);
      expect(op.tokenRequestsOf('app')).to.deep.equal([{ clientId: 'app', grantType: 'refresh_token', clientAuth: 'basic', status: 200 }]);
      expect(op.revokedGrants, 'no spent refresh token was presented').to.deep.equal([]);
      expect(await op.grantExists(grantId)).to.equal(true);
      expect(await op.refreshTokenState(before.refreshToken!)).to.equal('consumed');

      // The grant is alive: one more rotation works and its token is accepted.
      const further = await handle.refresh();
      expect(further.refreshToken).to.not.equal(before.refreshToken);
      expect((await client.get('/me')).status).to.equal(200);
      expect(op.tokenRequestsOf('app').map((record) => record.status)).to.deep.equal([200, 200]);
      expect(op.revokedGrants).to.deep.equal([]);
    });
  });

  describe('revocation (RFC 7009)', () => {
    it('revokes an opaque client credentials token so the API refuses it, then fetches a new one', async () => {
      const { api: client, handle } = connect({ clientId: 'cc-basic', clientSecret: RESERVED_SECRET, tokenRequest: { clientAuth: 'basic' } });
      await client.get('/me');
      const { accessToken } = await handle.getToken();

      const result = await handle.revoke();

      expect(result).to.deep.equal({ refreshToken: 'none', accessToken: 'revoked' });
      expect(op.revocations).to.deep.equal([{ tokenTypeHint: 'access_token', status: 200, body: '' }]);
      expect(await statusWith(accessToken)).to.equal(401);
      const next = await client.get<ApiAnswer>('/me');
      expect(next.status).to.equal(200);
      expect((await handle.getToken()).accessToken).to.not.equal(accessToken);
    });

    it('revokes the refresh token first, which ends the grant and its access tokens', async () => {
      const { refreshToken, grantId } = await op.mintRefreshToken();
      const { api: client, handle } = connect({ clientId: 'app', clientSecret: APP_SECRET, tokenRequest: { clientAuth: 'basic' }, grant: { type: 'refresh_token', refreshToken } });
      await client.get('/me');
      const held = await handle.getToken();

      const result = await handle.revoke();

      expect(result).to.deep.equal({ refreshToken: 'revoked', accessToken: 'revoked' });
      expect(op.revocations.map((record) => [record.tokenTypeHint, record.status])).to.deep.equal([
        ['refresh_token', 200],
        ['access_token', 200],
      ]);
      expect(op.revokedGrants).to.deep.equal([grantId]);
      expect(await op.grantExists(grantId)).to.equal(false);
      expect(await op.refreshTokenState(held.refreshToken!)).to.equal('gone');
      expect(await statusWith(held.accessToken)).to.equal(401);
    });

    it('settles revoke() for a JWT access token, which oidc-provider 8 acknowledges but cannot revoke', async () => {
      const { api: client, handle } = connect({
        clientId: 'cc-basic',
        clientSecret: RESERVED_SECRET,
        tokenRequest: { clientAuth: 'basic', params: { resource: JWT_AUDIENCE } },
      });
      const response = await client.get<ApiAnswer>('/me');
      const { accessToken, expiresAt } = await handle.getToken();
      expect(response.data.tokenKind).to.equal('jwt');
      expect(accessToken.split('.')).to.have.length(3);
      expect(expiresAt).to.equal(JSON.parse(Buffer.from(accessToken.split('.')[1]!, 'base64url').toString()).exp * 1000);

      const result = await within(handle.revoke(), BOUND_MS, 'revoke()');

      // oidc-provider 8 stores no JWT access tokens and has no unsupported_token_type answer:
      // it answers 200 with an empty body (RFC 7009 §2.2), so the library reports "revoked".
      expect(op.revocations).to.deep.equal([{ tokenTypeHint: 'access_token', status: 200, body: '' }]);
      expect(result).to.deep.equal({ refreshToken: 'none', accessToken: 'revoked' });
      // A self-contained token stays valid at an API that verifies it locally until its exp.
      expect(await statusWith(accessToken)).to.equal(200);
    });

    it('reports a JWT access token as unsupported when the revocation endpoint answers unsupported_token_type', async () => {
      op.declineJwtRevocation(true);
      const { api: client, handle } = connect({
        clientId: 'cc-basic',
        clientSecret: RESERVED_SECRET,
        tokenRequest: { clientAuth: 'basic', params: { resource: JWT_AUDIENCE } },
      });
      await client.get('/me');
      const { accessToken } = await handle.getToken();

      const result = await within(handle.revoke(), BOUND_MS, 'revoke()');

      expect(op.revocations).to.deep.equal([
        { tokenTypeHint: 'access_token', status: 400, body: { error: 'unsupported_token_type', error_description: 'JWT access tokens cannot be revoked here' } },
      ]);
      expect(result).to.deep.equal({ refreshToken: 'none', accessToken: 'unsupported' });
      // The token set is forgotten all the same: the next request fetches a new token.
      expect((await client.get('/me')).status).to.equal(200);
      expect((await handle.getToken()).accessToken).to.not.equal(accessToken);
      expect(op.tokenRequestsOf('cc-basic')).to.have.length(2);
    });
  });
});

/** Polls an asynchronous condition until it holds; fails after `ms`. */
async function waitFor(condition: () => Promise<boolean>, what: string, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
