// Single flight across processes, for stores that offer a lock (TokenStore.acquire):
// one process takes the lock, re-reads the store (taking its refresh token, the truth),
// fetches only if still needed and writes the new token set (a rotated refresh token
// included) before it uses it or lets go; the others wait for that token set instead of
// fetching their own. When the store is away, each process falls back to its own token
// request (single-flight in-process).

import { ErrorCodes, OAuthQueueError } from './errors.js';
import { describeStoreError, type StoredTokenSet, type TokenStore, type TokenStoreLock } from './stores/token-store.js';
import type { CachedToken } from './token-manager.js';

/**
 * A store with the cross-process lock. `pollInterval` (ms), when the store declares it, is
 * how often a process waiting for another one's token request re-reads the store and
 * retries the lock; default 100.
 */
export type LockingTokenStore = TokenStore & Required<Pick<TokenStore, 'acquire'>> & { readonly pollInterval?: number };

/** How the cluster refresh tells the token manager what the store did. */
export interface StoreReporter {
  /** A store call failed (or timed out). */
  failed(error: unknown): void;
  /** A store call answered. */
  answered(): void;
}

/** What the token manager lends the cluster refresh. */
export interface ClusterRefreshHost {
  readonly store: LockingTokenStore;
  readonly key: string;
  /**
   * How long a live holder may take to get a token (its token request, retries and their
   * pauses): a waiting process that sees the lock held longer than this fetches on its own.
   */
  readonly maxRefreshMs: number;
  log(level: 'debug' | 'warn', message: string): void;
  /**
   * Takes what a stored token set offers: its refresh token when the store's is the newest,
   * and the set itself when it is newer than the one held (and refused) and not expired.
   */
  adopt(stored: StoredTokenSet): CachedToken | undefined;
  /** Runs the token request in this process, writes the answer to the store and then installs it. */
  fetchAndStore(reporter: StoreReporter): Promise<CachedToken>;
  /** True once the handle is detached: a waiting process stops waiting. */
  isDetached(): boolean;
  /** The store call, or a rejection once it has taken longer than a token request may. */
  bounded<T>(call: Promise<T>): Promise<T>;
}

/**
 * The lock's lifetime, ms: short, so that a lock nobody renews (its holder died, or a
 * stalled Redis ran a lock request the client had given up on) holds nobody for long. A
 * live holder renews it every third of this, however long its token request takes.
 */
export const LOCK_TTL_MS = 3000;
/** How long lock requests may keep timing out (a slow or stalled store) before a process fetches on its own. */
export const STALL_GRACE_MS = 2 * LOCK_TTL_MS;
const DEFAULT_POLL_INTERVAL_MS = 100;

/** True when the store offers the cross-process lock. */
export function hasLock(store: TokenStore): store is LockingTokenStore {
  return typeof store.acquire === 'function';
}

export class ClusterRefresh {
  readonly #host: ClusterRefreshHost;
  readonly #pollIntervalMs: number;
  /** Set while the store fails; one warning per outage, one debug line when it answers again. */
  #storeDown = false;
  readonly #reporter: StoreReporter = {
    failed: (error) => this.#failed(error),
    answered: () => this.#answered(),
  };

  constructor(host: ClusterRefreshHost) {
    this.#host = host;
    const interval = host.store.pollInterval;
    this.#pollIntervalMs = typeof interval === 'number' && interval > 0 ? interval : DEFAULT_POLL_INTERVAL_MS;
  }

  /** A new token set: another process's when one is (or becomes) available, else ours, fetched under the lock. */
  async refresh(force: boolean): Promise<CachedToken> {
    if (!force) {
      const shared = await this.#readShared();
      if (shared !== undefined) return shared;
    }
    // A dead holder's lock lapses within LOCK_TTL_MS; a live holder renews it while it works.
    // Waiting beyond what a live holder may take means something is wrong: fetch here instead.
    const deadline = performance.now() + this.#host.maxRefreshMs + LOCK_TTL_MS;
    let stalledSince: number | undefined;
    for (;;) {
      let lock: TokenStoreLock | undefined;
      const request = this.#host.store.acquire(this.#host.key, LOCK_TTL_MS);
      try {
        lock = await this.#host.bounded(request);
        this.#answered();
        stalledSince = undefined;
      } catch (error) {
        // A lock granted after we stopped waiting for it is nobody's: give it back.
        request.then((late) => late?.release()).catch(() => {});
        this.#failed(error);
        const now = performance.now();
        stalledSince ??= now;
        // A store that is away fails fast: go on alone. One that is slow (a loaded host, a
        // stalled Redis) gets STALL_GRACE_MS: going alone means presenting a refresh token that
        // another process may present too, which a strict server punishes by revoking the grant.
        if (!isTimeout(error) || now - stalledSince >= STALL_GRACE_MS || now >= deadline) {
          // The write is still tried, for a store that only stumbled (it fails fast when it is away).
          return this.#host.fetchAndStore(this.#reporter);
        }
      }
      if (lock !== undefined) return this.#refreshHolding(lock);
      if (performance.now() >= deadline) {
        this.#host.log('warn', 'no process finished the shared token refresh in time; fetching a token in this process');
        return this.#host.fetchAndStore(this.#reporter);
      }
      await pause(this.#pollIntervalMs);
      if (this.#host.isDetached()) {
        throw new OAuthQueueError(ErrorCodes.DETACHED, 'axios-oauth-queue was detached while waiting for another process to refresh the token');
      }
      const shared = await this.#readShared();
      if (shared !== undefined) return shared;
    }
  }

  async #refreshHolding(lock: TokenStoreLock): Promise<CachedToken> {
    try {
      // Another process may have refreshed, and rotated the refresh token, between our read and
      // the lock: this read also takes the store's refresh token, the one presented next.
      const shared = await this.#readShared();
      if (shared !== undefined) return shared;
      // Written (compare-and-set on the generation) before it is used and before the lock goes:
      // the next holder must find the rotated refresh token.
      const token = await this.#host.fetchAndStore(this.#reporter);
      if (lock.lost === true) this.#host.log('debug', 'the store lock could not be renewed during the token request; another process may have taken it');
      return token;
    } finally {
      try {
        await this.#host.bounded(lock.release());
      } catch (error) {
        // Not released: it lapses after its TTL, and waiters have the token set already.
        this.#failed(error);
      }
    }
  }

  async #readShared(): Promise<CachedToken | undefined> {
    let stored: StoredTokenSet | undefined;
    try {
      stored = await this.#host.bounded(this.#host.store.get(this.#host.key));
      this.#answered();
    } catch (error) {
      this.#failed(error);
      return undefined;
    }
    return stored === undefined ? undefined : this.#host.adopt(stored);
  }

  #failed(error: unknown): void {
    if (this.#storeDown) return;
    this.#storeDown = true;
    this.#host.log('warn', `token store unavailable (${describeStoreError(error)}); using this process's token and token requests until it answers again`);
  }

  #answered(): void {
    if (!this.#storeDown) return;
    this.#storeDown = false;
    this.#host.log('debug', 'token store answers again; sharing tokens through it');
  }
}

/** A store call that took too long (the store's own commandTimeout, or the handle's bound), as opposed to one refused at once. */
function isTimeout(error: unknown): boolean {
  return error instanceof Error && (error as { code?: unknown }).code === 'ETIMEDOUT';
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => {
    // Not unref'd: the wait is bounded, and a script awaiting its token must not exit meanwhile.
    setTimeout(resolve, ms);
  });
}
