// The contract of a place where token sets are kept, keyed by the hashed token
// identity (token endpoint, client, grant subject, scope, audience). The default
// is MemoryTokenStore; shared stores let several processes use one token.

import type { TokenSet } from '../token-set.js';

/** A token set as a store keeps it: the TokenSet plus when it was received (epoch ms). */
export interface StoredTokenSet {
  /** The token set itself (a secret: stores keep it as such). */
  tokenSet: TokenSet;
  /** When the token set arrived from the token endpoint, in epoch milliseconds. */
  receivedAt: number;
}

/** A lock held on a key; `release()` frees it if it is still ours. */
export interface TokenStoreLock {
  /** Frees the lock if this holder still has it; a lock that expired and was taken by another is left alone. */
  release(): Promise<void>;
}

/** Where token sets are cached. Every method may be async; none may throw a secret. */
export interface TokenStore {
  /** The token set under `key`, or undefined. */
  get(key: string): Promise<StoredTokenSet | undefined>;
  /** Keep `value` under `key` for `ttlMs` milliseconds (undefined: until deleted). */
  set(key: string, value: StoredTokenSet, ttlMs?: number): Promise<void>;
  /** Forget the token set under `key`. */
  delete(key: string): Promise<void>;
  /** Optional cross-process lock: a lock, or undefined when another holder has it. */
  acquire?(key: string, ttlMs: number): Promise<TokenStoreLock | undefined>;
}

/** Store errors can come from any client library; keep only their class and code, never a message that may quote a value. */
export function describeStoreError(error: unknown): string {
  if (error instanceof Error) return `${error.name}${'code' in error && typeof error.code === 'string' ? ` ${error.code}` : ''}`;
  return 'unknown error';
}
