// What exists once per user (token subject) of attachUserAuth: a small plain
// object the client-wide machine (user-token-client.ts) acts on. No timer, no
// queue, no closure: ten thousand users cost ten thousand of these.

import type { TokenSet } from './token-set.js';

/** One user's token set as this process holds it, and the one refresh that may be running for them. */
export class UserTokenState {
  /** The user, as the app names them (a session id, a `sub`). */
  readonly subject: string;
  /** The store key: a hash of the client identity and the subject. */
  readonly key: string;
  /** The token set held, or undefined until loaded or after it was forgotten. */
  tokenSet: TokenSet | undefined = undefined;
  /** Client-wide token version of `tokenSet` (unique across users); a request remembers the one it was sent with. */
  version = 0;
  /** The store order of `tokenSet` (see StoredUserTokenSet.generation). */
  generation = 0;
  receivedAt = 0;
  /** From here on the token is stale: used, with one background refresh (epoch ms; Infinity when unknown). */
  refreshAt = Number.POSITIVE_INFINITY;
  /** From here on the token is expired (epoch ms; Infinity when unknown). */
  expiresAt = Number.POSITIVE_INFINITY;
  /** A 401 proved the API no longer takes `tokenSet`. */
  invalidated = false;
  /** The API answered a request sent with `tokenSet` with success. */
  accepted = false;
  /** A 401 for `tokenSet`, before it was ever accepted, has been counted. */
  refusedUnaccepted = false;
  /** New tokens of this user in a row that the API refused before accepting any (design.md: new tokens will not help). */
  refusedInARow = 0;
  /** Until then a 401 for a token never accepted reaches its caller without a refresh (epoch ms). */
  refusalBackoffUntil = 0;
  /** The access token a 401 refused: a store holding just that one has nothing newer. */
  refusedAccessToken: string | undefined = undefined;
  /** The single flight: the load or refresh running for this user. */
  inflight: Promise<void> | undefined = undefined;
  /** Requests of this user waiting for `inflight`. */
  held = 0;
  /** After a failed background refresh, no other before this time (epoch ms). */
  backgroundRetryAt = 0;
  /** Last time a request of this user was served (epoch ms): the working set evicts idle users. */
  usedAt: number;
  /** Last time the store was told this user is active. */
  touchedAt: number;
  /** Set by forget(): a refresh that finishes later must not bring the token set back. */
  forgotten = false;

  constructor(subject: string, key: string, now: number) {
    this.subject = subject;
    this.key = key;
    this.usedAt = now;
    this.touchedAt = now;
  }

  /** True when the token may be sent at `now` (fresh or stale, not refused). */
  isUsable(now: number): boolean {
    return this.tokenSet !== undefined && !this.invalidated && now < this.expiresAt;
  }

  /** True when nothing is running or waiting for this user: the working set may drop the object. */
  isIdle(): boolean {
    return this.inflight === undefined && this.held === 0;
  }
}
