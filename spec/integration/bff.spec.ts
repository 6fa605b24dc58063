// attachUserAuth over real loopback sockets: one Axios instance serving many users
// of a BFF against a rotating authorization server (examples/bff-provider.ts).
// Concurrency is held open with deferreds, never raced; every wait is bounded.

import { expect } from 'chai';
import axios, { type AxiosInstance, type InternalAxiosRequestConfig } from 'axios';
import { attachUserAuth, ErrorCodes, LoginRequiredError, MemoryUserTokenStore, type UserAuthHandle } from '../../lib/index.js';
import type { StoredUserTokenSet, UserTokenStore } from '../../lib/stores/user-token-store.js';
import { BFF_CLIENT_ID, BFF_CLIENT_SECRET, BffProvider } from '../../examples/bff-provider.js';
import { deferred, flush, rejection, settleAll, until, within } from '../helpers/deferred.js';
import { findSecret } from '../helpers/error-secrets.js';
import { ConfigurationError } from '../../lib/index.js';
import { startForeignServer } from '../helpers/test-server.js';

describe('attachUserAuth over loopback sockets', () => {
  let provider: BffProvider;
  let api: AxiosInstance;
  let handle: UserAuthHandle;
  let tokens: MemoryUserTokenStore;

  before(async () => {
    provider = await new BffProvider().start();
  });
  after(async () => {
    await provider.close();
  });

  const attach = (store: UserTokenStore = tokens, extra: { retry?: { limit: number } } = {}): UserAuthHandle =>
    attachUserAuth(api, {
      ...provider.clientOptions(),
      tokens: store,
      ...extra,
    });

  beforeEach(() => {
    api = axios.create({ baseURL: provider.origin });
    tokens = new MemoryUserTokenStore();
    handle = attach();
    provider.beforeRefresh = undefined;
    provider.beforeApiAnswer = undefined;
    provider.failingUsers.clear();
    provider.refusedUsers.clear();
    provider.refreshRequestsByUser.clear();
    provider.apiLog.length = 0;
  });
  afterEach(() => handle.detach());

  /** Signs `user` in with a token set whose access token this client already considers expired. */
  const signInExpired = async (user: string): Promise<void> => {
    const issued = provider.issue(user);
    await handle.signIn(user, { accessToken: issued.access_token, tokenType: 'Bearer', refreshToken: issued.refresh_token, expiresAt: Date.now() - 1000, raw: {} });
  };
  const me = (user: string) => api.get<{ user: string }>('/api/me', { authSubject: user, headers: { 'x-user': user } });

  it('costs one token request for 200 concurrent requests of one user whose token expired', async () => {
    await signInExpired('alice');
    const results = await settleAll(Array.from({ length: 200 }, () => me('alice')), 10_000);
    expect(results.every((result) => result.status === 'fulfilled' && result.value.data.user === 'alice')).to.equal(true);
    expect(provider.refreshRequestsByUser.get('alice')).to.equal(1);
    expect(handle.stats().tokenRequests).to.equal(1);
  });

  it('calls a class-based logger as methods and survives callbacks that throw, reporting each once', async () => {
    handle.detach();
    class ClassLogger {
      readonly lines: string[] = [];
      debug(line: string): void {
        this.lines.push(line);
      }
      warn(line: string): void {
        this.lines.push(line);
      }
    }
    const logger = new ClassLogger();
    handle = attachUserAuth(api, {
      ...provider.clientOptions(),
      tokens,
      logger,
      events: {
        onToken: () => {
          throw new Error('token sink down');
        },
        onRefreshError: () => {
          throw new Error('metrics down');
        },
      },
    });
    await signInExpired('alice');
    const results = await settleAll(Array.from({ length: 20 }, () => me('alice')), 5000);
    expect(results.every((result) => result.status === 'fulfilled' && result.value.data.user === 'alice')).to.equal(true);
    expect(logger.lines.filter((line) => line.includes('the onToken callback failed'))).to.have.length(1);
  });

  it("drops a user's token when an interceptor registered before attachUserAuth moves the request to another origin", async () => {
    handle.detach();
    const attacker = await startForeignServer();
    try {
      api = axios.create({ baseURL: provider.origin });
      // Registered first, so axios runs it after attachUserAuth's own interceptor.
      api.interceptors.request.use((config) => {
        if (config.headers['x-move'] === 'yes') config.baseURL = attacker.origin;
        return config;
      });
      handle = attach();
      await signInExpired('alice');
      await within(me('alice'), 5000, 'a request that stays');
      await settleAll([api.get('/api/me', { authSubject: 'alice', headers: { 'x-move': 'yes' } })], 5000);
      expect(attacker.requests).to.have.length(1);
      expect(attacker.requests[0]?.authorization, 'no token reaches the origin the request moved to').to.equal(undefined);
    } finally {
      await attacker.close();
    }
  });

  for (const order of ['before', 'after'] as const) {
    it(`passes each app interceptor once on a user's replayed request, registered ${order} attachUserAuth`, async () => {
      handle.detach();
      api = axios.create({ baseURL: provider.origin });
      let requestSteps = 0;
      let unwraps = 0;
      const register = (): void => {
        api.interceptors.request.use((config) => {
          requestSteps += 1;
          return config;
        });
        api.interceptors.response.use((response) => {
          unwraps += 1;
          return response.data as never;
        });
      };
      if (order === 'before') register();
      handle = attach();
      if (order === 'after') register();
      const issued = provider.issue('alice');
      await handle.signIn('alice', { accessToken: issued.access_token, tokenType: 'Bearer', refreshToken: issued.refresh_token, expiresAt: Date.now() + 3600_000, raw: {} });
      provider.expireAccessTokens('alice');
      const body = (await within(api.get('/api/me', { authSubject: 'alice' }), 5000, 'the replayed request')) as unknown as { user: string };
      expect(body.user, 'the unwrap step returns the body of the replayed request').to.equal('alice');
      expect(handle.stats().replays).to.equal(1);
      expect(requestSteps, 'the request step runs once').to.equal(1);
      expect(unwraps, 'the unwrap step runs once').to.equal(1);
    });
  }

  it("does not hold another user's requests while one user's refresh is held open", async () => {
    await signInExpired('alice');
    await signInExpired('bob');
    const gate = deferred();
    provider.beforeRefresh = (user) => (user === 'alice' ? gate.promise : undefined);
    const alice = Array.from({ length: 20 }, () => me('alice'));
    await until(() => provider.refreshRequestsByUser.get('alice') === 1, "alice's refresh reaches the server");
    const bob = await within(Promise.all(Array.from({ length: 20 }, () => me('bob'))), 5000, "bob's requests");
    expect(bob.map((response) => response.data.user)).to.deep.equal(Array(20).fill('bob'));
    expect(handle.stats().held).to.equal(20);
    gate.resolve();
    const done = await settleAll(alice, 5000);
    expect(done.every((result) => result.status === 'fulfilled' && result.value.data.user === 'alice')).to.equal(true);
  });

  it("rejects only the failing user's requests when that user's refresh fails", async () => {
    handle.detach();
    handle = attach(tokens, { retry: { limit: 0 } });
    await signInExpired('alice');
    await signInExpired('bob');
    provider.failingUsers.add('alice');
    const alice = Array.from({ length: 10 }, () => me('alice'));
    const bob = Array.from({ length: 10 }, () => me('bob'));
    const [aliceResults, bobResults] = await Promise.all([settleAll(alice, 5000), settleAll(bob, 5000)]);
    expect(aliceResults.every((result) => result.status === 'rejected' && (result.reason as { status?: number }).status === 503)).to.equal(true);
    expect(bobResults.every((result) => result.status === 'fulfilled' && result.value.data.user === 'bob')).to.equal(true);
    expect(provider.refreshRequestsByUser.get('alice')).to.equal(1);
  });

  it('rejects a request that names no user, and sends a skipAuth request without a token', async () => {
    await handle.signIn('alice', provider.issue('alice'));
    const error = await rejection(api.get('/api/me'));
    expect((error as { code?: string }).code).to.equal(ErrorCodes.AUTH_SUBJECT_REQUIRED);
    expect(provider.apiLog).to.have.length(0);
    const skipped = await rejection(api.get('/api/me', { skipAuth: true }));
    expect((skipped as { response?: { status: number } }).response?.status).to.equal(401);
    expect(provider.apiLog).to.deep.equal([{ authorized: false, tokenUser: undefined, claimedUser: undefined, status: 401 }]);
  });

  it('takes the user from runAs when a request names none, and a request\'s own authSubject over the scope', async () => {
    await handle.signIn('alice', provider.issue('alice'));
    await handle.signIn('bob', provider.issue('bob'));
    const [scoped, named] = await handle.runAs('alice', () => Promise.all([api.get('/api/me'), api.get('/api/me', { authSubject: 'bob' })]));
    expect(scoped.data.user).to.equal('alice');
    expect(named.data.user).to.equal('bob');
  });

  it('rejects with ERR_LOGIN_REQUIRED and forgets the user when the provider refuses their grant (invalid_grant)', async () => {
    await signInExpired('alice');
    provider.revokeUser('alice');
    const error = await rejection(me('alice'));
    expect(error).to.be.instanceOf(LoginRequiredError);
    expect((error as LoginRequiredError).code).to.equal(ErrorCodes.LOGIN_REQUIRED);
    expect((error as LoginRequiredError).reason).to.equal('grant_refused');
    expect(tokens.size).to.equal(0);
    const again = await rejection(me('alice'));
    expect((again as LoginRequiredError).reason).to.equal('no_token_set');
    expect(handle.stats().tokenRequests).to.equal(1);
  });

  it('rejects with ERR_LOGIN_REQUIRED, without a token request, for a user who never signed in', async () => {
    const error = await rejection(me('carol'));
    expect((error as LoginRequiredError).code).to.equal(ErrorCodes.LOGIN_REQUIRED);
    expect(handle.stats().tokenRequests).to.equal(0);
  });

  it('refreshes once and replays once for one user whose access tokens the API stops taking, leaving the other alone', async () => {
    await handle.signIn('alice', provider.issue('alice'));
    await handle.signIn('bob', provider.issue('bob'));
    provider.expireAccessTokens('alice');
    const results = await settleAll([...Array.from({ length: 50 }, () => me('alice')), ...Array.from({ length: 50 }, () => me('bob'))], 10_000);
    expect(results.every((result) => result.status === 'fulfilled')).to.equal(true);
    expect(provider.refreshRequestsByUser.get('alice')).to.equal(1);
    expect(provider.refreshRequestsByUser.get('bob')).to.equal(undefined);
    expect(handle.stats().replays).to.equal(50);
  });

  it("backs off one user's 401-driven refreshes when the API refuses every new token of theirs, leaving the others alone", async () => {
    await handle.signIn('alice', provider.issue('alice'));
    await handle.signIn('bob', provider.issue('bob'));
    provider.refusedUsers.add('alice');
    for (let index = 0; index < 20; index += 1) {
      expect(((await rejection(me('alice'))) as { response?: { status: number } }).response?.status).to.equal(401);
      expect((await me('bob')).data.user).to.equal('bob');
    }
    // Without the back-off every one of the 20 requests would cost a refresh.
    expect(provider.refreshRequestsByUser.get('alice')).to.be.at.most(2);
    expect(provider.refreshRequestsByUser.get('bob')).to.equal(undefined);
    provider.refusedUsers.delete('alice');
    provider.expireAccessTokens('alice');
    await handle.revoke('alice');
    await handle.signIn('alice', provider.issue('alice'));
    expect((await me('alice')).data.user).to.equal('alice');
  });

  it("replays a late 401 for a user's older token with their current one, without a second refresh (token-version rule)", async () => {
    await handle.signIn('alice', provider.issue('alice'));
    const gate = deferred();
    provider.beforeApiAnswer = () => gate.promise;
    const before = provider.counters.apiRequests;
    const late = me('alice');
    await until(() => provider.counters.apiRequests > before, 'the first request reaches the API');
    provider.beforeApiAnswer = undefined;
    provider.expireAccessTokens('alice');
    expect((await within(me('alice'), 5000, 'the second request')).data.user).to.equal('alice');
    expect(provider.refreshRequestsByUser.get('alice')).to.equal(1);
    gate.resolve();
    expect((await within(late, 5000, 'the late request')).data.user).to.equal('alice');
    expect(provider.refreshRequestsByUser.get('alice')).to.equal(1);
    expect(handle.stats().replays).to.equal(2);
  });

  it("sends a user's stale token at once and renews it in the background, holding nobody", async () => {
    let now = Date.now();
    handle.detach();
    handle = attachUserAuth(api, { ...provider.clientOptions(), tokens, clock: { now: () => now } });
    await handle.signIn('alice', provider.issue('alice'));
    const first = (await handle.getToken('alice')).accessToken;
    now += 3_570_000; // 30 s before expiry: inside the 60 s refresh window
    expect((await me('alice')).data.user).to.equal('alice');
    expect(handle.stats().held).to.equal(0);
    await until(() => handle.stats().refreshes === 2, 'the background refresh installs the new token set');
    expect(provider.refreshRequestsByUser.get('alice')).to.equal(1);
    expect((await handle.getToken('alice')).accessToken).to.not.equal(first);
  });

  it('lets idle users leave the working set beyond maxUsers and reloads them from the store without a token request', async () => {
    handle.detach();
    handle = attachUserAuth(api, { ...provider.clientOptions(), tokens, maxUsers: 2 });
    for (const user of ['ann', 'ben', 'cat', 'dan']) await handle.signIn(user, provider.issue(user));
    expect(handle.stats().users).to.be.at.most(2);
    const answers = await Promise.all(['ann', 'ben', 'cat', 'dan'].map((user) => me(user)));
    expect(answers.map((answer) => answer.data.user)).to.deep.equal(['ann', 'ben', 'cat', 'dan']);
    expect(handle.stats().tokenRequests).to.equal(0);
  });

  it('revoke(subject) revokes the refresh token first, then the access token, and forgets the user', async () => {
    const issued = provider.issue('alice');
    await handle.signIn('alice', issued);
    const before = provider.counters.revocations;
    expect(await handle.revoke('alice')).to.deep.equal({ refreshToken: 'revoked', accessToken: 'revoked' });
    expect(provider.counters.revocations - before).to.equal(2);
    expect(tokens.size).to.equal(0);
    expect((await rejection(me('alice'))).constructor).to.equal(LoginRequiredError);
    // The grant is over at the provider too: its refresh token no longer works anywhere.
    const other = axios.create({ baseURL: provider.origin });
    const elsewhere = attachUserAuth(other, { tokenUrl: provider.tokenUrl, clientId: BFF_CLIENT_ID, clientSecret: BFF_CLIENT_SECRET });
    try {
      await elsewhere.signIn('alice', { ...issued, expires_at: Math.floor(Date.now() / 1000) - 10 });
      expect(((await rejection(other.get('/api/me', { authSubject: 'alice' }))) as LoginRequiredError).reason).to.equal('grant_refused');
    } finally {
      elsewhere.detach();
    }
  });

  it('writes the rotated refresh token to the store before the new access token is used', async () => {
    const written = deferred();
    const store = new MemoryUserTokenStore();
    let sets = 0;
    const writes: StoredUserTokenSet[] = [];
    const holding: UserTokenStore = {
      get: (key) => store.get(key),
      set: async (key, value: StoredUserTokenSet, ttl) => {
        sets += 1;
        writes.push(value);
        if (sets > 1) await written.promise; // the first set is the sign-in
        await store.set(key, value, ttl);
      },
      delete: (key) => store.delete(key),
    };
    handle.detach();
    handle = attach(holding);
    await signInExpired('alice');
    const request = me('alice');
    await until(() => sets === 2, 'the rotated token set is being written');
    expect(provider.refreshRequestsByUser.get('alice')).to.equal(1);
    // A request that arrives while the write runs must not carry the new access token yet either.
    const later = me('alice');
    await flush();
    expect(handle.stats().held).to.equal(2);
    expect(provider.apiLog).to.have.length(0);
    written.resolve();
    expect((await within(request, 5000, 'the request')).data.user).to.equal('alice');
    expect((await within(later, 5000, 'the later request')).data.user).to.equal('alice');
    expect(writes.map((write) => write.generation)).to.deep.equal([1, 2]);
    expect(writes[1]!.tokenSet.refreshToken).to.not.equal(writes[0]!.tokenSet.refreshToken);
  });

  it("lets a held request go at once when its caller aborts, while that user's refresh goes on for the others", async () => {
    await signInExpired('alice');
    const gate = deferred();
    provider.beforeRefresh = () => gate.promise;
    const controller = new AbortController();
    const aborted = api.get('/api/me', { authSubject: 'alice', signal: controller.signal });
    const waiting = me('alice');
    await until(() => provider.refreshRequestsByUser.get('alice') === 1, 'the refresh reaches the server');
    controller.abort();
    expect(axios.isCancel(await within(rejection(aborted), 1000, 'the aborted request'))).to.equal(true);
    expect(handle.stats().held).to.equal(1);
    gate.resolve();
    expect((await within(waiting, 5000, 'the other request')).data.user).to.equal('alice');
  });

  it('puts no token, secret or subject in its errors', async () => {
    const issued = provider.issue('subject-that-is-a-session-id');
    await handle.signIn('subject-that-is-a-session-id', { ...issued, expires_in: 1, expires_at: Math.floor(Date.now() / 1000) - 5 } as never);
    provider.revokeUser('subject-that-is-a-session-id');
    const refused = await rejection(me('subject-that-is-a-session-id'));
    const noSubject = await rejection(api.get('/api/me'));
    for (const error of [refused, noSubject]) {
      expect(findSecret(error, [issued.access_token, issued.refresh_token, BFF_CLIENT_SECRET, 'subject-that-is-a-session-id'])).to.equal(undefined);
    }
  });

  it('needs no user for a request to an origin outside `origins`, and sends it without a token', async () => {
    const elsewhere = await rejection(api.get(`http://localhost:${new URL(provider.origin).port}/api/me`));
    expect((elsewhere as { response?: { status: number } }).response?.status).to.equal(401);
    expect(provider.apiLog.at(-1)?.tokenUser).to.equal(undefined);
  });

  it("strips the user's token in its beforeRedirect hook when a redirect leaves the allowed origins, whatever axios strips itself", async () => {
    // Recent axios releases drop Authorization on cross-origin redirects themselves, older ones left it to
    // follow-redirects (which keeps it for a subdomain): so the hook is called directly, as fault-matrix does.
    handle.detach();
    api = axios.create({ baseURL: provider.origin });
    let sent: InternalAxiosRequestConfig | undefined;
    // Registered before attachUserAuth, so it runs after it and sees what it installed.
    api.interceptors.request.use((config) => {
      sent = config;
      return config;
    });
    handle = attach();
    await handle.signIn('alice', provider.issue('alice'));
    const { port } = new URL(provider.origin);
    expect((await api.get<{ user: string }>(`/api/redirect?to=${encodeURIComponent(`${provider.origin}/api/me`)}`, { authSubject: 'alice' })).data.user).to.equal('alice');
    const hook = sent?.beforeRedirect;
    expect(hook).to.be.a('function');
    const hop = (href: string): Record<string, unknown> => {
      const url = new URL(href);
      const options = { href, protocol: url.protocol, hostname: url.hostname, host: url.host, port: url.port, path: url.pathname, headers: { Authorization: 'Bearer t', Accept: '*/*' } };
      hook!(options, { headers: {}, statusCode: 302 }, { url: `${provider.origin}/api/redirect`, method: 'GET', headers: {} });
      return options.headers;
    };
    expect(hop(`${provider.origin}/api/me`)).to.have.property('Authorization', 'Bearer t');
    expect(hop(`http://evil.127.0.0.1.nip.test:${port}/landing`)).to.not.have.property('Authorization');
    expect(hop(`http://127.0.0.1:${Number(port) === 65535 ? 1 : Number(port) + 1}/landing`)).to.not.have.property('Authorization');
    expect(hop(`http://localhost:${port}/landing`)).to.have.property('Accept', '*/*');
  });

  it('refuses attachAuth options that have no meaning per user, and a store that is not one, naming the option', () => {
    const fresh = axios.create({ baseURL: provider.origin });
    const base = { tokenUrl: provider.tokenUrl, clientId: BFF_CLIENT_ID };
    expect(() => attachUserAuth(fresh, { ...base, grant: { type: 'client_credentials' } } as never)).to.throw(ConfigurationError, /"grant"/);
    expect(() => attachUserAuth(fresh, { ...base, tokens: {} as never })).to.throw(ConfigurationError, /"tokens"/);
    expect(() => attachUserAuth(fresh, { ...base, maxUsers: 0 })).to.throw(ConfigurationError, /"maxUsers"/);
  });

  it('forget(subject) drops the user here and in the store without asking the provider', async () => {
    await handle.signIn('alice', provider.issue('alice'));
    const revocations = provider.counters.revocations;
    await handle.forget('alice');
    expect(tokens.size).to.equal(0);
    expect(provider.counters.revocations).to.equal(revocations);
    expect((await rejection(handle.getToken('alice'))).constructor).to.equal(LoginRequiredError);
  });

  it('presents no refresh token while the store cannot be read, and rejects with ERR_USER_TOKEN_STORE', async () => {
    let broken = false;
    const flaky: UserTokenStore = {
      get: (key) => (broken ? Promise.reject(new Error('connection lost to 10.0.0.5 holding rt-secret')) : tokens.get(key)),
      set: (key, value, ttl) => tokens.set(key, value, ttl),
      delete: (key) => tokens.delete(key),
    };
    handle.detach();
    handle = attach(flaky);
    await signInExpired('alice');
    broken = true;
    const error = await rejection(me('alice'));
    expect((error as { code?: string }).code).to.equal(ErrorCodes.USER_TOKEN_STORE_FAILED);
    expect(JSON.stringify(error) + String(error) + String((error as Error).cause)).to.not.include('rt-secret');
    expect(handle.stats().tokenRequests).to.equal(0);
    broken = false;
    expect((await me('alice')).data.user).to.equal('alice');
  });

  it('never attaches a token when a second attach is tried on the same instance', () => {
    expect(() => attach()).to.throw(/already serves/);
  });
});
