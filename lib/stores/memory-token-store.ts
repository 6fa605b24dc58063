// The default TokenStore: a Map in this process. Share one instance between
// attachAuth calls with identical token identities to let them share the token.

import { isNewerGeneration, type StoredTokenSet, type TokenStore } from './token-store.js';

interface Entry {
  value: StoredTokenSet;
  expiresAt: number | undefined;
}

/** Keeps token sets in memory, in this process only. */
export class MemoryTokenStore implements TokenStore {
  readonly #entries = new Map<string, Entry>();
  readonly #now: () => number;

  /**
   * A store for this process only.
   * @param now the clock, for tests; default `Date.now`.
   */
  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  async get(key: string): Promise<StoredTokenSet | undefined> {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt !== undefined && this.#now() >= entry.expiresAt) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  /** Writes unless a set of the same or a higher generation is kept (the TokenStore contract); answers whether it wrote. */
  async set(key: string, value: StoredTokenSet, ttlMs?: number): Promise<boolean> {
    const kept = await this.get(key);
    if (kept !== undefined && !isNewerGeneration(value.generation, kept.generation)) return false;
    this.#entries.set(key, { value, expiresAt: ttlMs === undefined ? undefined : this.#now() + ttlMs });
    return true;
  }

  async delete(key: string): Promise<void> {
    this.#entries.delete(key);
  }
}
