// What exists once per client of attachUserAuth: the token endpoint, retries with
// jittered backoff, the refresh-token grant runner, store I/O and the lock per user.
// It acts on the small per-user objects of user-token-state.ts: one single flight
// per user, so one user's refresh never holds another user's requests and one
// user's failure rejects only that user's requests.

import type { InternalAxiosRequestConfig } from 'axios';
import { ConfigurationError, ErrorCodes, LoginRequiredError, OAuthError, OAuthQueueError, isTransientError, toAuthError } from './errors.js';
import { SafeCalls } from './safe-call.js';
import type { UserAuthEvents } from './user-auth-options.js';
import { redactSecrets } from './secret-scrubber.js';
import { grantParameters, refreshParameters } from './grants.js';
import { watchHeldRequest } from './held-request.js';
import { retryDelay } from './retry-backoff.js';
import { describeStoreError, withinStoreTimeout } from './stores/token-store.js';
import { generationOf, type StoredUserTokenSet, type UserTokenStoreLock } from './stores/user-token-store.js';
import { TokenEndpoint, type TokenEndpointAnswer } from './token-endpoint.js';
import type { RevocationResult } from './token-manager.js';
import { effectiveRefreshWindow, normaliseTokenResponse, type TokenSet } from './token-set.js';
import type { ResolvedUserOptions } from './user-auth-options.js';
import { userTokenKey } from './user-subject.js';
import { UserTokenState } from './user-token-state.js';
import { isSignInCode, toTokenSet, type SignInInput } from './user-sign-in.js';

/** Counters for metrics; read them with `handle.stats()`. */
export interface UserAuthStats {
  /** Users in this process's working set. */
  users: number;
  /** HTTP requests sent to the token endpoint (each retry counts). */
  tokenRequests: number;
  /** Token sets installed (from the token endpoint, the store or signIn). */
  refreshes: number;
  /** Requests replayed after a 401. */
  replays: number;
  /** Requests waiting for their user's token right now. */
  held: number;
  /** Refreshes that failed (after their retries), sign-in-again answers included. */
  failures: number;
  /** Requests and calls rejected with ERR_LOGIN_REQUIRED. */
  loginRequired: number;
  /** Token requests running right now. */
  tokenRequestsInFlight: number;
}

const noop = (): void => {};
/** A lock outlives one token request by this much before a dead holder's lock lapses. */
const LOCK_MARGIN_MS = 1000;
const DEFAULT_POLL_INTERVAL_MS = 100;
/** A user's working-set position and the store's idle clock move at most this often (hot path stays cheap). */
const TOUCH_INTERVAL_MS = 1000;
/** Working-set entries one call looks at for eviction: bounded work per call. */
const EVICTION_SWEEP = 8;
const ADOPTED = Symbol('adopted');
/** The first pause of a user's 401-driven refreshes once two new tokens in a row were refused, ms; it doubles up to the cap. */
const REFUSAL_BACKOFF_MS = 1000;
const REFUSAL_BACKOFF_CAP_MS = 60_000;

export class UserTokenClient {
  readonly #options: ResolvedUserOptions;
  readonly #endpoint: TokenEndpoint;
  readonly #now: () => number;
  /** The working set, in least-recently-used order (a use moves a user to the end, at most once a second). */
  readonly #states = new Map<string, UserTokenState>();
  /** Refresh tokens being presented right now: scrubbed from anything a server sends back. */
  readonly #presenting = new Set<string>();
  readonly #timers = new Set<{ timer: NodeJS.Timeout; reject: (error: Error) => void }>();
  #version = 0;
  #held = 0;
  #detached = false;
  readonly #stats = { tokenRequests: 0, refreshes: 0, replays: 0, failures: 0, loginRequired: 0, tokenRequestsInFlight: 0 };
  /** The app's logger and callbacks, called so that nothing they do (throw, reject, read `this`) reaches a request. */
  readonly calls: SafeCalls<UserAuthEvents>;

  constructor(options: ResolvedUserOptions) {
    this.#options = options;
    this.#now = options.client.now;
    const secrets = (): (string | undefined)[] => [options.client.endpoint.clientSecret, ...this.#presenting];
    this.#endpoint = new TokenEndpoint(options.client.endpoint, this.#now, secrets);
    this.calls = new SafeCalls(options.client.logger, options.events, (text) => redactSecrets(text, secrets()));
  }

  /** The working-set object of `subject`, made when missing. */
  stateOf(subject: string): UserTokenState {
    const now = this.#now();
    let state = this.#states.get(subject);
    if (state === undefined) {
      state = new UserTokenState(subject, userTokenKey(this.#options.identity, subject), now);
      this.#states.set(subject, state);
      this.#evict(now);
    }
    return state;
  }

  /** The working-set object of `subject`, if it has one (never makes one). */
  existingState(subject: string): UserTokenState | undefined {
    return this.#states.get(subject);
  }

  /** True when `state`'s token may be sent now; starts one background refresh when it is stale. The hot path. */
  usable(state: UserTokenState): boolean {
    const now = this.#now();
    if (now - state.usedAt >= TOUCH_INTERVAL_MS) this.#touch(state, now);
    if (!state.isUsable(now)) return false;
    if (now >= state.refreshAt && state.inflight === undefined && now >= state.backgroundRetryAt && !this.#detached) {
      this.#start(state).catch(() => {
        // The token still works: serve it, and try again after a pause instead of on every request.
        const later = this.#now();
        state.backgroundRetryAt = later + Math.min(this.#options.client.retry.maxDelay, Math.max(0, (state.expiresAt - later) / 2));
      });
    }
    return true;
  }

  /**
   * Waits for the user's single flight (joining the one running). Settles early with axios's
   * own errors when the request is aborted or its timeout passes while held.
   */
  hold(state: UserTokenState, config: InternalAxiosRequestConfig | undefined): Promise<void> {
    const flight = this.#start(state);
    const watch = config === undefined ? undefined : watchHeldRequest(config);
    state.held += 1;
    this.#held += 1;
    const heldAt = performance.now();
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const settle = (): boolean => {
        if (settled) return false;
        settled = true;
        state.held -= 1;
        this.#held -= 1;
        watch?.signal.removeEventListener('abort', onAbort);
        watch?.cleanup();
        return true;
      };
      const onAbort = (): void => {
        if (settle()) reject(watch?.signal.reason);
      };
      if (watch !== undefined) {
        if (watch.signal.aborted) onAbort();
        else watch.signal.addEventListener('abort', onAbort);
      }
      flight.then(
        () => {
          if (!settle()) return;
          // The time spent held counts against the request's own timeout.
          if (config?.timeout !== undefined && config.timeout > 0) config.timeout = Math.max(1, Math.round(config.timeout - (performance.now() - heldAt)));
          resolve();
        },
        (error: unknown) => {
          if (settle()) reject(error);
        },
      );
    });
  }

  /**
   * A 401 answered a request of `state`'s user sent with token `version`. Marks that token as
   * refused (the user's next request refreshes) and answers true when the request should be
   * replayed; false while this user's 401-driven refreshes back off because the API keeps
   * refusing new tokens it never accepted (the queue flow of design.md, per user).
   */
  refuse(state: UserTokenState, version: number, replayed: boolean): boolean {
    const tokenSet = state.tokenSet;
    // A 401 for an older token: the user's current one is already another (rule 2).
    if (tokenSet === undefined || state.version !== version || state.invalidated) return true;
    if (!state.accepted) {
      const now = this.#now();
      if (!state.refusedUnaccepted) {
        state.refusedUnaccepted = true;
        state.refusedInARow += 1;
        if (state.refusedInARow >= 2) {
          const pause = Math.min(REFUSAL_BACKOFF_CAP_MS, REFUSAL_BACKOFF_MS * 2 ** (state.refusedInARow - 2));
          state.refusalBackoffUntil = now + pause;
          this.#log('warn', `the API refused ${state.refusedInARow} new tokens of a user in a row before accepting any; no 401-driven refresh for that user for ${pause} ms`);
        }
      }
      if (now < state.refusalBackoffUntil) return false;
    }
    if (replayed) return false;
    state.invalidated = true;
    state.refusedAccessToken = tokenSet.accessToken;
    return true;
  }

  /** The API accepted a request of `state`'s user sent with token `version`: any success ends that user's 401 back-off. */
  accept(state: UserTokenState, version: number): void {
    if (state.version === version) {
      if (state.accepted) return;
      state.accepted = true;
    }
    state.refusedInARow = 0;
    state.refusalBackoffUntil = 0;
  }

  recordReplay(): void {
    this.#stats.replays += 1;
  }

  recordLoginRequired(): void {
    this.#stats.loginRequired += 1;
  }

  /** A valid token set for `subject`, loaded or refreshed when needed (the same rules as a request). */
  async getToken(subject: string): Promise<TokenSet> {
    for (let attempt = 0; ; attempt += 1) {
      const state = this.stateOf(subject);
      if (!this.usable(state)) await this.hold(state, undefined);
      // A forget() between the refresh and this line leaves nothing: say so rather than loop.
      if (state.tokenSet !== undefined && state.isUsable(this.#now())) return state.tokenSet;
      if (attempt > 0) {
        this.#stats.loginRequired += 1;
        throw new LoginRequiredError('no_token_set');
      }
    }
  }

  /** Seeds `subject`'s token set after sign-in (exchanging the code first when given one): written to the store, then held. */
  async signIn(subject: string, input: SignInInput): Promise<TokenSet> {
    let tokenSet: TokenSet;
    let now = this.#now();
    if (isSignInCode(input)) {
      const { code, redirectUri, codeVerifier } = input;
      if (typeof code !== 'string' || code === '' || typeof redirectUri !== 'string' || redirectUri === '') {
        throw new ConfigurationError('signIn code', 'must have a non-empty code and redirectUri');
      }
      const grant = codeVerifier === undefined ? { type: 'authorization_code' as const, code, redirectUri } : { type: 'authorization_code' as const, code, redirectUri, codeVerifier };
      // Sent once, never retried: a code presented twice revokes what it granted (RFC 6749 §4.1.2).
      this.#presenting.add(code);
      let answer: TokenEndpointAnswer;
      try {
        answer = await this.#send(grantParameters(grant, this.#options.client.scope));
      } finally {
        this.#presenting.delete(code);
      }
      now = answer.receivedAt;
      tokenSet = normaliseTokenResponse(answer.body, { receivedAt: now, clockOffset: answer.clockOffset, defaultExpiresIn: this.#options.client.defaultExpiresIn });
    } else {
      tokenSet = toTokenSet(input, now, this.#options.client.defaultExpiresIn);
    }
    const state = this.stateOf(subject);
    if (state.inflight !== undefined) await state.inflight.catch(noop);
    // A sign-in replaces whatever the store holds: its generation is above the stored one. A store
    // that orders sets refuses a write that is not (another worker wrote meanwhile): read, try again.
    let stored: StoredUserTokenSet = { tokenSet, receivedAt: now, generation: state.generation + 1 };
    for (let attempt = 0; attempt < 3; attempt += 1) {
      let previous: StoredUserTokenSet | undefined;
      try {
        previous = await this.#bounded(this.#options.tokens.get(state.key, subject));
      } catch (error) {
        this.#log('warn', `user token store read failed before sign-in: ${describeStoreError(error)}`);
      }
      stored = { tokenSet, receivedAt: now, generation: Math.max(generationOf(previous), state.generation) + 1 };
      // Not caught: a sign-in the store did not keep would be lost on the next restart.
      if ((await this.#bounded(this.#options.tokens.set(state.key, stored, undefined, subject))) !== false) break;
    }
    this.#install(state, stored);
    return tokenSet;
  }

  /** Forgets `subject`'s token set here and in the store (no call to the provider). */
  async forget(subject: string): Promise<void> {
    const state = this.#states.get(subject);
    const key = state?.key ?? userTokenKey(this.#options.identity, subject);
    if (state !== undefined) this.#drop(state);
    try {
      await this.#bounded(this.#options.tokens.delete(key, subject));
    } catch (error) {
      this.#log('warn', `user token store delete failed: ${describeStoreError(error)}`);
    }
  }

  /** RFC 7009: revokes the user's refresh token (first: it ends the grant) and access token, then forgets them. */
  async revoke(subject: string): Promise<RevocationResult> {
    const url = this.#options.client.revocationUrl;
    if (url === undefined) throw new ConfigurationError('revocationUrl', 'is required for handle.revoke(subject)');
    const state = this.#states.get(subject);
    if (state?.inflight !== undefined) await state.inflight.catch(noop);
    const key = state?.key ?? userTokenKey(this.#options.identity, subject);
    let stored: StoredUserTokenSet | undefined;
    try {
      stored = await this.#bounded(this.#options.tokens.get(key, subject));
    } catch (error) {
      this.#log('warn', `user token store read failed before revocation: ${describeStoreError(error)}`);
    }
    const newest = state !== undefined && state.tokenSet !== undefined && state.generation >= generationOf(stored) ? state.tokenSet : stored?.tokenSet;
    await this.forget(subject);
    const result: RevocationResult = { refreshToken: 'none', accessToken: 'none' };
    if (newest?.refreshToken !== undefined) result.refreshToken = await this.#revokeOne(url, newest.refreshToken, 'refresh_token');
    if (newest !== undefined) result.accessToken = await this.#revokeOne(url, newest.accessToken, 'access_token');
    return result;
  }

  stats(): UserAuthStats {
    return { ...this.#stats, users: this.#states.size, held: this.#held };
  }

  /** Stops every retry timer; a refresh waiting on one rejects, so nothing held hangs. */
  detach(): void {
    this.#detached = true;
    for (const entry of this.#timers) {
      clearTimeout(entry.timer);
      entry.reject(new OAuthQueueError(ErrorCodes.DETACHED, 'axios-oauth-queue was detached while a token request waited to be retried'));
    }
    this.#timers.clear();
  }

  async #revokeOne(url: string, token: string, hint: 'access_token' | 'refresh_token'): Promise<'revoked' | 'unsupported'> {
    this.#presenting.add(token);
    try {
      await this.#endpoint.revokeToken(url, token, hint);
      return 'revoked';
    } catch (error) {
      // A server that cannot revoke self-contained (JWT) access tokens says so; that is an answer.
      if (error instanceof OAuthError && error.code === 'unsupported_token_type') return 'unsupported';
      throw error;
    } finally {
      this.#presenting.delete(token);
    }
  }

  #start(state: UserTokenState): Promise<void> {
    if (state.inflight === undefined) {
      const flight = this.#renew(state).finally(() => {
        if (state.inflight === flight) state.inflight = undefined;
      });
      state.inflight = flight;
      // Every waiter may have gone (aborted, timed out): the failure must not become an unhandled rejection.
      flight.catch(noop);
    }
    return state.inflight;
  }

  /** One user's load or refresh: under their lock, the store's newest set is adopted or its refresh token presented. */
  async #renew(state: UserTokenState): Promise<void> {
    try {
      const lock = await this.#lock(state);
      if (lock === ADOPTED) return;
      try {
        await this.#renewHolding(state);
      } finally {
        if (lock !== undefined) {
          // Not released: it lapses after its TTL, and this user's waiters have the token set already.
          await this.#bounded(lock.release()).catch(noop);
        }
      }
    } catch (error) {
      const failure = toAuthError(error);
      this.#stats.failures += 1;
      if (failure instanceof LoginRequiredError) {
        this.#log('debug', `a user must sign in again: ${failure.message}`);
        this.calls.notify('onLoginRequired', failure, state.subject);
      } else {
        this.#log('warn', `a user's token refresh failed: ${failure.message}`);
        this.calls.notify('onRefreshError', failure, state.subject);
      }
      throw failure;
    }
  }

  async #renewHolding(state: UserTokenState): Promise<void> {
    let stored: StoredUserTokenSet | undefined;
    try {
      stored = await this.#bounded(this.#options.tokens.get(state.key, state.subject));
    } catch (error) {
      // No refresh token is presented without the store: it may hold a newer one (another worker
      // rotated it), and a rotation it cannot keep would be spent at the next restart. A stale
      // token still in hand keeps being served meanwhile.
      this.#log('warn', `user token store read failed; no refresh token presented without it: ${describeStoreError(error)}`);
      throw error instanceof OAuthQueueError
        ? error
        : new OAuthQueueError(ErrorCodes.USER_TOKEN_STORE_FAILED, `axios-oauth-queue: the user token store failed (${describeStoreError(error)}); no token was renewed`, {
            cause: new Error(describeStoreError(error)),
          });
    }
    if (state.forgotten) throw new LoginRequiredError('no_token_set');
    if (stored === undefined) {
      // The store is the truth: signed out (perhaps by another worker), evicted or never signed in.
      this.#drop(state);
      throw new LoginRequiredError('no_token_set');
    }
    const source = stored !== undefined && this.#isNewer(stored, state) ? stored : undefined;
    if (source !== undefined && this.#canUse(source, state)) {
      this.#install(state, source);
      return;
    }
    const generation = Math.max(generationOf(stored), state.generation);
    const current = source?.tokenSet ?? state.tokenSet;
    const refreshToken = current?.refreshToken;
    if (refreshToken === undefined) {
      if (source === undefined && state.isUsable(this.#now())) return; // stale with nothing to renew it: served until it expires
      this.#drop(state);
      await this.#deleteStored(state);
      throw new LoginRequiredError('no_refresh_token');
    }
    const answer = await this.#present(state, refreshToken);
    const tokenSet = normaliseTokenResponse(answer.body, {
      receivedAt: answer.receivedAt,
      clockOffset: answer.clockOffset,
      defaultExpiresIn: this.#options.client.defaultExpiresIn,
    });
    // Without a new refresh token the old one stays valid (RFC 6749 §6).
    if (tokenSet.refreshToken === undefined) tokenSet.refreshToken = refreshToken;
    if (state.forgotten) throw new LoginRequiredError('no_token_set'); // signed out while the refresh ran
    const next: StoredUserTokenSet = { tokenSet, receivedAt: answer.receivedAt, generation: generation + 1 };
    // Rotation safety: the rotated refresh token is in the store before the new access token is used.
    try {
      const written = await this.#bounded(this.#options.tokens.set(state.key, next, undefined, state.subject));
      // A newer set is there already (a lock that lapsed under a slow refresh): ours still works; the
      // next renewal reads the store and takes the newer one.
      if (written === false) this.#log('debug', "a user's token set of a newer generation was in the store; kept this one in this process");
    } catch (error) {
      // Kept here with its newer generation: the next renewal presents this process's refresh token.
      this.#log('warn', `user token store write failed; the rotated token set is kept in this process: ${describeStoreError(error)}`);
    }
    this.#install(state, next);
  }

  /** Presents the refresh token; a refused grant forgets the user and becomes LoginRequiredError. */
  async #present(state: UserTokenState, refreshToken: string): Promise<TokenEndpointAnswer> {
    this.#presenting.add(refreshToken);
    try {
      return await this.#withRetries(refreshParameters(refreshToken, this.#options.client.scope));
    } catch (error) {
      if (!(error instanceof OAuthError && error.code === 'invalid_grant')) throw error;
      // Spent, revoked or expired: it must never be presented again.
      this.#drop(state);
      await this.#deleteStored(state);
      throw new LoginRequiredError('grant_refused', { cause: error });
    } finally {
      this.#presenting.delete(refreshToken);
    }
  }

  /**
   * The user's lock, for stores that have one. While another process holds it, waits for
   * the token set it writes (ADOPTED), bounded: a lock nobody renews lapses, and past two
   * lock lifetimes this process goes on without it.
   */
  async #lock(state: UserTokenState): Promise<UserTokenStoreLock | undefined | typeof ADOPTED> {
    const store = this.#options.tokens;
    if (store.acquire === undefined) return undefined;
    const ttl = this.#options.client.endpoint.timeout + LOCK_MARGIN_MS;
    const interval = (store as { pollInterval?: unknown }).pollInterval;
    const pollMs = typeof interval === 'number' && interval > 0 ? interval : DEFAULT_POLL_INTERVAL_MS;
    const deadline = performance.now() + 2 * ttl;
    for (;;) {
      let lock: UserTokenStoreLock | undefined;
      try {
        lock = await this.#bounded(store.acquire(state.key, ttl));
      } catch (error) {
        this.#log('warn', `user token store lock failed; refreshing without it: ${describeStoreError(error)}`);
        return undefined;
      }
      if (lock !== undefined) return lock;
      if (performance.now() >= deadline) {
        this.#log('warn', 'no process finished a user\'s token refresh in time; refreshing in this process');
        return undefined;
      }
      await this.#sleep(pollMs);
      const stored = await this.#bounded(store.get(state.key, state.subject)).catch(() => undefined);
      if (stored !== undefined && this.#isNewer(stored, state) && this.#canUse(stored, state)) {
        this.#install(state, stored);
        return ADOPTED;
      }
    }
  }

  /**
   * Newer than the set held: a higher generation; or, where the store keeps no generation
   * (an older RedisTokenStore), any other access token than the one held: the store is the truth.
   */
  #isNewer(stored: StoredUserTokenSet, state: UserTokenState): boolean {
    if (state.tokenSet === undefined) return true;
    const generation = generationOf(stored);
    if (generation === 0 || state.generation === 0) return stored.tokenSet.accessToken !== state.tokenSet.accessToken;
    return generation > state.generation;
  }

  /** A stored set worth installing as it is: not expired, and not the access token a 401 refused. */
  #canUse(stored: StoredUserTokenSet, state: UserTokenState): boolean {
    const { expiresAt, accessToken } = stored.tokenSet;
    return accessToken !== state.refusedAccessToken && (expiresAt === undefined || this.#now() < expiresAt);
  }

  #install(state: UserTokenState, stored: StoredUserTokenSet): void {
    const { tokenSet, receivedAt } = stored;
    this.#version += 1;
    state.tokenSet = tokenSet;
    state.version = this.#version;
    state.generation = generationOf(stored);
    state.receivedAt = receivedAt;
    state.expiresAt = tokenSet.expiresAt ?? Number.POSITIVE_INFINITY;
    state.refreshAt =
      tokenSet.expiresAt === undefined ? Number.POSITIVE_INFINITY : state.expiresAt - effectiveRefreshWindow(this.#options.client.refreshWindowMs, receivedAt, state.expiresAt);
    state.invalidated = false;
    state.accepted = false;
    state.refusedUnaccepted = false;
    state.refusedAccessToken = undefined;
    state.backgroundRetryAt = 0;
    this.#stats.refreshes += 1;
    this.calls.notify('onToken', tokenSet, state.subject);
  }

  /** Removes the user from the working set; a refresh still running for them will not bring the set back. */
  #drop(state: UserTokenState): void {
    state.forgotten = true;
    state.tokenSet = undefined;
    state.invalidated = false;
    if (this.#states.get(state.subject) === state) this.#states.delete(state.subject);
  }

  async #deleteStored(state: UserTokenState): Promise<void> {
    try {
      await this.#bounded(this.#options.tokens.delete(state.key, state.subject));
    } catch (error) {
      this.#log('warn', `user token store delete failed: ${describeStoreError(error)}`);
    }
  }

  /** Moves the user to the recent end of the working set and tells an in-process store the user is active. */
  #touch(state: UserTokenState, now: number): void {
    state.usedAt = now;
    if (this.#states.get(state.subject) === state) {
      this.#states.delete(state.subject);
      this.#states.set(state.subject, state);
    }
    if (now - state.touchedAt >= 60_000) {
      state.touchedAt = now;
      this.#options.tokens.touch?.(state.key);
    }
  }

  /** Drops users over the bound and idle ones, from the least recently used end; a few per call, never a busy one. */
  #evict(now: number): void {
    let looked = 0;
    for (const [subject, state] of this.#states) {
      if (looked++ >= EVICTION_SWEEP) break;
      const over = this.#states.size > this.#options.maxUsers;
      const idle = now - state.usedAt >= this.#options.idleMs;
      if (!over && !idle) break;
      if (state.isIdle()) this.#states.delete(subject);
    }
  }

  /** Transient failures are retried with jittered exponential backoff that honours Retry-After. */
  async #withRetries(parameters: Record<string, string>): Promise<TokenEndpointAnswer> {
    const { retry } = this.#options.client;
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await this.#send(parameters);
      } catch (error) {
        if (this.#detached || attempt >= retry.limit || !isTransientError(error)) throw error;
        const delay = retryDelay(attempt, (error as { retryAfterMs?: number }).retryAfterMs, retry);
        if (delay === undefined) throw error;
        this.#log('debug', `token request failed (${(error as Error).message}); retry ${attempt + 1} of ${retry.limit} in ${Math.round(delay)} ms`);
        await this.#sleep(delay);
      }
    }
  }

  async #send(parameters: Record<string, string>): Promise<TokenEndpointAnswer> {
    this.#stats.tokenRequests += 1;
    this.#stats.tokenRequestsInFlight += 1;
    try {
      return await this.#endpoint.requestToken(parameters);
    } finally {
      this.#stats.tokenRequestsInFlight -= 1;
    }
  }

  /** A wait that detach() ends at once. Not unref'd: a caller is waiting on it (promise 7). */
  #sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const entry = {
        timer: setTimeout(() => {
          this.#timers.delete(entry);
          resolve();
        }, ms),
        reject,
      };
      this.#timers.add(entry);
    });
  }

  /** A store call that fails after tokenRequest.timeout: a store that never answers must not hold requests forever. */
  #bounded<T>(call: Promise<T>): Promise<T> {
    return withinStoreTimeout(call, this.#options.client.endpoint.timeout, 'the user token store');
  }

  #log(level: 'debug' | 'warn', message: string): void {
    // Messages are built from scrubbed errors already; scrubbing again guards against a slip. No subject is ever logged.
    this.calls.log(level, message);
  }
}
