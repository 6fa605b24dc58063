// Musement end to end: presets.musement against a loopback emulator of
// Musement's authentication document (spec/helpers/emulators/musement.ts),
// which revokes the whole grant when a spent refresh token comes back.

import axios, { type AxiosInstance } from 'axios';
import { expect } from 'chai';
import { attachAuth, OAuthError, OAuthQueueError, presets, type AttachAuthOptions, type AuthHandle, type Grant } from '../../../lib/index.js';
import { within } from '../../helpers/deferred.js';
import { findSecret } from '../../helpers/error-secrets.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import { MusementEmulator } from '../../helpers/emulators/musement.js';
import { steadyStream, storm } from '../../helpers/emulators/traffic.js';

describe('Musement through presets.musement', () => {
  let musement: MusementEmulator;
  let clock: FakeClock;
  let handles: AuthHandle[] = [];

  beforeEach(async () => {
    clock = new FakeClock();
    musement = await MusementEmulator.start({ now: () => clock.now() });
  });

  afterEach(async () => {
    for (const handle of handles) handle.detach();
    handles = [];
    await musement.close();
  });

  function passwordGrant(): Grant {
    return { type: 'password', username: musement.username, password: musement.password };
  }

  function connect(grant?: Grant, overrides: Partial<AttachAuthOptions> = {}, clientSecret = musement.clientSecret, baseUrl = musement.origin): { api: AxiosInstance; handle: AuthHandle } {
    const api = axios.create({ baseURL: baseUrl, timeout: 5000 });
    const preset = presets.musement({ clientId: musement.clientId, clientSecret, baseUrl, ...(grant === undefined ? {} : { grant: grant as never }) });
    const handle = attachAuth(api, { ...preset, clock, ...overrides });
    handles.push(handle);
    return { api, handle };
  }

  async function failure(promise: Promise<unknown>): Promise<unknown> {
    return within(promise.then(() => undefined, (error: unknown) => error), 5000, 'the request');
  }

  it('logs in with GET and the query string, takes the lowercase "bearer" and sends the token as Bearer', async () => {
    const { api } = connect();
    const response = await within(api.get('/api/v3/cities'), 5000, 'GET /api/v3/cities');
    expect(response.status).to.equal(200);
    expect(musement.tokenParameters).to.deep.equal([{ grant_type: 'client_credentials', client_id: musement.clientId, client_secret: musement.clientSecret }]);
    expect(String(response.config.headers.get('Authorization'))).to.match(/^Bearer \S+$/);
  });

  it('logs a customer in with the password grant', async () => {
    const { api, handle } = connect(passwordGrant());
    await within(api.get('/api/v3/cities'), 5000, 'GET /api/v3/cities');
    expect(musement.tokenParameters[0]).to.deep.equal({
      grant_type: 'password',
      username: musement.username,
      password: musement.password,
      client_id: musement.clientId,
      client_secret: musement.clientSecret,
    });
    const tokenSet = await handle.getToken();
    expect(tokenSet.tokenType).to.equal('Bearer');
    expect(tokenSet.refreshToken).to.be.a('string');
  });

  it('answers a storm of 300 requests after a revocation with exactly one refresh, using the refresh token', async () => {
    const { api } = connect();
    await within(api.get('/api/v3/cities'), 5000, 'the first request');
    musement.revokeAllAccessTokens();
    const statuses = await storm(api, '/api/v3/cities', 300);
    expect(statuses.filter((status) => status === 200)).to.have.length(300);
    expect(musement.tokenRequests).to.equal(2);
    expect(musement.tokenParameters[1]?.['grant_type']).to.equal('refresh_token');
    expect(musement.spentRefreshTokensPresented).to.equal(0);
  });

  it('rotates the refresh token under 200 concurrent requests, round after round, without ever presenting a spent one', async () => {
    const { api, handle } = connect(passwordGrant());
    await within(api.get('/api/v3/cities'), 5000, 'the first request');
    for (let round = 1; round <= 3; round += 1) {
      const held = (await handle.getToken()).refreshToken;
      musement.revokeAllAccessTokens();
      const statuses = await storm(api, '/api/v3/cities', 200);
      expect(statuses.filter((status) => status === 200), `round ${round}`).to.have.length(200);
      expect(musement.tokenRequests, `round ${round}`).to.equal(1 + round);
      expect(musement.tokenParameters.at(-1), `round ${round}`).to.include({ grant_type: 'refresh_token', refresh_token: held });
    }
    expect(musement.spentRefreshTokensPresented).to.equal(0);
    expect(musement.grantsRevoked).to.equal(0);
  });

  it('keeps a steady stream of requests free of 401s while two-second tokens expire and refresh tokens rotate', async () => {
    musement.expiresIn = 2;
    const { api, handle } = connect(passwordGrant());
    const statuses = await steadyStream(api, '/api/v3/cities', clock, { durationMs: 3000, stepMs: 100, concurrency: 4 });
    expect(statuses.every((status) => status === 200)).to.equal(true);
    expect(musement.apiUnauthorized).to.equal(0);
    expect(handle.stats().replays).to.equal(0);
    // 3 s of two-second tokens renewed at three quarters of their life: the first token and two renewals.
    expect(musement.tokenRequests).to.be.at.least(2);
    expect(musement.tokenParameters.slice(1).every((parameters) => parameters['grant_type'] === 'refresh_token')).to.equal(true);
    expect(musement.spentRefreshTokensPresented).to.equal(0);
  });

  it('logs the customer in again with the password grant when Musement refuses the refresh token', async () => {
    const { api } = connect(passwordGrant());
    await within(api.get('/api/v3/cities'), 5000, 'the first request');
    musement.revokeAllRefreshTokens();
    musement.revokeAllAccessTokens();
    const response = await within(api.get('/api/v3/cities'), 5000, 'the request after the revocation');
    expect(response.status).to.equal(200);
    expect(musement.tokenParameters.map((parameters) => parameters['grant_type'])).to.deep.equal(['password', 'refresh_token', 'password']);
  });

  it('rejects with OAuthError invalid_grant when a stored refresh token is refused and there is no grant to fall back to', async () => {
    const { api } = connect({ type: 'refresh_token', refreshToken: 'a-refresh-token-musement-never-issued' });
    const error = await failure(api.get('/api/v3/cities'));
    expect(error).to.be.instanceOf(OAuthError);
    expect((error as OAuthError).code).to.equal('invalid_grant');
    expect(musement.tokenRequests).to.equal(1);
    expect(findSecret(error, ['a-refresh-token-musement-never-issued'])).to.equal(undefined);
  });

  it('rejects a wrong password with OAuthError invalid_grant that carries neither the password, the secret nor the login URL', async () => {
    const { api } = connect({ type: 'password', username: musement.username, password: 'wrong-password-1' });
    const error = await failure(api.get('/api/v3/cities'));
    expect(error).to.be.instanceOf(OAuthError);
    expect((error as OAuthError).code).to.equal('invalid_grant');
    expect(findSecret(error, ['wrong-password-1', musement.clientSecret, 'client_secret=', 'password='])).to.equal(undefined);
  });

  it('rejects a wrong secret with OAuthError invalid_client whose message names the endpoint without its query string', async () => {
    const lines: string[] = [];
    const { api } = connect(undefined, { logger: { debug: (line) => lines.push(line), warn: (line) => lines.push(line) } }, 'wrong-musement-secret');
    const error = await failure(api.get('/api/v3/cities'));
    expect(error).to.be.instanceOf(OAuthError);
    expect((error as OAuthError).code).to.equal('invalid_client');
    expect((error as Error).message).to.include(`${musement.origin}/api/v3/login`);
    expect(findSecret(error, ['wrong-musement-secret', 'client_secret='])).to.equal(undefined);
    expect(lines.join('\n')).not.to.include('wrong-musement-secret');
    expect(lines.join('\n')).not.to.include('client_secret=');
  });

  it('keeps the login URL out of the error when Musement cannot be reached', async () => {
    const unreachable = await MusementEmulator.start();
    const origin = unreachable.origin;
    await unreachable.close();
    const { api } = connect(undefined, { retry: { limit: 0 }, origins: [origin] }, musement.clientSecret, origin);
    const error = await failure(api.get('/api/v3/cities'));
    expect(error).to.be.instanceOf(OAuthQueueError);
    expect(findSecret(error, [musement.clientSecret, 'client_secret=', 'grant_type='])).to.equal(undefined);
  });
});
