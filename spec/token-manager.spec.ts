import axios from 'axios';
import type MockAdapter from 'axios-mock-adapter';
import { expect } from 'chai';
import { ErrorCodes, OAuthError, OAuthQueueError, TokenEndpointError } from '../lib/errors.js';
import type { AttachAuthOptions } from '../lib/options.js';
import { resolveOptions } from '../lib/resolve-options.js';
import { MemoryTokenStore } from '../lib/stores/memory-token-store.js';
import type { StoredTokenSet, TokenStore } from '../lib/stores/token-store.js';
import { TokenManager } from '../lib/token-manager.js';
import type { TokenSet } from '../lib/token-set.js';
import { deferred, flush, rejection } from './helpers/deferred.js';
import { FAKE_EPOCH, FakeClock } from './helpers/fake-clock.js';
import { JSON_HEADERS, mockAxiosDefaults, oauthError, secondTokenHeld, token } from './helpers/mock-token-endpoint.js';

const TOKEN_URL = 'https://auth.example.com/oauth2/token';
const CLIENT_SECRET = 'client-secret-Xq9';
const HOUR = 3600_000;

describe('token-manager', function () {
  this.timeout(5000);
  let mock: MockAdapter;
  let clock: FakeClock;
  let managers: TokenManager[];

  beforeEach(() => {
    mock = mockAxiosDefaults();
    clock = new FakeClock();
    managers = [];
  });

  afterEach(() => {
    for (const manager of managers) manager.detach();
    mock.restore();
  });

  function manager(options: Partial<AttachAuthOptions> = {}): TokenManager {
    const api = axios.create({ baseURL: 'https://api.example.com' });
    const created = new TokenManager(
      resolveOptions(api, { tokenUrl: TOKEN_URL, clientId: 'client-1', clientSecret: CLIENT_SECRET, clock, retry: { baseDelay: 1, maxDelay: 50 }, ...options }),
    );
    managers.push(created);
    return created;
  }

  /** The parameters of each token request sent so far. */
  function tokenRequests(): Record<string, string>[] {
    return mock.history.post.map((request) => Object.fromEntries(new URLSearchParams(request.data as string)));
  }

  /** Resolves when onToken reports a token set with this access token. */
  function tokenArrives(accessToken: string): { onToken: (tokenSet: TokenSet) => void; arrived: Promise<void> } {
    const arrived = deferred();
    return {
      onToken: (tokenSet) => {
        if (tokenSet.accessToken === accessToken) arrived.resolve();
      },
      arrived: arrived.promise,
    };
  }

  describe('token states', () => {
    it('fetches one token and reuses it while it is fresh', async () => {
      mock.onPost(TOKEN_URL).replyOnce(...token('t1'));
      const tokens = manager();
      expect((await tokens.getToken()).accessToken).to.equal('t1');
      const again = await Promise.all(Array.from({ length: 20 }, () => tokens.getToken()));
      clock.advance(HOUR - 61_000);
      again.push(await tokens.getToken());
      expect(again.every((tokenSet) => tokenSet.accessToken === 't1')).to.equal(true);
      expect(tokens.stats().tokenRequests).to.equal(1);
    });

    it('serves a stale token at once and refreshes it in the background exactly once', async () => {
      const gate = secondTokenHeld(mock, TOKEN_URL, 't1', 't2');
      const { onToken, arrived } = tokenArrives('t2');
      const tokens = manager({ events: { onToken } });
      await tokens.getToken();
      clock.advance(HOUR - 30_000);
      const served = await Promise.all(Array.from({ length: 200 }, () => tokens.getToken()));
      expect(served.every((tokenSet) => tokenSet.accessToken === 't1')).to.equal(true);
      await flush();
      expect(tokens.stats()).to.include({ tokenRequests: 2, tokenRequestsInFlight: 1, held: 0 });
      gate.resolve();
      await arrived;
      expect((await tokens.getToken()).accessToken).to.equal('t2');
      expect(tokens.stats().tokenRequests).to.equal(2);
    });

    it('holds every caller of an expired token for one token request and gives them all the new token', async () => {
      const gate = secondTokenHeld(mock, TOKEN_URL, 't1', 't2');
      const tokens = manager();
      await tokens.getToken();
      clock.advance(HOUR);
      const waiting = Array.from({ length: 100 }, () => tokens.getToken());
      expect(tokens.stats().held).to.equal(100);
      gate.resolve();
      const received = await Promise.all(waiting);
      expect(received.every((tokenSet) => tokenSet.accessToken === 't2')).to.equal(true);
      expect(tokens.stats()).to.include({ tokenRequests: 2, held: 0 });
    });

    it('starts the background refresh at three quarters of the lifetime when the refresh window is longer than a quarter', async () => {
      const { onToken, arrived } = tokenArrives('t2');
      mock
        .onPost(TOKEN_URL)
        .replyOnce(...token('t1', { expires_in: 90 }))
        .onPost(TOKEN_URL)
        .replyOnce(...token('t2'));
      const tokens = manager({ refreshWindow: 60, events: { onToken } });
      await tokens.getToken();
      clock.advance(67_499);
      expect(tokens.usable()?.tokenSet.accessToken).to.equal('t1');
      await flush();
      expect(tokens.stats().tokenRequests).to.equal(1);
      clock.advance(1);
      expect(tokens.usable()?.tokenSet.accessToken).to.equal('t1');
      await arrived;
      expect(tokens.stats().tokenRequests).to.equal(2);
    });

    it('treats a token without known expiry as fresh until it is invalidated', async () => {
      mock
        .onPost(TOKEN_URL)
        .replyOnce(200, JSON.stringify({ access_token: 't1' }), JSON_HEADERS)
        .onPost(TOKEN_URL)
        .replyOnce(...token('t2'));
      const tokens = manager();
      await tokens.getToken();
      clock.advance(30 * 24 * HOUR);
      const current = tokens.usable();
      expect(current?.tokenSet.accessToken).to.equal('t1');
      tokens.refuse(current?.version ?? -1, false);
      expect(tokens.usable()).to.equal(undefined);
      expect((await tokens.getToken()).accessToken).to.equal('t2');
    });
  });

  describe('grants', () => {
    it('renews with the refresh token once it has one, and uses each rotated refresh token in turn', async () => {
      mock
        .onPost(TOKEN_URL)
        .replyOnce(...token('t1', { refresh_token: 'r1' }))
        .onPost(TOKEN_URL)
        .replyOnce(...token('t2', { refresh_token: 'r2' }))
        .onPost(TOKEN_URL)
        .replyOnce(...token('t3'))
        .onPost(TOKEN_URL)
        .replyOnce(...token('t4'));
      const tokens = manager({ scope: 'read' });
      for (const expected of ['t1', 't2', 't3', 't4']) {
        expect((await tokens.getToken()).accessToken).to.equal(expected);
        clock.advance(HOUR);
      }
      expect(tokenRequests().map((request) => [request['grant_type'], request['refresh_token']])).to.deep.equal([
        ['client_credentials', undefined],
        ['refresh_token', 'r1'],
        ['refresh_token', 'r2'],
        // The answer that brought t3 had no refresh token: r2 stays valid (RFC 6749 §6).
        ['refresh_token', 'r2'],
      ]);
      expect(tokenRequests().every((request) => request['scope'] === 'read')).to.equal(true);
    });

    for (const grant of [{ type: 'client_credentials' as const }, { type: 'password' as const, username: 'ann', password: 'pw-secret-99' }]) {
      it(`falls back to the ${grant.type} grant when the refresh token is refused with invalid_grant`, async () => {
        mock
          .onPost(TOKEN_URL)
          .replyOnce(...token('t1', { refresh_token: 'r1' }))
          .onPost(TOKEN_URL)
          .replyOnce(...oauthError(400, 'invalid_grant', 'refresh token revoked'))
          .onPost(TOKEN_URL)
          .replyOnce(...token('t2'));
        const tokens = manager({ grant });
        await tokens.getToken();
        clock.advance(HOUR);
        expect((await tokens.getToken()).accessToken).to.equal('t2');
        expect(tokenRequests().map((request) => request['grant_type'])).to.deep.equal([grant.type, 'refresh_token', grant.type]);
      });
    }

    it('fails for good and forgets the token set when the refresh token of an authorization code is refused', async () => {
      mock
        .onPost(TOKEN_URL)
        .replyOnce(...token('t1', { refresh_token: 'r1' }))
        .onPost(TOKEN_URL)
        .replyOnce(...oauthError(400, 'invalid_grant'));
      const tokens = manager({ grant: { type: 'authorization_code', code: 'code-1', redirectUri: 'https://app.example.com/cb' } });
      await tokens.getToken();
      const error = await rejection(tokens.refresh());
      expect(error).to.be.instanceOf(OAuthError).with.property('code', 'invalid_grant');
      expect(tokens.usable()).to.equal(undefined);
      clock.advance(10_000);
      const spent = await rejection(tokens.getToken());
      expect(spent).to.be.instanceOf(OAuthQueueError).with.property('code', ErrorCodes.GRANT_SPENT);
      expect(tokenRequests().map((request) => request['grant_type'])).to.deep.equal(['authorization_code', 'refresh_token']);
    });

    it('fails for good when the refresh token it started from is refused', async () => {
      mock.onPost(TOKEN_URL).replyOnce(...oauthError(400, 'invalid_grant'));
      const tokens = manager({ grant: { type: 'refresh_token', refreshToken: 'r0' } });
      const error = await rejection(tokens.getToken());
      expect(error).to.be.instanceOf(OAuthError).with.property('code', 'invalid_grant');
      clock.advance(10_000);
      expect(await rejection(tokens.getToken())).to.have.property('code', ErrorCodes.GRANT_SPENT);
      expect(tokenRequests()).to.have.length(1);
      expect(tokenRequests()[0]).to.include({ grant_type: 'refresh_token', refresh_token: 'r0' });
    });

    it('exchanges an authorization code exactly once, however many callers ask', async () => {
      mock.onPost(TOKEN_URL).replyOnce(...token('t1', { expires_in: 60 }));
      const tokens = manager({ grant: { type: 'authorization_code', code: 'code-1', redirectUri: 'https://app.example.com/cb', codeVerifier: 'verifier-1' } });
      const received = await Promise.all(Array.from({ length: 20 }, () => tokens.getToken()));
      expect(received.every((tokenSet) => tokenSet.accessToken === 't1')).to.equal(true);
      expect(tokenRequests()).to.deep.equal([
        { grant_type: 'authorization_code', code: 'code-1', redirect_uri: 'https://app.example.com/cb', code_verifier: 'verifier-1', client_id: 'client-1', client_secret: CLIENT_SECRET },
      ]);
      clock.advance(60_000);
      expect(await rejection(tokens.getToken())).to.have.property('code', ErrorCodes.GRANT_SPENT);
      expect(tokenRequests()).to.have.length(1);
    });

    it('does not retry an authorization code exchange that failed on a 503', async () => {
      mock.onPost(TOKEN_URL).reply(503);
      const tokens = manager({ grant: { type: 'authorization_code', code: 'code-1', redirectUri: 'https://app.example.com/cb' } });
      expect(await rejection(tokens.getToken())).to.be.instanceOf(TokenEndpointError).with.property('status', 503);
      expect(await rejection(tokens.getToken())).to.have.property('code', ErrorCodes.GRANT_SPENT);
      expect(tokenRequests()).to.have.length(1);
    });
  });

  describe('failures', () => {
    it('keeps a valid cached token when a forced refresh gets HTML back', async () => {
      mock
        .onPost(TOKEN_URL)
        .replyOnce(...token('t1'))
        .onPost(TOKEN_URL)
        .reply(200, '<html>maintenance</html>', { 'content-type': 'text/html' });
      const tokens = manager();
      await tokens.getToken();
      const error = await rejection(tokens.refresh());
      expect(error).to.be.instanceOf(TokenEndpointError).with.property('code', ErrorCodes.TOKEN_RESPONSE_NOT_JSON);
      const before = tokens.stats().tokenRequests;
      expect((await tokens.getToken()).accessToken).to.equal('t1');
      expect(tokens.stats().tokenRequests).to.equal(before);
    });

    it('keeps a valid cached token when a forced refresh gets a 200 without access_token', async () => {
      mock
        .onPost(TOKEN_URL)
        .replyOnce(...token('t1'))
        .onPost(TOKEN_URL)
        .replyOnce(200, JSON.stringify({ token_type: 'Bearer', expires_in: 3600 }), JSON_HEADERS);
      const tokens = manager();
      await tokens.getToken();
      expect(await rejection(tokens.refresh())).to.have.property('code', ErrorCodes.TOKEN_RESPONSE_INVALID);
      expect(tokens.usable()?.tokenSet.accessToken).to.equal('t1');
      expect((await tokens.getToken()).accessToken).to.equal('t1');
    });

    it('answers every caller during the failure cool-down with the same error and no new token request', async () => {
      mock.onPost(TOKEN_URL).reply(...oauthError(401, 'invalid_client', 'Client authentication failed'));
      const tokens = manager({ failureCoolDown: 2000 });
      const first = await rejection(tokens.getToken());
      expect(first).to.be.instanceOf(OAuthError).with.property('code', 'invalid_client');
      const during = await Promise.all(Array.from({ length: 50 }, () => rejection(tokens.getToken())));
      expect(during.every((error) => error === first)).to.equal(true);
      expect(tokens.stats().tokenRequests).to.equal(1);
      clock.advance(2000);
      const after = await rejection(tokens.getToken());
      expect(after).not.to.equal(first);
      expect(tokens.stats().tokenRequests).to.equal(2);
    });

    it('retries a 503 with backoff and succeeds', async () => {
      mock.onPost(TOKEN_URL).replyOnce(503).onPost(TOKEN_URL).replyOnce(503).onPost(TOKEN_URL).replyOnce(...token('t1'));
      const tokens = manager({ retry: { limit: 2, baseDelay: 1 } });
      expect((await tokens.getToken()).accessToken).to.equal('t1');
      expect(tokens.stats()).to.include({ tokenRequests: 3, failures: 0, refreshes: 1 });
    });

    it('gives up after retry.limit further attempts', async () => {
      mock.onPost(TOKEN_URL).reply(503);
      const tokens = manager({ retry: { limit: 2, baseDelay: 1 } });
      expect(await rejection(tokens.getToken())).to.be.instanceOf(TokenEndpointError).with.property('status', 503);
      expect(tokens.stats()).to.include({ tokenRequests: 3, failures: 1, refreshes: 0 });
    });

    it('does not retry a terminal error', async () => {
      mock.onPost(TOKEN_URL).reply(...oauthError(400, 'unauthorized_client'));
      const tokens = manager({ retry: { limit: 5, baseDelay: 1 } });
      await rejection(tokens.getToken());
      expect(tokens.stats().tokenRequests).to.equal(1);
    });

    it('waits as long as Retry-After asks when that is within retry.maxDelay', async () => {
      // Retry-After as an HTTP date 30 ms ahead of the clock when the answer arrives.
      clock.set(FAKE_EPOCH - 30);
      const lines: string[] = [];
      mock
        .onPost(TOKEN_URL)
        .replyOnce(503, '', { 'retry-after': new Date(FAKE_EPOCH).toUTCString() })
        .onPost(TOKEN_URL)
        .replyOnce(...token('t1'));
      const tokens = manager({ retry: { limit: 2, baseDelay: 1, maxDelay: 1000 }, logger: { debug: (line) => lines.push(line) } });
      expect((await tokens.getToken()).accessToken).to.equal('t1');
      expect(tokens.stats().tokenRequests).to.equal(2);
      expect(lines.some((line) => line.includes('retry 1 of 2 in 30 ms'))).to.equal(true);
    });

    it('gives up at once when Retry-After asks for longer than retry.maxDelay', async () => {
      mock.onPost(TOKEN_URL).reply(503, '', { 'retry-after': '60' });
      const tokens = manager({ retry: { limit: 2, baseDelay: 1, maxDelay: 1000 } });
      const error = await rejection(tokens.getToken());
      expect(error).to.be.instanceOf(TokenEndpointError).with.property('retryAfterMs', 60_000);
      expect(tokens.stats().tokenRequests).to.equal(1);
    });
  });

  describe('events, logs and stats', () => {
    it('reports each new token set to onToken and each failed refresh to onRefreshError with the error callers get', async () => {
      const seen: string[] = [];
      const failures: Error[] = [];
      mock
        .onPost(TOKEN_URL)
        .replyOnce(...token('t1'))
        .onPost(TOKEN_URL)
        .replyOnce(...oauthError(400, 'invalid_scope'));
      const tokens = manager({ events: { onToken: (tokenSet) => seen.push(tokenSet.accessToken), onRefreshError: (error) => failures.push(error) } });
      await tokens.getToken();
      const error = await rejection(tokens.refresh());
      expect(seen).to.deep.equal(['t1']);
      expect(failures).to.deep.equal([error]);
    });

    it('counts token requests, token sets and failures', async () => {
      mock
        .onPost(TOKEN_URL)
        .replyOnce(503)
        .onPost(TOKEN_URL)
        .replyOnce(...token('t1'))
        .onPost(TOKEN_URL)
        .replyOnce(...oauthError(400, 'invalid_request'));
      const tokens = manager();
      await tokens.getToken();
      await rejection(tokens.refresh());
      expect(tokens.stats()).to.deep.equal({ tokenRequests: 3, refreshes: 1, replays: 0, held: 0, failures: 1, tokenRequestsInFlight: 0 });
    });

    it('writes log lines that never contain a secret, a password or a token', async () => {
      const lines: string[] = [];
      const password = 'pw-secret-99';
      mock
        .onPost(TOKEN_URL)
        .replyOnce(...token('access-secret-1', { refresh_token: 'refresh-secret-1' }))
        .onPost(TOKEN_URL)
        .replyOnce(...oauthError(400, 'invalid_grant', 'refresh token refresh-secret-1 was revoked; access-secret-1 too'))
        .onPost(TOKEN_URL)
        .replyOnce(...oauthError(401, 'invalid_client', `bad secret ${CLIENT_SECRET} or password ${password}`));
      const tokens = manager({
        grant: { type: 'password', username: 'ann', password },
        logger: { debug: (line) => lines.push(line), warn: (line) => lines.push(line) },
      });
      await tokens.getToken();
      clock.advance(HOUR);
      await rejection(tokens.getToken());
      expect(lines.length).to.be.greaterThan(2);
      for (const secret of [CLIENT_SECRET, password, 'access-secret-1', 'refresh-secret-1']) {
        expect(lines.filter((line) => line.includes(secret)), secret).to.deep.equal([]);
      }
    });
  });

  describe('shared stores', () => {
    /** A store that keeps no order: it drops generations, as a store written before them would. */
    class UnorderedStore implements TokenStore {
      readonly inner = new MemoryTokenStore();
      async get(key: string): Promise<StoredTokenSet | undefined> {
        const value = await this.inner.get(key);
        return value === undefined ? undefined : { tokenSet: value.tokenSet, receivedAt: value.receivedAt };
      }
      async set(key: string, value: StoredTokenSet, ttlMs?: number): Promise<void> {
        await this.inner.set(key, { tokenSet: value.tokenSet, receivedAt: value.receivedAt }, ttlMs);
      }
      async delete(key: string): Promise<void> {
        await this.inner.delete(key);
      }
    }

    it("presents the store's refresh token, not its own spent one, when the stored access token has expired", async () => {
      const store = new MemoryTokenStore(() => clock.now());
      mock
        .onPost(TOKEN_URL)
        .replyOnce(...token('t1', { refresh_token: 'r1' }))
        .onPost(TOKEN_URL)
        .replyOnce(...token('t2', { refresh_token: 'r2' }));
      const grant = { type: 'refresh_token', refreshToken: 'r0-from-login' } as const;
      await manager({ grant, subject: 'user-1', store }).getToken();
      clock.advance(2 * HOUR);
      // Another handle of the same grant, started from the login's refresh token (spent by now).
      const later = manager({ grant, subject: 'user-1', store });
      expect((await later.getToken()).accessToken).to.equal('t2');
      expect(tokenRequests().map((request) => request['refresh_token'])).to.deep.equal(['r0-from-login', 'r1']);
    });

    it('writes a new token set to the store before any request may use it, and tells onToken after the write', async () => {
      const gate = deferred();
      const writing = deferred();
      const seen: string[] = [];
      const store = new MemoryTokenStore();
      const slowStore: TokenStore = {
        get: (key) => store.get(key),
        delete: (key) => store.delete(key),
        set: async (key, value, ttlMs) => {
          writing.resolve();
          await gate.promise;
          seen.push(`written ${value.tokenSet.accessToken}`);
          return store.set(key, value, ttlMs);
        },
      };
      mock.onPost(TOKEN_URL).replyOnce(...token('t1'));
      const tokens = manager({ store: slowStore, events: { onToken: (tokenSet, { source }) => seen.push(`${source} ${tokenSet.accessToken}`) } });
      const first = tokens.getToken();
      await writing.promise;
      expect(tokens.usable(), 'no request may use the token while it is being written').to.equal(undefined);
      expect(seen).to.deep.equal([]);
      gate.resolve();
      expect((await first).accessToken).to.equal('t1');
      expect(seen).to.deep.equal(['written t1', 'endpoint t1']);
    });

    it("reports a token set taken from the store with source 'store'", async () => {
      const store = new MemoryTokenStore();
      mock.onPost(TOKEN_URL).replyOnce(...token('t1'));
      await manager({ store }).getToken();
      const sources: string[] = [];
      await manager({ store, events: { onToken: (_tokenSet, { source }) => sources.push(source) } }).getToken();
      expect(sources).to.deep.equal(['store']);
      expect(tokenRequests()).to.have.length(1);
    });

    it('never takes back a token a 401 refused from a store without generations, even after holding another', async () => {
      const store = new UnorderedStore();
      mock
        .onPost(TOKEN_URL)
        .replyOnce(...token('t1'))
        .onPost(TOKEN_URL)
        .replyOnce(...token('t2'))
        .onPost(TOKEN_URL)
        .replyOnce(...token('t3'));
      const tokens = manager({ store });
      const first = await tokens.getToken();
      tokens.accept(1);
      tokens.refuse(1, false);
      expect((await tokens.getToken()).accessToken).to.equal('t2');
      // A late write puts the refused t1 back in the store; then t2 is refused too.
      await store.inner.set(resolveOptions(axios.create({ baseURL: 'https://api.example.com' }), { tokenUrl: TOKEN_URL, clientId: 'client-1', clientSecret: CLIENT_SECRET }).storeKey, { tokenSet: first, receivedAt: clock.now() });
      tokens.accept(2);
      tokens.refuse(2, false);
      expect((await tokens.getToken()).accessToken).to.equal('t3');
      expect(tokenRequests()).to.have.length(3);
    });
  });

  describe('detach', () => {
    it('stops a retry timer and rejects the refresh that waited on it', async () => {
      const retrying = deferred();
      mock.onPost(TOKEN_URL).reply(503);
      const tokens = manager({
        retry: { limit: 2, baseDelay: 10_000, maxDelay: 10_000 },
        logger: { debug: (line) => line.includes('retry 1') && retrying.resolve() },
      });
      const pending = rejection(tokens.getToken());
      await retrying.promise;
      tokens.detach();
      expect(await pending).to.be.instanceOf(OAuthQueueError).with.property('code', ErrorCodes.DETACHED);
      expect(tokens.stats().tokenRequests).to.equal(1);
    });
  });
});
