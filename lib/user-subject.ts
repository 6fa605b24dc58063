// Who a request is for (attachUserAuth): the per-request `authSubject` option, or
// else the AsyncLocalStorage scope bound once per incoming request (runAs, the
// middleware). Also the hashed key a user's token set is stored under: the client
// identity plus the subject, so that two users, or one user of two clients, never
// share a token, and no subject (often a session id) appears in a key.

import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import { AuthAttempt } from './request-state.js';

/** What `runAs` and the middleware bind for the code that serves one incoming request. */
export interface UserScope {
  /** The user the outgoing requests are for. */
  readonly subject: string;
  /** The incoming request, when a middleware bound the scope; the session store reads its `session`. */
  readonly request?: object;
  /**
   * The user of `request` as it is now (the middleware's `subjectOf` again): after a sign-in
   * regenerates the session, the session id, and so the subject, changes within the request.
   */
  readonly currentSubject?: () => string | undefined;
}

/** One scope for the process: a request's user is the same for every client it calls. */
const scopes = new AsyncLocalStorage<UserScope>();

/** Runs `fn` with `scope` bound for everything it calls, synchronously or later. */
export function runInScope<T>(scope: UserScope, fn: () => T): T {
  return scopes.run(scope, fn);
}

/** The scope bound around the running code, if any. */
export function currentScope(): UserScope | undefined {
  return scopes.getStore();
}

/** The key of a user's token set: `<prefix>user:` plus a SHA-256 of the client identity and the subject. */
export function userTokenKey(clientIdentity: string, subject: string): string {
  return `axios-oauth-queue:user:${createHash('sha256').update(clientIdentity).update('\0').update(subject).digest('base64url')}`;
}

/** The client identity of design.md without a grant (each user brings their own): endpoint, client, scope, audience. */
export function clientIdentity(tokenUrl: string, clientId: string, scope: string | undefined, params: Record<string, string>): string {
  const audience = Object.keys(params)
    .sort()
    .map((name) => [name, params[name]]);
  return createHash('sha256').update(JSON.stringify([tokenUrl, clientId, scope ?? '', audience])).digest('base64url');
}

/** An AuthAttempt that also remembers whose token the request carried, so that its replay is for the same user. */
export class UserAuthAttempt extends AuthAttempt {
  readonly subject: string;

  constructor(owner: number, subject: string) {
    super(owner);
    this.subject = subject;
  }
}

declare module 'axios' {
  interface AxiosRequestConfig {
    /**
     * The user this request is for (attachUserAuth): their token is attached, and only theirs.
     * Without it, the user bound by `handle.runAs()` or the middleware applies.
     */
    authSubject?: string;
  }
}
