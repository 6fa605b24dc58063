// attachAuth on an instance that already has interceptors of its own: a request id,
// an error mapper, an unwrap step (`r => r.data`) and axios-retry, registered before
// and after attachAuth. Each logical request passes each of them once, whatever the
// order: the 401 replay happens inside the adapter (docs/interceptors.md).
// Over real loopback sockets.

import util from 'node:util';
import axios, { type AxiosError, type AxiosInstance, type InternalAxiosRequestConfig } from 'axios';
import axiosRetry from 'axios-retry';
import { expect } from 'chai';
import { attachAuth, type AuthHandle } from '../../lib/index.js';
import { rejection, until, within } from '../helpers/deferred.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const CLIENT_ID = 'interceptors-client';
const CLIENT_SECRET = 'interceptors-secret-8c41e7';
const BOUND_MS = 10_000;
/** axios-retry resends `error.config`, which axios before 1.2 cannot do. */
const resendsErrorConfig = !/^1\.[01]\./.test(axios.VERSION);

interface ApiBody {
  ok: boolean;
}

/** What an app's error mapper turns an axios error into. */
class ApiCallError extends Error {
  readonly status: number | undefined;
  constructor(status: number | undefined) {
    super(`API call failed with ${status ?? 'no response'}`);
    this.status = status;
  }
}

/** The app's own interceptors, with counters. */
interface AppInterceptors {
  requestIds: number;
  mapped: AxiosError[];
  unwrapped: number;
}

function installAppInterceptors(instance: AxiosInstance): AppInterceptors {
  const seen: AppInterceptors = { requestIds: 0, mapped: [], unwrapped: 0 };
  instance.interceptors.request.use((config: InternalAxiosRequestConfig) => {
    seen.requestIds += 1;
    config.headers.set('x-request-id', `req-${seen.requestIds}`);
    return config;
  });
  instance.interceptors.response.use(
    (response) => {
      seen.unwrapped += 1;
      // The unwrap step: the app's callers get the body.
      return response.data as unknown as typeof response;
    },
    (error: AxiosError) => {
      seen.mapped.push(error);
      return Promise.reject(new ApiCallError(error.response?.status));
    },
  );
  return seen;
}

describe('interceptors the app registered (loopback)', function () {
  let server: TestServer;
  const handles: AuthHandle[] = [];

  before(async () => {
    server = await startTestServer({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
  });

  after(async () => {
    await server.close();
  });

  beforeEach(() => {
    server.reset();
  });

  afterEach(() => {
    for (const handle of handles.splice(0)) handle.detach();
  });

  const authorize = (instance: AxiosInstance): AuthHandle => {
    const handle = attachAuth(instance, { tokenUrl: server.tokenUrl, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, allowInsecureHttp: true });
    handles.push(handle);
    return handle;
  };

  /** An instance with the app's interceptors registered before or after attachAuth. */
  const build = (order: 'before' | 'after'): { api: AxiosInstance; seen: AppInterceptors; handle: AuthHandle } => {
    const api = axios.create({ baseURL: server.origin });
    if (order === 'before') {
      const seen = installAppInterceptors(api);
      return { api, seen, handle: authorize(api) };
    }
    const handle = authorize(api);
    return { api, seen: installAppInterceptors(api), handle };
  };

  for (const order of ['before', 'after'] as const) {
    describe(`registered ${order} attachAuth`, () => {
      it('a replayed request passes the request-id step once and carries the same id twice', async () => {
        const { api, seen } = build(order);
        await within(api.get('/warm-up'), BOUND_MS, 'warm-up');
        server.revokeAll();
        const body = (await within(api.get('/orders'), BOUND_MS, 'replayed request')) as unknown as ApiBody;

        expect(body.ok).to.equal(true);
        expect(seen.requestIds).to.equal(2);
        expect(server.apiRequestsById.get('req-2')).to.equal(2);
        expect(server.tokenRequests).to.equal(2);
      });

      it('the unwrap step returns the body of a replayed request, and runs once', async () => {
        const { api, seen } = build(order);
        await within(api.get('/warm-up'), BOUND_MS, 'warm-up');
        server.revokeAll();
        const body = (await within(api.get('/orders'), BOUND_MS, 'replayed request')) as unknown as ApiBody;

        expect(body).to.be.an('object');
        expect(body.ok).to.equal(true);
        expect(seen.unwrapped).to.equal(2);
      });

      it('an error mapper sees no 401 that a new token fixes, and the refused token is not kept', async () => {
        const { api, seen, handle } = build(order);
        await within(api.get('/warm-up'), BOUND_MS, 'warm-up');
        const refused = server.currentAccessToken;
        server.revokeAll();
        await within(api.get('/orders'), BOUND_MS, 'replayed request');
        await within(api.get('/orders'), BOUND_MS, 'next request');

        expect(seen.mapped).to.have.length(0);
        expect(server.tokenRequests).to.equal(2);
        expect((await handle.getToken()).accessToken).to.not.equal(refused);
        expect(handle.stats().replays).to.equal(1);
      });

      it('an error mapper maps only the final 401, once, and sees it redacted', async () => {
        const { api, seen } = build(order);
        server.apiAlways401 = true;
        const error = await within(rejection(api.get('/orders')), BOUND_MS, 'refused request');

        expect(error).to.be.instanceOf(ApiCallError);
        expect((error as ApiCallError).status).to.equal(401);
        expect(seen.mapped).to.have.length(1);
        expect(server.apiRequestsById.get('req-1')).to.equal(2);
        const shown = util.inspect(seen.mapped[0], { depth: 8 }) + JSON.stringify(seen.mapped[0]);
        for (const secret of server.secrets()) expect(shown).to.not.include(secret);
      });

      it('axios-retry retrying 401 sends at most 2 + retries times and asks for at most 2 tokens', async function () {
        // axios 1.0 and 1.1 cannot send an error's config again (ERR_INVALID_CHAR from their header merge), attachAuth or not.
        if (!resendsErrorConfig) this.skip();
        const api = axios.create({ baseURL: server.origin });
        const retry = { retries: 2, retryDelay: () => 0, retryCondition: (error: AxiosError) => error.response?.status === 401 };
        let handle: AuthHandle;
        if (order === 'before') {
          axiosRetry(api, retry);
          handle = authorize(api);
        } else {
          handle = authorize(api);
          axiosRetry(api, retry);
        }
        server.apiAlways401 = true;
        const error = await within(rejection(api.get('/orders')), BOUND_MS, 'refused request');
        expect(axios.isAxiosError(error) && error.response?.status).to.equal(401);
        expect(server.apiRequests).to.equal(2 + retry.retries);
        expect(server.tokenRequests).to.equal(2);
        expect(handle.stats().replays).to.equal(1);
      });

      it('axios-retry retrying 401 ends with the answer of a replay that succeeds', async () => {
        const api = axios.create({ baseURL: server.origin });
        const retry = { retries: 2, retryDelay: () => 0, retryCondition: (error: AxiosError) => error.response?.status === 401 };
        if (order === 'before') {
          axiosRetry(api, retry);
          authorize(api);
        } else {
          authorize(api);
          axiosRetry(api, retry);
        }
        await within(api.get('/warm-up'), BOUND_MS, 'warm-up');
        server.revokeAll();
        const response = await within(api.get<ApiBody>('/orders'), BOUND_MS, 'replayed request');

        expect(response.data.ok).to.equal(true);
        expect(server.apiRequests).to.equal(3);
        expect(server.tokenRequests).to.equal(2);
      });
    });
  }

  describe('a replay waiting for its new token', () => {
    it('still obeys an abort signal', async () => {
      const { api, seen } = build('after');
      await within(api.get('/warm-up'), BOUND_MS, 'warm-up');
      server.revokeAll();
      const release = server.holdTokenEndpoint();
      try {
        const controller = new AbortController();
        const pending = rejection(api.get('/orders', { signal: controller.signal }));
        await until(() => server.tokenRequests === 2, 'the refresh after the 401');
        controller.abort();
        const error = await within(pending, BOUND_MS, 'aborted replay');

        expect(seen.mapped).to.have.length(1);
        expect(axios.isCancel(seen.mapped[0])).to.equal(true);
        expect(error).to.be.instanceOf(ApiCallError);
      } finally {
        release();
      }
    });

    it('still obeys a cancelToken', async () => {
      const api = axios.create({ baseURL: server.origin });
      authorize(api);
      await within(api.get('/warm-up'), BOUND_MS, 'warm-up');
      server.revokeAll();
      const release = server.holdTokenEndpoint();
      try {
        const source = axios.CancelToken.source();
        const pending = rejection(api.get('/orders', { cancelToken: source.token }));
        await until(() => server.tokenRequests === 2, 'the refresh after the 401');
        source.cancel('the caller gave up');
        const error = await within(pending, BOUND_MS, 'cancelled replay');

        expect(axios.isCancel(error)).to.equal(true);
      } finally {
        release();
      }
    });

    it('still ends at its own timeout, with the error axios gives', async () => {
      const api = axios.create({ baseURL: server.origin });
      authorize(api);
      await within(api.get('/warm-up'), BOUND_MS, 'warm-up');
      server.revokeAll();
      const release = server.holdTokenEndpoint();
      try {
        const error = await within(rejection(api.get('/orders', { timeout: 400 })), BOUND_MS, 'timed-out replay');

        expect(axios.isAxiosError(error) && error.code).to.equal('ECONNABORTED');
        expect(server.tokenRequests).to.equal(2);
      } finally {
        release();
      }
    });
  });

  it('where the adapter cannot be resolved (axios 1.2 to 1.4, adapter named), the response interceptor replays as before', async function () {
    const exported = axios as { getAdapter?: unknown };
    const getAdapter = exported.getAdapter;
    // axios 1.0 and 1.1 know no adapter by name: there is nothing to fall back from.
    if (typeof getAdapter !== 'function') this.skip();
    const api = axios.create({ baseURL: server.origin, adapter: 'http' });
    authorize(api);
    await within(api.get('/warm-up'), BOUND_MS, 'warm-up');
    server.revokeAll();
    exported.getAdapter = undefined;
    try {
      const response = await within(api.get<ApiBody>('/orders'), BOUND_MS, 'replayed request');
      expect(response.data.ok).to.equal(true);
      expect(server.tokenRequests).to.equal(2);
    } finally {
      exported.getAdapter = getAdapter;
    }
  });
});
