// Holds the token set and decides, for each request, whether it can go now
// (fresh, or stale with one background refresh) or must wait in the p-queue
// while one token request runs (expired, missing, invalidated). Every refresh
// is single-flight; the queue is paused while a held request waits for it.

import PQueue from 'p-queue';
import type { InternalAxiosRequestConfig } from 'axios';
import { watchHeldRequest } from './held-request.js';
import { ConfigurationError, ErrorCodes, OAuthError, OAuthQueueError, TokenEndpointError, isTransientError, toAuthError } from './errors.js';
import { SafeCalls, type EventArguments, type LogLevel } from './safe-call.js';
import { ScrubList } from './secret-scrubber.js';
import { canRerun, grantParameters, refreshParameters } from './grants.js';
import { ClusterRefresh, hasLock, type StoreReporter } from './cluster-refresh.js';
import type { AuthEvents, TokenSetSource } from './options.js';
import type { ResolvedOptions } from './resolve-options.js';
import { describeStoreError, withinStoreTimeout, type StoredTokenSet, type TokenStore } from './stores/token-store.js';
import { retryDelay } from './retry-backoff.js';
import type { Telemetry } from './telemetry.js';
import { TokenEndpoint, type TokenEndpointAnswer } from './token-endpoint.js';
import { effectiveRefreshWindow, normaliseTokenResponse, type TokenSet } from './token-set.js';

/** A token set as the manager uses it: with its version and precomputed thresholds. */
export interface CachedToken {
  readonly tokenSet: TokenSet;
  /** Increases with every new token set; a request remembers the version it was sent with. */
  readonly version: number;
  readonly receivedAt: number;
  /** From here on the token is stale (epoch ms; Infinity when its expiry is unknown). */
  readonly refreshAt: number;
  /** From here on the token is expired (epoch ms; Infinity when unknown). */
  readonly expiresAt: number;
  /** The ready-made `Authorization` header value. */
  readonly authorization: string;
  /** Set when a 401 proved the server no longer takes this token. */
  invalidated: boolean;
  /** Set once the API answered a request sent with this token with success. */
  accepted: boolean;
  /** Set once a 401 for this token, before it was ever accepted, has been counted. */
  refusedUnaccepted: boolean;
  /** Its place in the store's order (StoredTokenSet.generation); undefined from a store without generations. */
  readonly generation: number | undefined;
}

/** The first pause of 401-driven refreshes once two fresh tokens in a row were refused, ms; it doubles up to the cap. */
const REFUSAL_BACKOFF_MS = 1000;
const REFUSAL_BACKOFF_CAP_MS = 60_000;

/** Counters for metrics; read them with `handle.stats()`. */
export interface AuthStats {
  /** HTTP requests sent to the token endpoint (each retry counts). */
  tokenRequests: number;
  /** Token sets obtained (from the endpoint or the store). */
  refreshes: number;
  /** Requests replayed after a 401. */
  replays: number;
  /** Requests waiting in the queue right now. */
  held: number;
  /** Refreshes that failed (after their retries). */
  failures: number;
  /** Token requests running right now (0 or 1). */
  tokenRequestsInFlight: number;
}

/** What `handle.revoke()` did with each token it held. */
export interface RevocationResult {
  /** `revoked`, `unsupported` (the server answered `unsupported_token_type`) or `none` (no refresh token was held). */
  refreshToken: 'revoked' | 'unsupported' | 'none';
  /** `revoked`, `unsupported` or `none` (no access token was held). */
  accessToken: 'revoked' | 'unsupported' | 'none';
}

const noop = (): void => {};

/** Token requests in flight, per store object and key, across the handles of this process. */
const flightsByStore = new WeakMap<TokenStore, Map<string, Promise<CachedToken>>>();

function flightsOf(store: TokenStore): Map<string, Promise<CachedToken>> {
  let flights = flightsByStore.get(store);
  if (flights === undefined) {
    flights = new Map();
    flightsByStore.set(store, flights);
  }
  return flights;
}

export class TokenManager {
  readonly #options: ResolvedOptions;
  readonly #endpoint: TokenEndpoint;
  /** Spans and metrics (`telemetry` option); undefined when off. */
  readonly #telemetry: Promise<Telemetry | undefined> | undefined;
  readonly #queue = new PQueue({ concurrency: Number.POSITIVE_INFINITY });
  readonly #timers = new Set<{ timer: NodeJS.Timeout; reject: (error: Error) => void }>();
  /** Someone waits on the refresh in flight: its backoff timers keep the process alive (promise 7 yields to promise 1). */
  #callerWaiting = false;
  /** When the refresh in flight must end, retries and backoff included (performance.now() time). */
  #refreshDeadline = Number.POSITIVE_INFINITY;
  readonly #now: () => number;
  #current: CachedToken | undefined;
  /** The refresh token in use: rotated in place whenever the server sends a new one. */
  #refreshToken: string | undefined;
  #codeSpent = false;
  #inflight: Promise<CachedToken> | undefined;
  #version = 0;
  #coolDown: { until: number; error: Error } | undefined;
  #backgroundRetryAt = 0;
  /** Tokens in a row that the API refused before it ever accepted them (design.md: new tokens will not help). */
  #refusedInARow = 0;
  /** Until then a 401 for a token never accepted reaches its caller without a refresh. */
  #refusalBackoffUntil = 0;
  /** How long the last successful token request took, ms: a short token's refresh starts at least this early. */
  #tokenLatencyMs = 0;
  #detached = false;
  /** The highest generation held, written or refused: a stored set must be newer to be adopted. */
  #generation: number | undefined;
  /** Access tokens a 401 refused, newest last: never adopted again, for stores without generations. */
  readonly #refused: string[] = [];
  /** Single flight across processes, when the store has a lock (RedisTokenStore). */
  readonly #cluster: ClusterRefresh | undefined;
  readonly #stats: Omit<AuthStats, 'held'> = { tokenRequests: 0, refreshes: 0, replays: 0, failures: 0, tokenRequestsInFlight: 0 };
  /** What to scrub from server text and log lines: the secrets, the tokens held, and tokens calls in flight still use. */
  readonly #scrubList = new ScrubList(() => this.#secrets());
  /** The app's logger and event callbacks, called so that nothing they do reaches the queue flow. */
  readonly #calls: SafeCalls;

  constructor(options: ResolvedOptions) {
    this.#options = options;
    this.#now = options.now;
    this.#calls = new SafeCalls(options.logger, options.events, (text) => this.#scrubList.scrub(text));
    this.#endpoint = new TokenEndpoint(options.endpoint, options.now, () => [...this.#scrubList.values()]);
    // Its code is a chunk of its own, loaded only by a client with `telemetry`; should the
    // chunk fail to load, token requests go on untraced (as when @opentelemetry/api is missing).
    const { telemetry } = options;
    this.#telemetry =
      telemetry === undefined
        ? undefined
        : import('./telemetry.js').then(
            ({ Telemetry }) => new Telemetry(telemetry, options.endpoint.tokenUrl, () => this.stats()),
            () => undefined,
          );
    if (options.grant.type === 'refresh_token') this.#refreshToken = options.grant.refreshToken;
    const { store } = options;
    this.#cluster = hasLock(store)
      ? new ClusterRefresh({
          store,
          key: options.storeKey,
          maxRefreshMs: options.endpoint.timeout * (options.retry.limit + 1) + options.retry.maxDelay * options.retry.limit,
          log: (level, message) => this.#log(level, message),
          adopt: (stored) => this.#adopt(stored),
          fetchAndStore: (reporter) => this.#fetchAndStore(reporter),
          isDetached: () => this.#detached,
          bounded: (call) => this.#bounded(call),
        })
      : undefined;
  }

  /** The current token when it may be sent now; starts a background refresh when it is stale. The hot path. */
  usable(): CachedToken | undefined {
    const token = this.#current;
    if (token === undefined || token.invalidated) return undefined;
    const now = this.#now();
    if (now < token.refreshAt) return token;
    if (now >= token.expiresAt) return undefined;
    this.#refreshInBackground(now, token);
    return token;
  }

  /**
   * Waits in the paused queue for the single-flight refresh. Settles early with
   * axios's own errors when the request is aborted or its timeout passes while held.
   */
  hold(config: InternalAxiosRequestConfig | undefined): Promise<CachedToken> {
    const coolDown = this.#coolDown;
    if (coolDown !== undefined && this.#now() < coolDown.until && this.#inflight === undefined) {
      return Promise.reject(coolDown.error);
    }
    const flight = this.#startRefresh(false);
    this.#keepAliveForCaller();
    this.#queue.pause();
    // Timeouts run on real time, whatever the injected clock says.
    const heldAt = performance.now();
    const abort = config === undefined ? undefined : watchHeldRequest(config);
    const task = this.#queue.add(() => flight, abort === undefined ? {} : { signal: abort.signal });
    if (abort === undefined) return task;
    return task.then(
      (token) => {
        abort.cleanup();
        // The time spent held counts against the request's own timeout.
        if (config !== undefined && config.timeout !== undefined && config.timeout > 0) {
          config.timeout = Math.max(1, Math.round(config.timeout - (performance.now() - heldAt)));
        }
        return token;
      },
      (error: unknown) => {
        abort.cleanup();
        throw error;
      },
    );
  }

  /**
   * A 401 answered a request sent with token `version`. Marks the current token as refused
   * (the next request holds and refreshes) and answers true when the request should be
   * replayed; false while 401-driven refreshes back off because the API keeps refusing
   * fresh tokens it never accepted (a wrong audience, a scope the client lacks): then the
   * 401 reaches the caller and costs no token request. `replayed` requests only count.
   */
  refuse(version: number, replayed: boolean): boolean {
    const token = this.#current;
    // A 401 for an older token: the current one is already another (rule 2 of the queue flow).
    if (token === undefined || token.version !== version || token.invalidated) return true;
    if (!token.accepted) {
      const now = this.#now();
      if (!token.refusedUnaccepted) {
        token.refusedUnaccepted = true;
        this.#refusedInARow += 1;
        if (this.#refusedInARow >= 2) {
          const pause = Math.min(REFUSAL_BACKOFF_CAP_MS, REFUSAL_BACKOFF_MS * 2 ** (this.#refusedInARow - 2));
          this.#refusalBackoffUntil = now + pause;
          this.#log('warn', `the API refused ${this.#refusedInARow} new tokens in a row before accepting any; no 401-driven refresh for ${pause} ms`);
        }
      }
      if (now < this.#refusalBackoffUntil) return false;
    }
    if (replayed) return false;
    token.invalidated = true;
    this.#refused.push(token.tokenSet.accessToken);
    // A few are enough: a refused set is replaced by a newer one at the next refresh.
    if (this.#refused.length > 8) this.#refused.shift();
    return true;
  }

  /** The API accepted a request sent with token `version`: any success ends a 401 back-off. */
  accept(version: number): void {
    const token = this.#current;
    if (token !== undefined && token.version === version) {
      if (token.accepted) return;
      token.accepted = true;
    }
    this.#refusedInARow = 0;
    this.#refusalBackoffUntil = 0;
  }

  /** A valid token set, fetched when needed (the same rules as a request). */
  async getToken(): Promise<TokenSet> {
    return (this.usable() ?? (await this.hold(undefined))).tokenSet;
  }

  /** A new token set whatever the state of the current one (joins a refresh already running). */
  async refresh(): Promise<TokenSet> {
    const flight = this.#startRefresh(true);
    this.#keepAliveForCaller();
    return (await flight).tokenSet;
  }

  recordReplay(): void {
    this.#stats.replays += 1;
  }

  /** Calls an event callback of the app; whatever it does, the caller goes on. */
  notify<K extends keyof AuthEvents>(name: K, ...args: EventArguments<AuthEvents, K>): void {
    this.#calls.notify(name, ...args);
  }

  stats(): AuthStats {
    return { ...this.#stats, held: this.#queue.size };
  }

  /** RFC 7009: revokes the refresh token and the access token held, then forgets the token set. */
  async revoke(): Promise<RevocationResult> {
    const url = this.#options.revocationUrl ?? (await this.#endpoint.discoveredUrl('revocation_endpoint'));
    if (url === undefined) throw new ConfigurationError('revocationUrl', `is required for handle.revoke()${this.#options.issuer === undefined ? '' : ' (the server metadata names no revocation_endpoint)'}`);
    if (this.#inflight !== undefined) {
      this.#keepAliveForCaller();
      await this.#inflight.catch(noop);
    }
    const accessToken = this.#current?.tokenSet.accessToken;
    const refreshToken = this.#refreshToken;
    // Forgotten at once, but scrubbed until both calls have settled: the endpoint may echo what it revokes.
    return this.#scrubList.using([accessToken, refreshToken], async () => {
      await this.#forget();
      const result: RevocationResult = { refreshToken: 'none', accessToken: 'none' };
      // The refresh token first: many servers revoke the access tokens of a grant with it.
      if (refreshToken !== undefined) result.refreshToken = await this.#revokeOne(url, refreshToken, 'refresh_token');
      if (accessToken !== undefined) result.accessToken = await this.#revokeOne(url, accessToken, 'access_token');
      return result;
    });
  }

  /** GETs the token info endpoint with the current token and returns its parsed body. */
  async tokenInfo<T = unknown>(): Promise<T> {
    const url = this.#options.tokenInfoUrl;
    if (url === undefined) throw new ConfigurationError('tokenInfoUrl', 'is required for handle.tokenInfo()');
    const tokenSet = await this.getToken();
    // A refresh meanwhile may replace the token; the one sent stays scrubbed until the answer is read.
    return (await this.#scrubList.using([tokenSet.accessToken], () => this.#endpoint.tokenInfo(url, tokenSet.accessToken))) as T;
  }

  /** RFC 7662: the introspection endpoint's answer about the current access token (the client authenticates). */
  async introspect(): Promise<unknown> {
    const url = this.#options.introspectionUrl ?? (await this.#endpoint.discoveredUrl('introspection_endpoint'));
    if (url === undefined) throw new ConfigurationError('introspectionUrl', `is required for handle.introspect()${this.#options.issuer === undefined ? '' : ' (the server metadata names no introspection_endpoint)'}`);
    const tokenSet = await this.getToken();
    return this.#endpoint.introspectToken(url, tokenSet.accessToken);
  }

  /** Stops every timer; a refresh waiting on one rejects, so nothing held hangs. */
  detach(): void {
    this.#detached = true;
    for (const entry of this.#timers) {
      clearTimeout(entry.timer);
      entry.reject(new OAuthQueueError(ErrorCodes.DETACHED, 'axios-oauth-queue was detached while a token request waited to be retried'));
    }
    this.#timers.clear();
    this.#queue.start();
  }

  async #revokeOne(url: string, token: string, hint: 'access_token' | 'refresh_token'): Promise<'revoked' | 'unsupported'> {
    try {
      await this.#endpoint.revokeToken(url, token, hint);
      return 'revoked';
    } catch (error) {
      // Servers that cannot revoke self-contained (JWT) access tokens say so; that is an answer, not a failure.
      if (error instanceof OAuthError && error.code === 'unsupported_token_type') return 'unsupported';
      throw error;
    }
  }

  #refreshInBackground(now: number, token: CachedToken): void {
    if (this.#inflight !== undefined || now < this.#backgroundRetryAt || this.#detached) return;
    this.#startRefresh(false).catch(() => {
      // The token still works: serve it, and try again after a pause instead of on every request.
      const later = this.#now();
      this.#backgroundRetryAt = later + Math.min(this.#options.retry.maxDelay, Math.max(0, (token.expiresAt - later) / 2));
    });
  }

  #startRefresh(force: boolean): Promise<CachedToken> {
    if (this.#inflight === undefined) {
      this.#inflight = this.#runRefresh(force).finally(() => {
        this.#inflight = undefined;
        this.#callerWaiting = false;
        this.#queue.start();
      });
      // Every waiter may have gone (aborted, timed out): the failure must not become an unhandled rejection.
      this.#inflight.catch(noop);
    }
    return this.#inflight;
  }

  async #runRefresh(force: boolean): Promise<CachedToken> {
    try {
      if (this.#cluster !== undefined) {
        const token = await this.#cluster.refresh(force);
        this.#coolDown = undefined;
        this.#backgroundRetryAt = 0;
        return token;
      }
      // Handles sharing one store object share one token request per key: wait for
      // theirs, then take what it wrote, instead of fetching (and spending a rotating
      // refresh token) a second time.
      const flights = flightsOf(this.#options.store);
      const key = this.#options.storeKey;
      for (let other = flights.get(key); other !== undefined; other = flights.get(key)) {
        await other.catch(noop);
      }
      // Registered before its first await, so that no other handle starts one meanwhile.
      const flight = (async () => {
        // Read even when forced: the store's refresh token is the one to present, and a set
        // newer than ours is a new token set already (as under the lock of the cluster refresh).
        const shared = await this.#readStore();
        if (shared !== undefined) return shared;
        return this.#fetchAndStore(this.#writeReporter);
      })();
      flights.set(key, flight);
      try {
        return await flight;
      } finally {
        if (flights.get(key) === flight) flights.delete(key);
      }
    } catch (error) {
      this.#stats.failures += 1;
      const failure = error instanceof Error ? error : new OAuthQueueError(ErrorCodes.TOKEN_ENDPOINT_UNREACHABLE, 'token request failed');
      if (!isTransientError(failure) && !(failure instanceof OAuthQueueError && failure.code === ErrorCodes.DETACHED)) {
        // A terminal answer: do not turn the next N requests into N token requests.
        this.#coolDown = { until: this.#now() + this.#options.failureCoolDownMs, error: failure };
        if (failure instanceof OAuthError) await this.#forget();
      }
      this.#log(isTransientError(failure) ? 'warn' : 'error', `token refresh failed: ${failure.message}`);
      this.#calls.notify('onRefreshError', toAuthError(failure));
      throw failure;
    }
  }

  /** Logs a failed store write of the path without a lock (the cluster refresh reports its own). */
  readonly #writeReporter: StoreReporter = {
    failed: (error) => this.#log('warn', `token store write failed; the token is kept in this process: ${describeStoreError(error)}`),
    answered: noop,
  };

  /**
   * Fetches a token set, writes it to the store, and only then lets requests use it: the
   * rotated refresh token is in the store before the new access token is sent anywhere.
   */
  async #fetchAndStore(reporter: StoreReporter): Promise<CachedToken> {
    const answer = await this.#fetchToken();
    const token = this.#accept(answer);
    this.#coolDown = undefined;
    this.#backgroundRetryAt = 0;
    const written = await this.#writeStore(token, reporter);
    if (written === false) {
      // A set of the same or a higher generation got there first (a write that landed late,
      // or another process): the store's order wins when its set is usable, ours otherwise.
      const shared = await this.#readStore();
      if (shared !== undefined) return shared;
    }
    return this.#install(token, 'endpoint');
  }

  /** Chooses the grant: the refresh token when one is held, falling back to the original grant when it is refused. */
  async #fetchToken(): Promise<TokenEndpointAnswer> {
    this.#refreshDeadline = performance.now() + this.#options.refreshTimeoutMs;
    const { grant, scope } = this.#options;
    const refreshToken = this.#refreshToken;
    if (refreshToken !== undefined) {
      try {
        // Scrubbed until the answer is read, even if a token set adopted meanwhile replaces it.
        return await this.#scrubList.using([refreshToken], () => this.#withRetries(refreshParameters(refreshToken, scope)));
      } catch (error) {
        if (!(error instanceof OAuthError && error.code === 'invalid_grant')) throw error;
        // Spent, revoked or expired: it must never be presented again.
        if (this.#refreshToken === refreshToken) this.#refreshToken = undefined;
        if (!canRerun(grant)) throw error;
        this.#log('info', `refresh token refused (invalid_grant); running the ${grant.type} grant again`);
      }
    }
    if (grant.type === 'refresh_token') {
      throw new OAuthQueueError(ErrorCodes.GRANT_SPENT, 'no refresh token is left to renew the token (the server refused the last one); start a new grant');
    }
    if (grant.type === 'authorization_code') {
      if (this.#codeSpent) {
        throw new OAuthQueueError(ErrorCodes.GRANT_SPENT, 'the authorization code was already exchanged and no refresh token is held; send the user through authorization again');
      }
      // Exactly once, even if this attempt fails: a code presented twice revokes its tokens (RFC 6749 §4.1.2).
      this.#codeSpent = true;
      return this.#sendOnce(grantParameters(grant, scope));
    }
    return this.#withRetries(grantParameters(grant, scope));
  }

  /** Transient failures are retried with jittered exponential backoff that honours Retry-After. */
  async #withRetries(parameters: Record<string, string>): Promise<TokenEndpointAnswer> {
    const { limit } = this.#options.retry;
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await this.#sendOnce(parameters, attempt);
      } catch (error) {
        if (this.#detached || attempt >= limit || !isTransientError(error)) throw error;
        const delay = retryDelay(attempt, (error as { retryAfterMs?: number }).retryAfterMs, this.#options.retry);
        // Waiting would end past refreshTimeout: the last failure is the answer.
        if (delay === undefined || performance.now() + delay >= this.#refreshDeadline) throw error;
        this.#log('debug', `token request failed (${(error as Error).message}); retry ${attempt + 1} of ${limit} in ${Math.round(delay)} ms`);
        await this.#sleep(delay);
      }
    }
  }

  async #sendOnce(parameters: Record<string, string>, attempt = 0): Promise<TokenEndpointAnswer> {
    this.#stats.tokenRequests += 1;
    this.#stats.tokenRequestsInFlight += 1;
    const startedAt = performance.now();
    try {
      const budget = this.#refreshDeadline - startedAt;
      if (budget < 1) {
        throw new TokenEndpointError(`the token refresh did not finish within refreshTimeout (${this.#options.refreshTimeoutMs} ms)`, {
          code: ErrorCodes.TOKEN_ENDPOINT_TIMEOUT,
          cause: new Error(`refreshTimeout of ${this.#options.refreshTimeoutMs} ms spent before this attempt`),
        });
      }
      const send = () => this.#endpoint.requestToken(parameters, budget);
      const telemetry = this.#telemetry === undefined ? undefined : await this.#telemetry;
      const answer = await (telemetry === undefined ? send() : telemetry.traceTokenRequest(parameters['grant_type'] ?? 'unknown', attempt, send));
      this.#tokenLatencyMs = performance.now() - startedAt;
      return answer;
    } finally {
      this.#stats.tokenRequestsInFlight -= 1;
    }
  }

  /** A caller waits on the refresh in flight: from now on its timers hold the process open. */
  #keepAliveForCaller(): void {
    if (this.#callerWaiting) return;
    this.#callerWaiting = true;
    for (const entry of this.#timers) entry.timer.ref();
  }

  #sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const entry = {
        timer: setTimeout(() => {
          this.#timers.delete(entry);
          resolve();
        }, ms),
        reject,
      };
      // Only a refresh nobody waits for lets the process exit under it.
      if (!this.#callerWaiting) entry.timer.unref();
      this.#timers.add(entry);
    });
  }

  /**
   * Normalises an answer into the next token, one generation above the newest seen; not yet
   * installed (a bad answer throws and leaves the current token alone).
   */
  #accept(answer: TokenEndpointAnswer): CachedToken {
    const tokenSet = normaliseTokenResponse(answer.body, {
      receivedAt: answer.receivedAt,
      clockOffset: answer.clockOffset,
      defaultExpiresIn: this.#options.defaultExpiresIn,
      dpop: this.#options.dpop !== undefined,
    });
    // A rotated refresh token replaces the old one at once; without a new one the old stays valid (RFC 6749 §6).
    if (tokenSet.refreshToken !== undefined) this.#refreshToken = tokenSet.refreshToken;
    else if (this.#refreshToken !== undefined) tokenSet.refreshToken = this.#refreshToken;
    return this.#prepare({ tokenSet, receivedAt: answer.receivedAt, generation: (this.#generation ?? 0) + 1 });
  }

  /** The thresholds and header of a token set, computed once. */
  #prepare(stored: StoredTokenSet): CachedToken {
    const { tokenSet, receivedAt } = stored;
    const expiresAt = tokenSet.expiresAt ?? Number.POSITIVE_INFINITY;
    const refreshAt =
      tokenSet.expiresAt === undefined ? Number.POSITIVE_INFINITY : expiresAt - effectiveRefreshWindow(this.#options.refreshWindowMs, receivedAt, expiresAt, this.#tokenLatencyMs);
    this.#version += 1;
    const token: CachedToken = {
      tokenSet,
      version: this.#version,
      receivedAt,
      refreshAt,
      expiresAt,
      authorization: `${tokenSet.tokenType} ${tokenSet.accessToken}`,
      invalidated: false,
      accepted: false,
      refusedUnaccepted: false,
      generation: stored.generation,
    };
    return token;
  }

  /** Makes `token` the one requests use; onToken hears of it after the store has it. */
  #install(token: CachedToken, source: TokenSetSource['source']): CachedToken {
    this.#current = token;
    this.#raiseGeneration(token.generation);
    this.#stats.refreshes += 1;
    this.#log('debug', `new token set from the ${source} (version ${token.version}${token.generation === undefined ? '' : `, generation ${token.generation}`}${Number.isFinite(token.expiresAt) ? `, expires in ${Math.round((token.expiresAt - this.#now()) / 1000)} s` : ', no known expiry'})`);
    this.#calls.notify('onToken', token.tokenSet, { source });
    return token;
  }

  #raiseGeneration(generation: number | undefined): void {
    if (generation !== undefined && (this.#generation === undefined || generation > this.#generation)) this.#generation = generation;
  }

  /** A token set another holder of the store wrote, if it is newer than ours and still fresh enough to use. */
  async #readStore(): Promise<CachedToken | undefined> {
    let stored: StoredTokenSet | undefined;
    try {
      stored = await this.#bounded(this.#options.store.get(this.#options.storeKey));
    } catch (error) {
      this.#log('warn', `token store read failed, fetching a token instead: ${describeStoreError(error)}`);
      return undefined;
    }
    return stored === undefined ? undefined : this.#adopt(stored);
  }

  /**
   * Takes what a stored set offers under the TokenStore order. Its refresh token, whenever the
   * store's set is not older than ours, even when its access token has expired: the store's
   * refresh token is the truth. The set itself, only when it is newer than the one held and
   * than any a 401 refused (by generation; without one, by not being a set held or refused),
   * and not expired.
   */
  #adopt(stored: StoredTokenSet): CachedToken | undefined {
    const { tokenSet, generation } = stored;
    const ordered = generation !== undefined && this.#generation !== undefined;
    if (tokenSet.refreshToken !== undefined && (!ordered || generation >= (this.#generation ?? 0))) this.#refreshToken = tokenSet.refreshToken;
    if (ordered && generation <= (this.#generation ?? 0)) return undefined;
    if (tokenSet.accessToken === this.#current?.tokenSet.accessToken || this.#refused.includes(tokenSet.accessToken)) return undefined;
    this.#raiseGeneration(generation);
    const expiresAt = tokenSet.expiresAt;
    if (expiresAt !== undefined && this.#now() >= expiresAt) return undefined;
    return this.#install(this.#prepare(stored), 'store');
  }

  /** A token set with a refresh token outlives its access token in the store; one without lives until it expires. */
  #storeTtl(token: CachedToken): number | undefined {
    return Number.isFinite(token.expiresAt) && token.tokenSet.refreshToken === undefined ? Math.max(1, token.expiresAt - this.#now()) : undefined;
  }

  /** Writes `token` with its generation (compare-and-set); false when the store kept a set of the same or a higher one. */
  async #writeStore(token: CachedToken, reporter: StoreReporter): Promise<boolean | undefined> {
    const value: StoredTokenSet = { tokenSet: token.tokenSet, receivedAt: token.receivedAt };
    if (token.generation !== undefined) value.generation = token.generation;
    try {
      const written = await this.#bounded(this.#options.store.set(this.#options.storeKey, value, this.#storeTtl(token)));
      reporter.answered();
      return written === false ? false : undefined;
    } catch (error) {
      reporter.failed(error);
      return undefined;
    }
  }

  async #forget(): Promise<void> {
    this.#current = undefined;
    this.#refreshToken = undefined;
    try {
      await this.#bounded(this.#options.store.delete(this.#options.storeKey));
    } catch (error) {
      this.#log('warn', `token store delete failed: ${describeStoreError(error)}`);
    }
  }

  /**
   * A store call that fails after tokenRequest.timeout instead of holding requests forever:
   * a store that never answers must not turn into a queue that never resumes (promise 1).
   */
  #bounded<T>(call: Promise<T>): Promise<T> {
    return withinStoreTimeout(call, this.#options.endpoint.timeout, 'the token store');
  }

  #secrets(): readonly (string | undefined)[] {
    const { grant, endpoint } = this.#options;
    return [
      endpoint.clientSecret,
      grant.type === 'password' ? grant.password : undefined,
      grant.type === 'refresh_token' ? grant.refreshToken : undefined,
      grant.type === 'authorization_code' ? grant.code : undefined,
      grant.type === 'authorization_code' ? grant.codeVerifier : undefined,
      this.#refreshToken,
      this.#current?.tokenSet.accessToken,
    ];
  }

  #log(level: LogLevel, message: string): void {
    // Messages are built from scrubbed errors already; SafeCalls scrubs again to guard against a slip.
    this.#calls.log(level, message);
  }
}
