// MyParcel.com end to end: presets.myparcel against a loopback emulator of its
// client credentials document (spec/helpers/emulators/myparcel.ts); the sandbox
// is a second instance of the same emulator.

import axios, { type AxiosInstance } from 'axios';
import { expect } from 'chai';
import { attachAuth, OAuthError, presets, type AttachAuthOptions, type AuthHandle, type MyParcelPresetOptions } from '../../../lib/index.js';
import { within } from '../../helpers/deferred.js';
import { findSecret } from '../../helpers/error-secrets.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import { MYPARCEL_SCOPES, MyParcelEmulator } from '../../helpers/emulators/myparcel.js';
import { steadyStream, storm } from '../../helpers/emulators/traffic.js';

describe('MyParcel.com through presets.myparcel', () => {
  let myparcel: MyParcelEmulator;
  let clock: FakeClock;
  let handles: AuthHandle[] = [];

  beforeEach(async () => {
    clock = new FakeClock();
    myparcel = await MyParcelEmulator.start({ now: () => clock.now() });
  });

  afterEach(async () => {
    for (const handle of handles) handle.detach();
    handles = [];
    await myparcel.close();
  });

  function connect(preset: Partial<MyParcelPresetOptions> = {}, overrides: Partial<AttachAuthOptions> = {}, server = myparcel): { api: AxiosInstance; handle: AuthHandle } {
    const api = axios.create({ baseURL: server.origin, timeout: 5000 });
    const handle = attachAuth(api, { ...presets.myparcel({ clientId: server.clientId, clientSecret: server.clientSecret, baseUrl: server.origin, ...preset }), clock, ...overrides });
    handles.push(handle);
    return { api, handle };
  }

  async function failure(promise: Promise<unknown>): Promise<unknown> {
    return within(promise.then(() => undefined, (error: unknown) => error), 5000, 'the request');
  }

  it("asks for a token with a JSON body and scope '*', and reaches /shipments with it", async () => {
    const { api } = connect();
    const response = await within(api.get('/shipments'), 5000, 'GET /shipments');
    expect(response.status).to.equal(200);
    expect(myparcel.tokenParameters).to.deep.equal([{ grant_type: 'client_credentials', client_id: myparcel.clientId, client_secret: myparcel.clientSecret, scope: '*' }]);
    expect(myparcel.grantedScopes).to.deep.equal([MYPARCEL_SCOPES.join(' ')]);
  });

  it('sends a scope array space-separated', async () => {
    const { api } = connect({ scope: ['shipments.manage', 'files.show'] });
    await within(api.post('/shipments', { data: {} }, { headers: { 'Content-Type': 'application/vnd.api+json' } }), 5000, 'POST /shipments');
    expect(myparcel.tokenParameters[0]?.['scope']).to.equal('shipments.manage files.show');
  });

  it('is refused with OAuthError invalid_request when the token request is form-encoded instead of JSON', async () => {
    const { api } = connect({}, { tokenRequest: { method: 'POST', encoding: 'form', clientAuth: 'body' } });
    const error = await failure(api.get('/shipments'));
    expect(error).to.be.instanceOf(OAuthError);
    expect((error as OAuthError).code).to.equal('invalid_request');
    expect((error as OAuthError).status).to.equal(400);
  });

  it('rejects a wrong secret with OAuthError invalid_client, without the secret', async () => {
    const api = axios.create({ baseURL: myparcel.origin, timeout: 5000 });
    handles.push(attachAuth(api, presets.myparcel({ clientId: myparcel.clientId, clientSecret: 'wrong-myparcel-secret', baseUrl: myparcel.origin })));
    const error = await failure(api.get('/shipments'));
    expect(error).to.be.instanceOf(OAuthError);
    expect((error as OAuthError).code).to.equal('invalid_client');
    expect(findSecret(error, ['wrong-myparcel-secret'])).to.equal(undefined);
  });

  it('rejects an unknown scope with OAuthError invalid_scope', async () => {
    const { api } = connect({ scope: 'shipments.teleport' });
    const error = await failure(api.get('/shipments'));
    expect(error).to.be.instanceOf(OAuthError);
    expect((error as OAuthError).code).to.equal('invalid_scope');
  });

  it('takes the expiry from the JWT exp when it comes before expires_in, and holds requests for a new token when it passes, without a 401', async () => {
    myparcel.jwtLifetime = 60; // expires_in still says 86400
    const { api, handle } = connect();
    const tokenSet = await within(handle.getToken(), 5000, 'getToken');
    expect(tokenSet.expiresAt).to.equal(clock.now() + 60_000);
    clock.advance(60_000);
    const response = await within(api.get('/shipments'), 5000, 'a request when the JWT has expired');
    expect(response.status).to.equal(200);
    expect(myparcel.tokenRequests).to.equal(2);
    expect(myparcel.apiUnauthorized).to.equal(0);
  });

  it('costs exactly one token request when every token is revoked under a storm of 300 requests', async () => {
    const { api } = connect();
    await within(api.get('/shipments'), 5000, 'the first request');
    myparcel.revokeAllAccessTokens();
    const statuses = await storm(api, '/shipments', 300);
    expect(statuses.filter((status) => status === 200)).to.have.length(300);
    expect(myparcel.tokenRequests).to.equal(2);
  });

  it('keeps a steady stream of requests free of 401s while two-second tokens expire', async () => {
    myparcel.expiresIn = 2;
    const { api, handle } = connect();
    const statuses = await steadyStream(api, '/shipments', clock, { durationMs: 3000, stepMs: 100, concurrency: 4 });
    expect(statuses.every((status) => status === 200)).to.equal(true);
    expect(myparcel.apiUnauthorized).to.equal(0);
    expect(handle.stats().replays).to.equal(0);
    expect(myparcel.tokenRequests).to.be.at.least(3);
  });

  it('talks only to the sandbox instance when pointed at it', async () => {
    const sandbox = await MyParcelEmulator.start({ now: () => clock.now() });
    try {
      const { api } = connect({}, {}, sandbox);
      await within(api.get('/shipments'), 5000, 'GET /shipments on the sandbox');
      expect(sandbox.tokenRequests).to.equal(1);
      expect(myparcel.tokenRequests).to.equal(0);
      expect(sandbox.apiUnauthorized).to.equal(0);
    } finally {
      await sandbox.close();
    }
  });
});
