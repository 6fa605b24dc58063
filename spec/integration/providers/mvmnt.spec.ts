// MVMNT end to end: presets.mvmnt against a loopback emulator of MVMNT's
// authentication document (spec/helpers/emulators/mvmnt.ts).

import axios, { type AxiosInstance } from 'axios';
import { expect } from 'chai';
import { attachAuth, OAuthError, presets, type AttachAuthOptions, type AuthHandle } from '../../../lib/index.js';
import { within } from '../../helpers/deferred.js';
import { findSecret } from '../../helpers/error-secrets.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import { MvmntEmulator } from '../../helpers/emulators/mvmnt.js';
import { steadyStream, storm } from '../../helpers/emulators/traffic.js';

describe('MVMNT through presets.mvmnt', () => {
  let mvmnt: MvmntEmulator;
  let handles: AuthHandle[] = [];

  afterEach(async () => {
    for (const handle of handles) handle.detach();
    handles = [];
    await mvmnt.close();
  });

  function connect(overrides: Partial<AttachAuthOptions> = {}, clientId = mvmnt.clientId, clientSecret = mvmnt.clientSecret): { api: AxiosInstance; handle: AuthHandle } {
    const api = axios.create({ baseURL: mvmnt.origin, timeout: 5000 });
    const handle = attachAuth(api, { ...presets.mvmnt({ clientId, clientSecret, baseUrl: mvmnt.origin }), ...overrides });
    handles.push(handle);
    return { api, handle };
  }

  async function failure(promise: Promise<unknown>): Promise<unknown> {
    return within(promise.then(() => undefined, (error: unknown) => error), 5000, 'the request');
  }

  describe('with the real clock', () => {
    beforeEach(async () => {
      mvmnt = await MvmntEmulator.start();
    });

    it('gets a token with a form-encoded client credentials request and reaches /v1/orders with it', async () => {
      const { api } = connect();
      const response = await within(api.get('/v1/orders'), 5000, 'GET /v1/orders');
      expect(response.status).to.equal(200);
      expect(mvmnt.tokenParameters).to.deep.equal([{ grant_type: 'client_credentials', client_id: mvmnt.clientId, client_secret: mvmnt.clientSecret }]);
      expect(mvmnt.apiUnauthorized).to.equal(0);
    });

    it('costs exactly one token request when MVMNT revokes every token under a storm of 300 requests', async () => {
      const { api } = connect();
      await within(api.get('/v1/orders'), 5000, 'the first request');
      mvmnt.revokeAllAccessTokens();
      const statuses = await storm(api, '/v1/orders', 300);
      expect(statuses.filter((status) => status === 200)).to.have.length(300);
      expect(mvmnt.tokenRequests).to.equal(2);
    });

    it('rejects a wrong secret with OAuthError invalid_client that does not carry the secret', async () => {
      const wrongSecret = 'not-the-mvmnt-secret';
      const { api } = connect({}, mvmnt.clientId, wrongSecret);
      const error = await failure(api.get('/v1/orders'));
      expect(error).to.be.instanceOf(OAuthError);
      expect((error as OAuthError).code).to.equal('invalid_client');
      expect((error as OAuthError).status).to.equal(400);
      expect(findSecret(error, [wrongSecret])).to.equal(undefined);
      expect(mvmnt.apiRequests).to.equal(0);
    });

    it('rejects an unknown client and a disabled one with OAuthError unauthorized_client', async () => {
      for (const clientId of ['someone-else', mvmnt.disabledClientId]) {
        const { api } = connect({}, clientId);
        const error = await failure(api.get('/v1/orders'));
        expect(error).to.be.instanceOf(OAuthError);
        expect((error as OAuthError).code).to.equal('unauthorized_client');
      }
    });

    it('rejects a grant other than client_credentials with OAuthError invalid_grant', async () => {
      const { api } = connect({ grant: { type: 'password', username: 'dispatcher', password: 'hunter22' } });
      const error = await failure(api.get('/v1/orders'));
      expect(error).to.be.instanceOf(OAuthError);
      expect((error as OAuthError).code).to.equal('invalid_grant');
    });
  });

  describe('with a fake clock shared by the client and MVMNT', () => {
    let clock: FakeClock;

    beforeEach(async () => {
      clock = new FakeClock();
      mvmnt = await MvmntEmulator.start({ now: () => clock.now() });
    });

    it('reads the JWT exp and renews in the background, so a steady stream meets no 401 while two-second tokens expire', async () => {
      mvmnt.expiresIn = 2;
      const { api, handle } = connect({ clock });
      const statuses = await steadyStream(api, '/v1/orders', clock, { durationMs: 3000, stepMs: 100, concurrency: 4 });
      expect(statuses.every((status) => status === 200)).to.equal(true);
      expect(mvmnt.apiUnauthorized).to.equal(0);
      expect(handle.stats().replays).to.equal(0);
      // A token at 0 s, renewed in the refresh window (capped at half the lifetime) at 1 s and 2 s.
      expect(mvmnt.tokenRequests).to.be.at.least(3);
    });

    it('renews a one-hour token in the background five minutes before it expires, as the document advises', async () => {
      let renewed!: () => void;
      const renewal = new Promise<void>((resolve) => {
        renewed = resolve;
      });
      let tokens = 0;
      const { api } = connect({ clock, events: { onToken: () => (++tokens === 2 ? renewed() : undefined) } });
      await within(api.get('/v1/orders'), 5000, 'the first request');
      clock.advance(54 * 60 * 1000);
      await within(api.get('/v1/orders'), 5000, 'a request at 54 minutes');
      expect(mvmnt.tokenRequests).to.equal(1);
      clock.advance(2 * 60 * 1000);
      const response = await within(api.get('/v1/orders'), 5000, 'a request at 56 minutes');
      expect(response.status).to.equal(200);
      await within(renewal, 5000, 'the background refresh');
      expect(mvmnt.tokenRequests).to.equal(2);
      expect(mvmnt.apiUnauthorized).to.equal(0);
    });
  });
});
