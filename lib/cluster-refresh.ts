// Single flight across processes, for stores that offer a lock (TokenStore.acquire):
// one process takes the lock, re-reads the store, fetches only if still needed and
// writes the new token set (a rotated refresh token included) before it lets go; the
// others wait for that token set instead of fetching their own. When the store is
// away, each process falls back to its own token request (single-flight in-process).

import { ErrorCodes, OAuthQueueError } from './errors.js';
import { describeStoreError, type StoredTokenSet, type TokenStore, type TokenStoreLock } from './stores/token-store.js';
import type { CachedToken } from './token-manager.js';

/** A store with the cross-process lock; `pollInterval` is read when the store has one. */
export type LockingTokenStore = TokenStore & Required<Pick<TokenStore, 'acquire'>> & { readonly pollInterval?: number };

/** What the token manager lends the cluster refresh. */
export interface ClusterRefreshHost {
  readonly store: LockingTokenStore;
  readonly key: string;
  /** `tokenRequest.timeout`: the lock outlives one token request by a margin. */
  readonly tokenTimeoutMs: number;
  log(level: 'debug' | 'warn', message: string): void;
  /** Installs a stored token set unless it is the one held now (valid or refused) or expired. */
  adopt(stored: StoredTokenSet): CachedToken | undefined;
  /** Runs the token request in this process and installs the answer. */
  fetch(): Promise<CachedToken>;
  /** How long the store should keep `token`, ms (undefined: until replaced). */
  ttlOf(token: CachedToken): number | undefined;
  /** True once the handle is detached: a waiting process stops waiting. */
  isDetached(): boolean;
  /** The store call, or a rejection once it has taken longer than a token request may. */
  bounded<T>(call: Promise<T>): Promise<T>;
}

/** The lock outlives a token request by this much before a dead holder's lock lapses. */
const LOCK_MARGIN_MS = 1000;
const DEFAULT_POLL_INTERVAL_MS = 100;

/** True when the store offers the cross-process lock. */
export function hasLock(store: TokenStore): store is LockingTokenStore {
  return typeof store.acquire === 'function';
}

export class ClusterRefresh {
  readonly #host: ClusterRefreshHost;
  readonly #lockTtlMs: number;
  readonly #pollIntervalMs: number;
  /** Set while the store fails; one warning per outage, one debug line when it answers again. */
  #storeDown = false;

  constructor(host: ClusterRefreshHost) {
    this.#host = host;
    this.#lockTtlMs = host.tokenTimeoutMs + LOCK_MARGIN_MS;
    const interval = host.store.pollInterval;
    this.#pollIntervalMs = typeof interval === 'number' && interval > 0 ? interval : DEFAULT_POLL_INTERVAL_MS;
  }

  /** A new token set: another process's when one is (or becomes) available, else ours, fetched under the lock. */
  async refresh(force: boolean): Promise<CachedToken> {
    if (!force) {
      const shared = await this.#readShared();
      if (shared !== undefined) return shared;
    }
    // A dead holder's lock lapses within its TTL; a live holder renews it while it retries.
    // Waiting beyond two TTLs means something is wrong with the store: fetch here instead.
    const deadline = performance.now() + 2 * this.#lockTtlMs;
    for (;;) {
      let lock: TokenStoreLock | undefined;
      try {
        lock = await this.#host.bounded(this.#host.store.acquire(this.#host.key, this.#lockTtlMs));
        this.#answered();
      } catch (error) {
        this.#failed(error);
        // On our own; the write is still tried, for a store that only stumbled (it fails fast when it is away).
        const token = await this.#host.fetch();
        await this.#write(token);
        return token;
      }
      if (lock !== undefined) return this.#refreshHolding(lock);
      if (performance.now() >= deadline) {
        this.#host.log('warn', 'no process finished the shared token refresh in time; fetching a token in this process');
        const token = await this.#host.fetch();
        await this.#write(token);
        return token;
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
      // Another process may have refreshed, and rotated the refresh token, between our read and the lock.
      const shared = await this.#readShared();
      if (shared !== undefined) return shared;
      const token = await this.#host.fetch();
      // Written before the lock goes: the next holder must find the rotated refresh token.
      await this.#write(token);
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

  async #write(token: CachedToken): Promise<void> {
    try {
      await this.#host.bounded(this.#host.store.set(this.#host.key, { tokenSet: token.tokenSet, receivedAt: token.receivedAt }, this.#host.ttlOf(token)));
      this.#answered();
    } catch (error) {
      this.#failed(error);
    }
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


function pause(ms: number): Promise<void> {
  return new Promise((resolve) => {
    // Not unref'd: the wait is bounded, and a script awaiting its token must not exit meanwhile.
    setTimeout(resolve, ms);
  });
}
