import { inspect } from 'node:util';
import axios, { type AxiosError, type AxiosInstance, type AxiosRequestConfig } from 'axios';
import type MockAdapter from 'axios-mock-adapter';
import { expect } from 'chai';
import { attachAuth, type AuthHandle } from '../lib/attach-auth.js';
import { OAuthError } from '../lib/errors.js';
import type { AttachAuthOptions } from '../lib/options.js';
import type { TokenSet } from '../lib/token-set.js';
import { deferred, rejection, until } from './helpers/deferred.js';
import { FakeClock } from './helpers/fake-clock.js';
import { JSON_HEADERS, mockAxiosDefaults, secondTokenHeld, token } from './helpers/mock-token-endpoint.js';

const API = 'https://api.example.com';
const TOKEN_URL = 'https://auth.example.com/oauth2/token';
const HOUR = 3600_000;

/** The Authorization header a request went out with, as the mock adapter saw it. */
function authorizationOf(config: AxiosRequestConfig | undefined): unknown {
  const headers = (config?.headers ?? {}) as Record<string, unknown>;
  return headers['Authorization'];
}

describe('attach-auth', function () {
  this.timeout(5000);
  let mock: MockAdapter;
  let clock: FakeClock;
  let api: AxiosInstance;
  let handles: AuthHandle[];

  beforeEach(() => {
    // Both the API instance and attachAuth's private token instance are created
    // after this, so both copy the mock adapter from axios.defaults.
    mock = mockAxiosDefaults();
    clock = new FakeClock();
    api = axios.create({ baseURL: API });
    handles = [];
    // The API echoes the Authorization header it received.
    mock.onGet(`${API}/data`).reply((config) => [200, { authorization: authorizationOf(config) ?? null }]);
  });

  afterEach(() => {
    for (const handle of handles) handle.detach();
    mock.restore();
  });

  function attach(options: Partial<AttachAuthOptions> = {}): AuthHandle {
    const handle = attachAuth(api, { tokenUrl: TOKEN_URL, clientId: 'client-1', clientSecret: 'client-secret-Xq9', clock, retry: { baseDelay: 1, maxDelay: 50 }, ...options });
    handles.push(handle);
    return handle;
  }

  const apiRequests = (): AxiosRequestConfig[] => mock.history.get.filter((config) => config.url === '/data' || config.url === `${API}/data`);
  const seenAuthorization = async (): Promise<unknown> => (await api.get<{ authorization: unknown }>('/data')).data.authorization;

  it('attaches the token as Bearer and fetches it only once while it is fresh', async () => {
    mock.onPost(TOKEN_URL).replyOnce(...token('t1'));
    const handle = attach();
    const seen = await Promise.all(Array.from({ length: 50 }, () => seenAuthorization()));
    expect(new Set(seen)).to.deep.equal(new Set(['Bearer t1']));
    expect(handle.stats().tokenRequests).to.equal(1);
  });

  it('sends requests with a stale token at once and refreshes it once in the background', async () => {
    const gate = secondTokenHeld(mock, TOKEN_URL, 't1', 't2');
    const renewed = deferred();
    const handle = attach({ events: { onToken: (tokenSet: TokenSet) => tokenSet.accessToken === 't2' && renewed.resolve() } });
    await seenAuthorization();
    clock.advance(HOUR - 30_000);
    const seen = await Promise.all(Array.from({ length: 100 }, () => seenAuthorization()));
    expect(new Set(seen)).to.deep.equal(new Set(['Bearer t1']));
    expect(handle.stats()).to.include({ tokenRequests: 2, tokenRequestsInFlight: 1, held: 0 });
    gate.resolve();
    await renewed.promise;
    expect(await seenAuthorization()).to.equal('Bearer t2');
    expect(handle.stats().tokenRequests).to.equal(2);
  });

  it('holds requests while an expired token is renewed, with one token request, then sends them with the new token', async () => {
    const gate = secondTokenHeld(mock, TOKEN_URL, 't1', 't2');
    const handle = attach();
    await seenAuthorization();
    clock.advance(HOUR);
    const pending = Array.from({ length: 100 }, () => seenAuthorization());
    await until(() => handle.stats().held === 100, '100 held requests', 2000);
    expect(apiRequests()).to.have.length(1);
    gate.resolve();
    const seen = await Promise.all(pending);
    expect(new Set(seen)).to.deep.equal(new Set(['Bearer t2']));
    expect(handle.stats()).to.include({ tokenRequests: 2, held: 0 });
  });

  it('rejects every held request with the same typed error when the refresh fails', async () => {
    mock.onPost(TOKEN_URL).reply(401, JSON.stringify({ error: 'invalid_client' }), JSON_HEADERS);
    const handle = attach();
    const errors = await Promise.all(Array.from({ length: 30 }, () => rejection(api.get('/data'))));
    expect(errors[0]).to.be.instanceOf(OAuthError).with.property('code', 'invalid_client');
    expect(errors.every((error) => error === errors[0])).to.equal(true);
    expect(apiRequests()).to.have.length(0);
    expect(handle.stats()).to.include({ tokenRequests: 1, held: 0 });
  });

  describe('the 401 path', () => {
    function apiAccepts(accepted: string): void {
      mock.onGet(`${API}/orders`).reply((config) => (authorizationOf(config) === `Bearer ${accepted}` ? [200, { ok: true }] : [401, { error: 'invalid_token' }]));
    }

    it('renews the token once and replays the request after a 401', async () => {
      const replayed: string[] = [];
      mock
        .onPost(TOKEN_URL)
        .replyOnce(...token('t1'))
        .onPost(TOKEN_URL)
        .replyOnce(...token('t2'));
      apiAccepts('t2');
      const handle = attach({ events: { onReplay: (config) => replayed.push(config.url ?? '') } });
      const response = await api.get('/orders');
      expect(response.status).to.equal(200);
      expect(replayed).to.deep.equal(['/orders']);
      expect(handle.stats()).to.include({ tokenRequests: 2, replays: 1 });
    });

    it('replays a request at most once when the API keeps answering 401, and hides the token in the error', async () => {
      mock
        .onPost(TOKEN_URL)
        .replyOnce(...token('access-secret-1'))
        .onPost(TOKEN_URL)
        .replyOnce(...token('access-secret-2'));
      apiAccepts('never');
      const handle = attach();
      const error = (await rejection(api.get('/orders'))) as AxiosError;
      expect(error.response?.status).to.equal(401);
      expect(mock.history.get.filter((config) => config.url === '/orders')).to.have.length(2);
      expect(handle.stats()).to.include({ tokenRequests: 2, replays: 1 });
      expect(inspect(error, { depth: 6 })).not.to.match(/access-secret-\d/);
      expect(JSON.stringify(error)).not.to.match(/access-secret-\d/);
    });

    it('costs one token request for a storm of concurrent 401s', async () => {
      mock
        .onPost(TOKEN_URL)
        .replyOnce(...token('t1'))
        .onPost(TOKEN_URL)
        .replyOnce(...token('t2'));
      mock.onGet(`${API}/warm`).replyOnce(200, {});
      apiAccepts('t2');
      const handle = attach();
      await api.get('/warm');
      const responses = await Promise.all(Array.from({ length: 200 }, () => api.get('/orders')));
      expect(responses.every((response) => response.status === 200)).to.equal(true);
      expect(handle.stats()).to.include({ tokenRequests: 2, replays: 200 });
    });

    it('replays with the current token and no token request when the 401 was for an older token', async () => {
      const answer = deferred();
      const arrived = deferred();
      mock
        .onPost(TOKEN_URL)
        .replyOnce(...token('t1'))
        .onPost(TOKEN_URL)
        .replyOnce(...token('t2'));
      mock.onGet(`${API}/orders`).replyOnce(() => {
        arrived.resolve();
        return answer.promise.then((): [number, unknown] => [401, {}]);
      });
      mock.onGet(`${API}/orders`).reply((config) => [authorizationOf(config) === 'Bearer t2' ? 200 : 401, {}]);
      const handle = attach();
      const slow = api.get('/orders');
      await arrived.promise;
      await handle.refresh();
      answer.resolve();
      expect((await slow).status).to.equal(200);
      expect(handle.stats()).to.include({ tokenRequests: 2, replays: 1 });
    });

    it('leaves a 401 with insufficient_scope alone: a new token would not help', async () => {
      mock.onPost(TOKEN_URL).replyOnce(...token('t1'));
      mock.onGet(`${API}/orders`).reply(401, {}, { 'www-authenticate': 'Bearer error="insufficient_scope", scope="orders"' });
      const handle = attach();
      const error = (await rejection(api.get('/orders'))) as AxiosError;
      expect(error.response?.status).to.equal(401);
      expect(handle.stats()).to.include({ tokenRequests: 1, replays: 0 });
    });
  });

  describe('where the token goes', () => {
    it('sends no token and fetches none for a request with skipAuth', async () => {
      const handle = attach();
      const response = await api.get<{ authorization: unknown }>('/data', { skipAuth: true });
      expect(response.data.authorization).to.equal(null);
      expect(handle.stats().tokenRequests).to.equal(0);
    });

    it('sends no token to an origin that is not allowed', async () => {
      mock.onGet('https://elsewhere.example.net/data').reply((config) => [200, { authorization: authorizationOf(config) ?? null }]);
      const handle = attach();
      const response = await api.get<{ authorization: unknown }>('https://elsewhere.example.net/data');
      expect(response.data.authorization).to.equal(null);
      expect(handle.stats().tokenRequests).to.equal(0);
    });

    it('keeps token requests out of the instance interceptors', async () => {
      const intercepted: string[] = [];
      api.interceptors.request.use((config) => {
        intercepted.push(config.url ?? '');
        return config;
      });
      mock.onPost(TOKEN_URL).replyOnce(...token('t1'));
      attach();
      await seenAuthorization();
      expect(intercepted).to.deep.equal(['/data']);
    });
  });

  it('stops attaching tokens after detach', async () => {
    mock.onPost(TOKEN_URL).replyOnce(...token('t1'));
    const handle = attach();
    expect(await seenAuthorization()).to.equal('Bearer t1');
    handle.detach();
    clock.advance(HOUR);
    expect(await seenAuthorization()).to.equal(null);
    expect(handle.stats().tokenRequests).to.equal(1);
  });

  it('gives getToken the same token the requests carry', async () => {
    mock.onPost(TOKEN_URL).replyOnce(...token('t1', { scope: 'read' }));
    const handle = attach();
    const tokenSet = await handle.getToken();
    expect(tokenSet).to.deep.include({ accessToken: 't1', tokenType: 'Bearer', scope: 'read', expiresAt: clock.now() + HOUR });
    expect(await seenAuthorization()).to.equal('Bearer t1');
  });
});
