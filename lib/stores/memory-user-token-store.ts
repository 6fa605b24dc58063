// The default user token store: token sets in a Map in this process, bounded in
// two ways that cost no timer: at most `maxUsers` entries (the least recently
// used goes first) and an idle timeout checked lazily when the store is used.

import { ConfigurationError } from '../errors.js';
import type { StoredUserTokenSet, UserTokenStore } from './user-token-store.js';

/** The options of `new MemoryUserTokenStore(options)`. */
export interface MemoryUserTokenStoreOptions {
  /** The most users kept; the least recently used is forgotten first. Default 10000. */
  maxUsers?: number;
  /**
   * Seconds after which a user nobody served is forgotten (they sign in again). Checked
   * lazily, when the store is used, so it costs no timer. Default 86400 (a day).
   */
  idleTimeout?: number;
  /** The clock, for tests. Default `Date.now`. */
  now?: () => number;
}

interface Entry {
  value: StoredUserTokenSet;
  usedAt: number;
  expiresAt: number | undefined;
}

/** How many of the oldest entries one call looks at for idle eviction: bounded work per call. */
const IDLE_SWEEP = 4;

/**
 * Keeps users' token sets in memory, in this process only: lost on restart (users sign
 * in again) and not shared between workers. Use `RedisTokenStore` or
 * `SessionUserTokenStore` for either.
 */
export class MemoryUserTokenStore implements UserTokenStore {
  /** In least-recently-used order: a use moves an entry to the end. */
  readonly #entries = new Map<string, Entry>();
  readonly #maxUsers: number;
  readonly #idleMs: number;
  readonly #now: () => number;

  /** Bounds and clock; every option has a default. */
  constructor(options: MemoryUserTokenStoreOptions = {}) {
    const { maxUsers = 10_000, idleTimeout = 86_400, now = Date.now } = options;
    if (!Number.isInteger(maxUsers) || maxUsers < 1) throw new ConfigurationError('MemoryUserTokenStore maxUsers', 'must be a whole number of 1 or more');
    if (typeof idleTimeout !== 'number' || !(idleTimeout > 0)) throw new ConfigurationError('MemoryUserTokenStore idleTimeout', 'must be a positive number of seconds');
    this.#maxUsers = maxUsers;
    this.#idleMs = idleTimeout * 1000;
    this.#now = now;
  }

  /** Users held now. */
  get size(): number {
    return this.#entries.size;
  }

  /** The token set under `key`, or undefined (marks the user as used). */
  async get(key: string): Promise<StoredUserTokenSet | undefined> {
    const entry = this.#use(key);
    return entry?.value;
  }

  /** Keeps `value` under `key`, for `ttlMs` at most when given. */
  async set(key: string, value: StoredUserTokenSet, ttlMs?: number): Promise<void> {
    const now = this.#now();
    this.#entries.delete(key);
    this.#entries.set(key, { value, usedAt: now, expiresAt: ttlMs === undefined ? undefined : now + ttlMs });
    this.#evict(now);
  }

  /** Forgets the token set under `key`. */
  async delete(key: string): Promise<void> {
    this.#entries.delete(key);
  }

  /** Marks the user of `key` as active: not idle-evicted for another `idleTimeout`. */
  touch(key: string): void {
    this.#use(key);
  }

  #use(key: string): Entry | undefined {
    const now = this.#now();
    this.#evict(now);
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (this.#isDead(entry, now)) {
      this.#entries.delete(key);
      return undefined;
    }
    entry.usedAt = now;
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return entry;
  }

  /** Drops entries over the bound, then idle ones from the least recently used end (a few per call). */
  #evict(now: number): void {
    let looked = 0;
    for (const [key, entry] of this.#entries) {
      if (this.#entries.size > this.#maxUsers || this.#isDead(entry, now)) this.#entries.delete(key);
      else if (++looked >= IDLE_SWEEP) break;
      // In LRU order: the first live, recently used entry means the rest are newer.
      else if (now - entry.usedAt < this.#idleMs) break;
    }
  }

  #isDead(entry: Entry, now: number): boolean {
    return now - entry.usedAt >= this.#idleMs || (entry.expiresAt !== undefined && now >= entry.expiresAt);
  }
}
