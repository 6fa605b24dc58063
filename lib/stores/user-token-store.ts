// The contract of a user token store (attachUserAuth): one token set per user,
// keyed by a hash of the client identity and the user (the subject). The store is
// the truth for the refresh token: the one presented is read from it right before,
// and a rotated one is written to it before the new access token is used.

import type { StoredTokenSet } from './token-store.js';

/**
 * A user's token set as a store keeps it: a StoredTokenSet, whose `generation` orders the
 * sets written for one user (each renewal writes the one it replaced plus one; a set is
 * adopted only when it is newer than the one held). A store that drops the generation
 * still works: its sets are then ordered by their access token instead.
 */
export type StoredUserTokenSet = StoredTokenSet;

/** A lock held on one user's key; `release()` frees it if it is still ours. */
export interface UserTokenStoreLock {
  /** Frees the lock if it is still ours (a lapsed lock another holder took is left alone). */
  release(): Promise<void>;
}

/**
 * Where user token sets live: `MemoryUserTokenStore` (this process, bounded),
 * `RedisTokenStore` (shared by every worker, encrypted at rest, with a lock per user)
 * or `SessionUserTokenStore` (the user's own session). `subject` is passed for stores
 * that must check it against the request they serve (the session store); a store keyed
 * by `key` alone may ignore it. No method may throw a token or a secret.
 */
export interface UserTokenStore {
  /** The token set under `key`, or undefined. */
  get(key: string, subject: string): Promise<StoredUserTokenSet | undefined>;
  /**
   * Keeps `value` under `key` (`ttlMs`: how long, undefined for as long as the store keeps anything).
   * A store that orders sets writes only when its stored generation is lower, and answers `false`
   * when it did not write (TokenStore's contract); others answer nothing.
   */
  set(key: string, value: StoredUserTokenSet, ttlMs: number | undefined, subject: string): Promise<boolean | void>;
  /** Forgets the token set under `key`. */
  delete(key: string, subject: string): Promise<void>;
  /** Optional lock across processes, one per user: a lock, or undefined while another holder has it. */
  acquire?(key: string, ttlMs: number): Promise<UserTokenStoreLock | undefined>;
  /** Optional: the user of `key` was active just now (an in-process store keeps active users from idle eviction). */
  touch?(key: string): void;
}

/** The order of a stored set: its generation, 0 when the store kept none. */
export function generationOf(stored: StoredUserTokenSet | undefined): number {
  return stored?.generation ?? 0;
}
