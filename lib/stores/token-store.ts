// The contract of a place where token sets are kept, keyed by the hashed token
// identity (token endpoint, client, grant subject, scope, audience). The default
// is MemoryTokenStore; shared stores let several processes use one token.

import { OAuthQueueError } from '../errors.js';
import type { TokenSet } from '../token-set.js';

/** A token set as a store keeps it: the TokenSet plus when it was received (epoch ms). */
export interface StoredTokenSet {
  /** The token set itself (a secret: stores keep it as such). */
  tokenSet: TokenSet;
  /** When the token set arrived from the token endpoint, in epoch milliseconds. */
  receivedAt: number;
  /**
   * The order of token sets under one key: each new set is written with a generation one
   * above the one its writer based its refresh on. A store that keeps generations returns
   * it unchanged from `get`; undefined when the store (or an older value) has none.
   */
  generation?: number;
}

/** A lock held on a key; `release()` frees it if it is still ours. */
export interface TokenStoreLock {
  /** Frees the lock if this holder still has it; a lock that expired and was taken by another is left alone. */
  release(): Promise<void>;
  /**
   * True once the store could not renew the lock in time: another process may hold it now.
   * Optional; a store that renews nothing leaves it undefined.
   */
  readonly lost?: boolean;
}

/**
 * Where token sets are cached. Every method may be async; none may throw a secret.
 *
 * Order (what a shared store must keep so that no process ever steps back to an older
 * token set): `set` with a `value.generation` is a compare-and-set, done atomically in
 * the store. It writes only when the generation stored under the key is absent or lower
 * than `value.generation`, and answers `false` when it did not write (a newer or equal set
 * is there: the writer's refresh was based on an older one, or its write arrived late).
 * `get` returns the generation written. A process adopts a stored set only when its
 * generation is higher than that of the set it holds and of any set a 401 refused.
 *
 * A store without generations (its `set` answers nothing and its `get` drops the field)
 * still works: its sets are unordered, and a process then adopts any set whose access
 * token differs from the one it holds and from every one a 401 refused.
 */
export interface TokenStore {
  /** The token set under `key`, or undefined. */
  get(key: string): Promise<StoredTokenSet | undefined>;
  /**
   * Keep `value` under `key` for `ttlMs` milliseconds (undefined: until deleted). With
   * `value.generation`, only if the stored generation is lower (see the contract above):
   * answers `false` when a set of the same or a higher generation is kept instead.
   */
  set(key: string, value: StoredTokenSet, ttlMs?: number): Promise<boolean | void>;
  /** Forget the token set under `key`. */
  delete(key: string): Promise<void>;
  /**
   * Optional cross-process lock: a lock, or undefined when another holder has it. The lock
   * must lapse by itself `ttlMs` after it was taken or last renewed, and `release()` must free
   * it only while it is still the caller's. A lock request that fails or times out must not
   * leave a lock behind that nobody renews for longer than `ttlMs`.
   */
  acquire?(key: string, ttlMs: number): Promise<TokenStoreLock | undefined>;
  /**
   * Milliseconds between reads of a process waiting for another one's token request (it also
   * retries the lock at each read). Read only with `acquire`. Default 100; e.g. `25` for a
   * faster takeover at the cost of more reads while waiting.
   */
  readonly pollInterval?: number;
}

/** True when a stored set with generation `generation` may replace one of generation `stored` under the contract of TokenStore. */
export function isNewerGeneration(generation: number | undefined, stored: number | undefined): boolean {
  return generation === undefined || stored === undefined || stored < generation;
}

/** Store errors can come from any client library; keep only their class and code, never a message that may quote a value. */
export function describeStoreError(error: unknown): string {
  if (error instanceof Error) return `${error.name}${'code' in error && typeof error.code === 'string' ? ` ${error.code}` : ''}`;
  return 'unknown error';
}

/**
 * `call`, or a rejection once it has taken `limitMs`: a store that never answers must not
 * turn into a queue that never resumes (promise 1). The timer is unref'd: the call it races
 * holds the process open if anything does.
 */
export function withinStoreTimeout<T>(call: Promise<T>, limitMs: number, storeName: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new OAuthQueueError('ETIMEDOUT', `${storeName} did not answer within ${limitMs} ms`)), limitMs);
    timer.unref();
  });
  return Promise.race([call, deadline]).finally(() => clearTimeout(timer));
}
