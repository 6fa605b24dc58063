// The queue flow over real loopback sockets: single-flight token requests under
// hundreds of concurrent requests, the 401 path with its token-version rule,
// fresh/stale/expired tokens on a fake clock, failures that reach every held
// request, and the things attachAuth must never do (a Bearer header on a token
// request, a token request through the user's interceptors, a timer left behind).

import http from 'node:http';
import axios, { AxiosError, type AxiosInstance, type AxiosResponse, type InternalAxiosRequestConfig } from 'axios';
import { expect } from 'chai';
import { attachAuth, ErrorCodes, MemoryTokenStore, TokenEndpointError, type AttachAuthOptions, type AuthHandle } from '../../lib/index.js';
import { runScript } from '../helpers/child-script.js';
import { settleAll, until, within } from '../helpers/deferred.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { leaksIn, sweep } from '../helpers/secret-sweep.js';
import { startTestServer, unusedLoopbackUrl, type TestServer } from '../helpers/test-server.js';

const CLIENT_ID = 'queue-flow-client';
const CLIENT_SECRET = 'queue-flow-secret-3f9d1c';
const BOUND_MS = 10_000;

interface ApiBody {
  ok: boolean;
  token?: string;
  sawAuthorization?: boolean;
}

describe('queue flow (loopback token endpoint and API)', function () {
  let server: TestServer;
  let agent: http.Agent;
  const handles: AuthHandle[] = [];

  before(async () => {
    server = await startTestServer({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
  });

  after(async () => {
    await server.close();
  });

  beforeEach(() => {
    server.reset();
    // Hundreds of requests share a bounded pool of keep-alive sockets, as a real service would.
    agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  });

  afterEach(() => {
    for (const handle of handles.splice(0)) handle.detach();
    agent.destroy();
  });

  function connect(options: Partial<AttachAuthOptions> = {}, api: AxiosInstance = axios.create({ baseURL: server.origin, httpAgent: agent })) {
    const handle = attachAuth(api, { tokenUrl: server.tokenUrl, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, ...options });
    handles.push(handle);
    return { api, handle };
  }

  /** GETs `path` once per id, each with its own `x-request-id`; every error is recorded for the secret sweep. */
  function fire(api: AxiosInstance, count: number, path = '/things', prefix = 'r'): Promise<AxiosResponse<ApiBody>>[] {
    return Array.from({ length: count }, (_, index) =>
      api.get<ApiBody>(path, { headers: { 'x-request-id': `${prefix}-${index}` } }).catch((error: unknown) => {
        throw sweep(error, 'queue-flow');
      }),
    );
  }

  function fulfilled<T>(results: PromiseSettledResult<T>[]): T[] {
    return results.map((result) => {
      if (result.status === 'rejected') throw new Error(`a request rejected: ${String(result.reason)}`);
      return result.value;
    });
  }

  function rejected<T>(results: PromiseSettledResult<T>[]): unknown[] {
    return results.map((result) => {
      expect(result.status, 'every request rejects').to.equal('rejected');
      return (result as PromiseRejectedResult).reason;
    });
  }

  describe('single flight', function () {
    it('answers 500 concurrent first requests with exactly one token request', async function () {
      const { api, handle } = connect();

      const responses = fulfilled(await settleAll(fire(api, 500), BOUND_MS));

      expect(responses.every((response) => response.status === 200)).to.equal(true);
      expect(server.tokenRequests).to.equal(1);
      expect(server.maxTokenRequestsInFlight).to.equal(1);
      expect(new Set(responses.map((response) => response.data.token))).to.deep.equal(new Set([server.issuedAccessTokens[0]]));
      expect(handle.stats().tokenRequests).to.equal(1);
    });

    it('shares one token request between handles that share a store and a token identity, and none between identities', async function () {
      const store = new MemoryTokenStore();
      const first = connect({ store });
      const second = connect({ store }, axios.create({ baseURL: server.origin, httpAgent: agent }));
      const otherScope = connect({ store, scope: 'other' }, axios.create({ baseURL: server.origin, httpAgent: agent }));

      const responses = fulfilled(await settleAll([...fire(first.api, 200, '/things', 'a'), ...fire(second.api, 200, '/things', 'b')], BOUND_MS));
      expect(server.tokenRequests, 'one token for the two handles with one identity').to.equal(1);
      expect(new Set(responses.map((response) => response.data.token)).size).to.equal(1);

      await otherScope.api.get('/things');
      expect(server.tokenRequests, 'another scope is another token').to.equal(2);
    });

    it('recovers 1,000 concurrent requests from a revoked token with one token request, sending each at most twice', async function () {
      const { api } = connect();
      await api.get('/warm-up');
      server.revokeAll();

      const responses = fulfilled(await settleAll(fire(api, 1000), BOUND_MS));

      expect(responses.every((response) => response.data.token === server.issuedAccessTokens[1])).to.equal(true);
      expect(server.tokenRequests).to.equal(2);
      expect(server.apiRequestsById.size).to.equal(1000);
      expect(Math.max(...server.apiRequestsById.values())).to.be.at.most(2);
    });

    it('holds requests while the token request is open, then sends them all with the one token', async function () {
      const { api, handle } = connect();
      const release = server.holdTokenEndpoint();

      const pending = fire(api, 200);
      await server.whenTokenRequests(1);
      await until(() => handle.stats().held === 200, 'all 200 requests are held');

      expect(server.tokenRequests).to.equal(1);
      expect(server.tokenRequestsInFlight).to.equal(1);
      expect(server.apiRequests, 'nothing reaches the API without a token').to.equal(0);

      release();
      const responses = fulfilled(await settleAll(pending, BOUND_MS));
      expect(responses.every((response) => response.data.token === server.issuedAccessTokens[0])).to.equal(true);
      expect(server.tokenRequests).to.equal(1);
      expect(handle.stats().held).to.equal(0);
    });
  });

  describe('the 401 path', function () {
    it('replays each request at most once when the API keeps answering 401, and rejects with that 401 redacted', async function () {
      const { api, handle } = connect();
      await api.get('/warm-up');
      server.apiAlways401 = true;

      const errors = rejected(await settleAll(fire(api, 50), BOUND_MS));

      for (const error of errors) {
        expect(error).to.be.instanceOf(AxiosError);
        const axiosError = error as AxiosError;
        expect(axiosError.response?.status).to.equal(401);
        expect(axiosError.config?.headers.get('Authorization')).to.equal('Bearer [REDACTED]');
        expect(leaksIn(error, server.secrets())).to.deep.equal([]);
      }
      expect([...server.apiRequestsById.values()]).to.deep.equal(Array.from({ length: 50 }, () => 2));
      expect(server.tokenRequests, 'one token for the warm-up, one refresh for the whole 401 storm').to.equal(2);
      expect(handle.stats().replays).to.equal(50);
    });

    it('replays a late 401 for an older token with the current token and asks for no new token', async function () {
      const { api, handle } = connect();
      await api.get('/warm-up');
      const [first] = server.issuedAccessTokens;
      const apiHold = server.holdApi();

      const late = api.get<ApiBody>('/late', { headers: { 'x-request-id': 'late' } });
      expect((await within(apiHold.arrived, BOUND_MS, 'the held API request')).authorization).to.equal(`Bearer ${first}`);
      await handle.refresh();
      expect(server.tokenRequests).to.equal(2);
      apiHold.release('unauthorized');

      const response = await within(late, BOUND_MS, 'the late request');
      expect(response.data.token).to.equal(server.issuedAccessTokens[1]);
      expect(server.tokenRequests, 'the 401 was for an older token: no new token request').to.equal(2);
      expect(server.apiLog.filter((entry) => entry.requestId === 'late').map((entry) => entry.authorization)).to.deep.equal([
        `Bearer ${first}`,
        `Bearer ${server.issuedAccessTokens[1]}`,
      ]);
      expect(handle.stats().replays).to.equal(1);
    });

    it('does not refresh on a 401 with WWW-Authenticate error="insufficient_scope", and rejects with it', async function () {
      const { api, handle } = connect();
      server.insufficientScope = true;

      const error = await within(
        api.get('/admin').then(
          () => undefined,
          (failure: unknown) => sweep(failure, 'queue-flow insufficient_scope'),
        ),
        BOUND_MS,
        'the request',
      );

      expect(error).to.be.instanceOf(AxiosError);
      expect((error as AxiosError).response?.status).to.equal(401);
      expect(server.tokenRequests).to.equal(1);
      expect(server.apiRequests).to.equal(1);
      expect(handle.stats().replays).to.equal(0);
    });
  });

  describe('token state on the clock', function () {
    it('sends a stale token at once while exactly one background refresh runs', async function () {
      const clock = new FakeClock();
      const { api, handle } = connect({ clock, refreshWindow: 60 });
      await api.get('/warm-up');
      const [first] = server.issuedAccessTokens;
      clock.advance((3600 - 30) * 1000);
      const release = server.holdTokenEndpoint();

      // The token endpoint is held: these can only succeed if they did not wait for it.
      const responses = fulfilled(await settleAll(fire(api, 20), BOUND_MS));

      expect(responses.every((response) => response.data.token === first)).to.equal(true);
      expect(server.tokenRequests, 'one background refresh, not one per request').to.equal(2);
      expect(server.tokenRequestsInFlight).to.equal(1);
      release();
      await until(() => handle.stats().refreshes === 2, 'the background refresh lands');
      expect((await api.get<ApiBody>('/after')).data.token).to.equal(server.issuedAccessTokens[1]);
      expect(server.tokenRequests).to.equal(2);
    });

    it('holds requests for an expired token and sends them with the new one', async function () {
      const clock = new FakeClock();
      const { api, handle } = connect({ clock });
      await api.get('/warm-up');
      clock.advance(3600 * 1000 + 1);
      const release = server.holdTokenEndpoint();

      const pending = fire(api, 10);
      await server.whenTokenRequests(2);
      await until(() => handle.stats().held === 10, 'the 10 requests are held');
      expect(server.apiRequests, 'no request went out with the expired token').to.equal(1);

      release();
      const responses = fulfilled(await settleAll(pending, BOUND_MS));
      expect(responses.every((response) => response.data.token === server.issuedAccessTokens[1])).to.equal(true);
      expect(server.tokenRequests).to.equal(2);
    });
  });

  describe('when the token endpoint is down', function () {
    it('rejects every held request with TokenEndpointError when the connection is refused', async function () {
      const { api, handle } = connect({ tokenUrl: await unusedLoopbackUrl(), retry: { limit: 0 } });

      const errors = rejected(await settleAll(fire(api, 50), BOUND_MS));

      for (const error of errors) {
        expect(error).to.be.instanceOf(TokenEndpointError);
        expect((error as TokenEndpointError).code).to.equal(ErrorCodes.TOKEN_ENDPOINT_UNREACHABLE);
      }
      expect(server.apiRequests).to.equal(0);
      expect(handle.stats().held).to.equal(0);
    });

    it('rejects every held request with the same TokenEndpointError when the token endpoint answers 500', async function () {
      const { api, handle } = connect({ retry: { limit: 0 } });
      server.failTokenEndpoint('status-500');
      const release = server.holdTokenEndpoint();

      const pending = fire(api, 100);
      await server.whenTokenRequests(1);
      await until(() => handle.stats().held === 100, 'the 100 requests are held');
      release();
      const errors = rejected(await settleAll(pending, BOUND_MS));

      expect(errors[0]).to.be.instanceOf(TokenEndpointError);
      expect((errors[0] as TokenEndpointError).status).to.equal(500);
      expect(new Set(errors).size, 'one failure, shared by every held request').to.equal(1);
      // axios appends each caller's stack to the error it rejects with; the shared error must not grow with every holder.
      expect(String((errors[0] as Error).stack).length, 'the shared error stack stays its own size').to.be.below(5000);
      expect(server.tokenRequests).to.equal(1);
      expect(server.apiRequests).to.equal(0);
    });
  });

  describe('what attachAuth leaves alone', function () {
    it('sends a request with skipAuth: true without an Authorization header and without fetching a token', async function () {
      const { api } = connect();

      const response = await api.get<ApiBody>('/public/ping', { skipAuth: true });

      expect(response.data.sawAuthorization).to.equal(false);
      expect(server.tokenRequests).to.equal(0);
    });

    it('stops attaching the token once detached', async function () {
      const { api, handle } = connect();
      expect((await api.get<ApiBody>('/public/before')).data.sawAuthorization).to.equal(true);

      handle.detach();

      expect((await api.get<ApiBody>('/public/after')).data.sawAuthorization).to.equal(false);
      expect(server.tokenRequests).to.equal(1);
    });

    it('lets the process exit after detach, even with a token request waiting to be retried', async function () {
      this.timeout(20_000);
      server.failTokenEndpoint('status-503');
      const result = await runScript(`
        const api = axios.create({ baseURL: ${JSON.stringify(server.origin)} });
        const handle = attachAuth(api, {
          tokenUrl: ${JSON.stringify(server.tokenUrl)}, clientId: ${JSON.stringify(CLIENT_ID)}, clientSecret: ${JSON.stringify(CLIENT_SECRET)},
          retry: { limit: 5, baseDelay: 60000, maxDelay: 60000 },
        });
        const outcome = api.get('/things').then(() => 'resolved', (error) => error.code ?? error.name);
        // The first attempt answered 503 and a 30-60 s retry timer is set: detach now.
        const deadline = Date.now() + 5000;
        while (!(handle.stats().tokenRequests === 1 && handle.stats().tokenRequestsInFlight === 0)) {
          if (Date.now() > deadline) { console.log(JSON.stringify({ outcome: 'never reached the retry' })); process.exit(3); }
          await new Promise((resolve) => setImmediate(resolve));
        }
        handle.detach();
        console.log(JSON.stringify({ outcome: await outcome }));
      `);

      expect(result.code, result.stderr).to.equal(0);
      expect(result.last).to.deep.equal({ outcome: ErrorCodes.DETACHED });
    });

    it('never sends a token request through the instance interceptors, nor with a Bearer header', async function () {
      const api = axios.create({ baseURL: server.origin, httpAgent: agent });
      const seen: string[] = [];
      const spy = (config: InternalAxiosRequestConfig): InternalAxiosRequestConfig => {
        seen.push(`${config.baseURL ?? ''}${config.url ?? ''}`);
        return config;
      };
      api.interceptors.request.use(spy);
      // A global default Bearer header must not leak onto the token endpoint's private instance either.
      const globalHeaders = axios.defaults.headers.common;
      globalHeaders['Authorization'] = 'Bearer global-default-header';
      try {
        connect({}, api);
      } finally {
        delete globalHeaders['Authorization'];
      }
      api.interceptors.request.use(spy);

      await api.get('/first');
      server.revokeAll();
      await api.get('/second');

      expect(server.tokenRequests).to.equal(2);
      expect(server.tokenRequestLog.map((request) => request.authorization)).to.deep.equal([undefined, undefined]);
      expect(seen.length).to.be.greaterThan(0);
      expect(seen.filter((url) => url.includes('/token'))).to.deep.equal([]);
    });

    it('authenticates the client with HTTP Basic, never Bearer, when clientAuth is basic', async function () {
      const { api } = connect({ tokenRequest: { clientAuth: 'basic' } });

      await api.get('/things');

      const request = server.lastTokenRequest;
      expect(request?.authorization).to.match(/^Basic /);
      expect(request?.clientId).to.equal(CLIENT_ID);
      expect(request?.clientSecret).to.equal(CLIENT_SECRET);
      expect(request?.params).to.not.have.property('client_secret');
    });
  });

  describe('token endpoint dialects', function () {
    it('sends a form-encoded POST by default', async function () {
      const { api } = connect({ scope: ['read', 'write'] });

      await api.get('/things');

      expect(server.lastTokenRequest).to.deep.include({ method: 'POST', contentType: 'application/x-www-form-urlencoded' });
      expect(server.lastTokenRequest?.params).to.deep.equal({
        grant_type: 'client_credentials',
        scope: 'read write',
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
      });
    });

    it('sends the parameters in the query string of a GET when asked to (the Musement dialect)', async function () {
      const { api } = connect({ tokenRequest: { method: 'GET', encoding: 'query' } });

      await api.get('/things');

      expect(server.lastTokenRequest).to.deep.include({ method: 'GET', contentType: '' });
      expect(server.lastTokenRequest?.query).to.include({ grant_type: 'client_credentials', client_id: CLIENT_ID });
    });

    it('sends a JSON body when asked to (the MyParcel.com dialect)', async function () {
      const { api } = connect({ tokenRequest: { encoding: 'json' } });

      await api.get('/things');

      expect(server.lastTokenRequest).to.deep.include({ method: 'POST', contentType: 'application/json' });
      expect(server.lastTokenRequest?.params).to.include({ grant_type: 'client_credentials', client_secret: CLIENT_SECRET });
    });
  });
});
