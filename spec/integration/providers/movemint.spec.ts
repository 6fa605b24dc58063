// Movemint end to end: presets.movemint and movemintAuthorizeUrl against a
// loopback emulator of Movemint's API document (spec/helpers/emulators/movemint.ts).

import axios, { type AxiosInstance } from 'axios';
import { expect } from 'chai';
import { attachAuth, createPkce, movemintAuthorizeUrl, OAuthError, presets, type AttachAuthOptions, type AuthHandle, type Grant } from '../../../lib/index.js';
import { within } from '../../helpers/deferred.js';
import { findSecret } from '../../helpers/error-secrets.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import { MovemintEmulator } from '../../helpers/emulators/movemint.js';
import { steadyStream, storm } from '../../helpers/emulators/traffic.js';

describe('Movemint through presets.movemint', () => {
  let movemint: MovemintEmulator;
  let clock: FakeClock;
  let handles: AuthHandle[] = [];

  beforeEach(async () => {
    clock = new FakeClock();
    movemint = await MovemintEmulator.start({ now: () => clock.now() });
  });

  afterEach(async () => {
    for (const handle of handles) handle.detach();
    handles = [];
    await movemint.close();
  });

  function connect(grant?: Grant, overrides: Partial<AttachAuthOptions> = {}, clientSecret = movemint.clientSecret): { api: AxiosInstance; handle: AuthHandle } {
    const api = axios.create({ baseURL: movemint.origin, timeout: 5000 });
    const preset = presets.movemint({ clientId: movemint.clientId, clientSecret, baseUrl: movemint.origin, ...(grant === undefined ? {} : { grant: grant as never }) });
    const handle = attachAuth(api, { ...preset, clock, ...overrides });
    handles.push(handle);
    return { api, handle };
  }

  async function failure(promise: Promise<unknown>): Promise<unknown> {
    return within(promise.then(() => undefined, (error: unknown) => error), 5000, 'the request');
  }

  /** Sends the "browser" to the authorize URL and reads the code from the redirect, as the user's return would carry it. */
  async function authorize(codeChallenge?: string): Promise<string> {
    const url = movemintAuthorizeUrl({
      clientId: movemint.clientId,
      redirectUri: movemint.redirectUri,
      state: 'state-123',
      baseUrl: movemint.origin,
      ...(codeChallenge === undefined ? {} : { codeChallenge }),
    });
    const response = await within(axios.get(url, { maxRedirects: 0, validateStatus: (status) => status === 302 }), 5000, 'GET /oauth/authorize');
    const back = new URL(String(response.headers['location']));
    expect(`${back.origin}${back.pathname}`).to.equal(movemint.redirectUri);
    expect(back.searchParams.get('state')).to.equal('state-123');
    return back.searchParams.get('code') ?? '';
  }

  describe('client credentials', () => {
    it('gets a token without a refresh token and reaches the API with it', async () => {
      const { api, handle } = connect();
      const response = await within(api.get('/api/v1/entities'), 5000, 'the first request');
      expect(response.status).to.equal(200);
      expect(movemint.tokenParameters).to.deep.equal([{ grant_type: 'client_credentials', client_id: movemint.clientId, client_secret: movemint.clientSecret }]);
      expect((await handle.getToken()).refreshToken).to.equal(undefined);
    });

    it('counts the two-hour lifetime from created_at, not from when the answer arrived', async () => {
      // The client reads the answer three seconds after Movemint created the token (a slow network, say).
      const created = clock.now();
      const { handle } = connect(undefined, { clock: new FakeClock(created + 3000) });
      const tokenSet = await within(handle.getToken(), 5000, 'getToken');
      expect(tokenSet.expiresAt).to.equal(created + 7200 * 1000);
    });

    it('costs exactly one token request when Movemint revokes every token under a storm of 300 requests', async () => {
      const { api } = connect();
      await within(api.get('/api/v1/entities'), 5000, 'the first request');
      movemint.revokeAllAccessTokens();
      const statuses = await storm(api, '/api/v1/entities', 300);
      expect(statuses.filter((status) => status === 200)).to.have.length(300);
      expect(movemint.tokenRequests).to.equal(2);
    });

    it('keeps a steady stream of requests free of 401s while two-second tokens expire', async () => {
      movemint.expiresIn = 2;
      const { api, handle } = connect();
      const statuses = await steadyStream(api, '/api/v1/entities', clock, { durationMs: 3000, stepMs: 100, concurrency: 4 });
      expect(statuses.every((status) => status === 200)).to.equal(true);
      expect(movemint.apiUnauthorized).to.equal(0);
      expect(handle.stats().replays).to.equal(0);
      expect(movemint.tokenRequests).to.be.at.least(3);
    });

    it('rejects a wrong secret with OAuthError invalid_client and status 401, without the secret', async () => {
      const wrongSecret = 'not-the-movemint-secret';
      const { api } = connect(undefined, {}, wrongSecret);
      const error = await failure(api.get('/api/v1/entities'));
      expect(error).to.be.instanceOf(OAuthError);
      expect((error as OAuthError).code).to.equal('invalid_client');
      expect((error as OAuthError).status).to.equal(401);
      expect(findSecret(error, [wrongSecret])).to.equal(undefined);
    });
  });

  describe('authorization code', () => {
    it('runs the flow end to end: authorize URL, code, token with PKCE, then a refresh with the refresh token once the token expires', async () => {
      const pkce = createPkce();
      const code = await authorize(pkce.codeChallenge);
      const { api, handle } = connect({ type: 'authorization_code', code, redirectUri: movemint.redirectUri, codeVerifier: pkce.codeVerifier });

      const first = await within(api.get('/api/v1/entities'), 5000, 'the first request');
      expect(first.data).to.deep.include({ data: { path: '/api/v1/entities', resource_owner_id: movemint.resourceOwnerId } });
      expect(movemint.tokenParameters[0]).to.deep.equal({
        grant_type: 'authorization_code',
        code,
        redirect_uri: movemint.redirectUri,
        code_verifier: pkce.codeVerifier,
        client_id: movemint.clientId,
        client_secret: movemint.clientSecret,
      });
      const firstRefreshToken = (await handle.getToken()).refreshToken;
      expect(firstRefreshToken).to.be.a('string');

      clock.advance(7200 * 1000);
      const later = await within(api.get('/api/v1/entities'), 5000, 'a request two hours later');
      expect(later.status).to.equal(200);
      expect(movemint.tokenParameters).to.have.length(2);
      expect(movemint.tokenParameters[1]).to.deep.equal({
        grant_type: 'refresh_token',
        refresh_token: firstRefreshToken,
        client_id: movemint.clientId,
        client_secret: movemint.clientSecret,
      });
      expect(movemint.apiUnauthorized).to.equal(0);
    });

    it('exchanges a code once: a second exchange of the same code gets OAuthError invalid_grant', async () => {
      const code = await authorize();
      const grant: Grant = { type: 'authorization_code', code, redirectUri: movemint.redirectUri };
      const { api } = connect(grant);
      await within(api.get('/api/v1/entities'), 5000, 'the first request');
      const { api: replayed } = connect(grant);
      const error = await failure(replayed.get('/api/v1/entities'));
      expect(error).to.be.instanceOf(OAuthError);
      expect((error as OAuthError).code).to.equal('invalid_grant');
      expect((error as OAuthError).status).to.equal(400);
      expect(findSecret(error, [code, movemint.clientSecret])).to.equal(undefined);
    });

    it('revokes the refresh token and then the access token with client_id and client_secret, and both stop working', async () => {
      const code = await authorize();
      const { api, handle } = connect({ type: 'authorization_code', code, redirectUri: movemint.redirectUri });
      await within(api.get('/api/v1/entities'), 5000, 'the first request');
      const { accessToken, refreshToken } = await handle.getToken();

      const result = await within(handle.revoke(), 5000, 'revoke()');
      expect(result).to.deep.equal({ refreshToken: 'revoked', accessToken: 'revoked' });
      expect(movemint.revocations.map((parameters) => parameters['token'])).to.deep.equal([refreshToken, accessToken]);
      for (const parameters of movemint.revocations) {
        expect(parameters).to.include({ client_id: movemint.clientId, client_secret: movemint.clientSecret });
      }
      expect(movemint.accessTokenWorks(accessToken)).to.equal(false);
      expect(movemint.refreshTokenWorks(refreshToken!)).to.equal(false);
    });

    it('treats the 200 for a token that was already revoked as success', async () => {
      const code = await authorize();
      const { api, handle } = connect({ type: 'authorization_code', code, redirectUri: movemint.redirectUri });
      await within(api.get('/api/v1/entities'), 5000, 'the first request');
      movemint.revokeAllAccessTokens();
      expect(await within(handle.revoke(), 5000, 'revoke()')).to.deep.equal({ refreshToken: 'revoked', accessToken: 'revoked' });
    });

    it('returns the token info body: scopes, remaining lifetime, application uid, resource owner and created_at', async () => {
      const url = movemintAuthorizeUrl({ clientId: movemint.clientId, redirectUri: movemint.redirectUri, scope: ['public', 'write'], baseUrl: movemint.origin });
      const redirect = await within(axios.get(url, { maxRedirects: 0, validateStatus: (status) => status === 302 }), 5000, 'GET /oauth/authorize');
      const code = new URL(String(redirect.headers['location'])).searchParams.get('code') ?? '';
      const { handle } = connect({ type: 'authorization_code', code, redirectUri: movemint.redirectUri });
      await within(handle.getToken(), 5000, 'getToken');
      clock.advance(600 * 1000);
      const info = await within(handle.tokenInfo(), 5000, 'tokenInfo()');
      expect(info).to.deep.equal({
        resource_owner_id: movemint.resourceOwnerId,
        scopes: ['public', 'write'],
        expires_in_seconds: 7200 - 600,
        application: { uid: movemint.clientId },
        created_at: Math.floor(clock.now() / 1000) - 600,
      });
    });
  });
});
