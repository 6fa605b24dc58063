// A user token store that keeps each user's token set in their own session
// (express-session, @fastify/session, or any session with `save(callback)`), read
// through the scope handle.middleware()/fastifyHook() binds for each incoming
// request. Every write is saved at once, not at the end of the response: a rotated
// refresh token that only reached the session after the response was sent would be
// lost, and the next request after a restart would present a spent one.

import { ErrorCodes, OAuthQueueError } from '../errors.js';
import { currentScope } from '../user-subject.js';
import type { StoredUserTokenSet, UserTokenStore } from './user-token-store.js';

/** The parts of a session the store uses: properties, or get/set (@fastify/session), and save. */
export interface SessionLike {
  /** Writes the session to its store now (express-session and @fastify/session both take a callback). */
  save?(callback: (error?: unknown) => void): unknown;
  /** Reads a session value (@fastify/session); without it, properties are read. */
  get?(key: string): unknown;
  /** Writes a session value (@fastify/session); without it, properties are written. */
  set?(key: string, value: unknown): unknown;
  [property: string]: unknown;
}

/** The options of `new SessionUserTokenStore(options)`. */
export interface SessionUserTokenStoreOptions {
  /** The session property the token set is kept under. Default `'oauthTokenSet'`. */
  field?: string;
  /** The session of an incoming request. Default `request.session` (express-session, @fastify/session). */
  sessionOf?: (request: object) => SessionLike | undefined;
}

/** What the session holds: the store key (which client and user) beside the token set. */
interface SessionEntry {
  key: string;
  value: StoredUserTokenSet;
}

/**
 * Keeps each user's token set in their session, so that it lives as long as the session,
 * survives a restart of the BFF and needs no other store. Use the session id as the
 * subject, and bind it with `handle.middleware((req) => req.session.id)` (Express) or
 * `handle.fastifyHook((request) => request.session.sessionId)` (Fastify): the store can
 * only read and write the session of the request it serves, and refuses any other user.
 * Sessions have no lock: with several workers, use sticky sessions or `RedisTokenStore`.
 */
export class SessionUserTokenStore implements UserTokenStore {
  readonly #field: string;
  readonly #sessionOf: (request: object) => SessionLike | undefined;

  /** Where in the session, and how to find the session of a request; both have defaults. */
  constructor(options: SessionUserTokenStoreOptions = {}) {
    this.#field = options.field ?? 'oauthTokenSet';
    this.#sessionOf = options.sessionOf ?? ((request) => (request as { session?: SessionLike }).session);
  }

  /** The token set of the request's session when it is the one under `key`. */
  async get(key: string, subject: string): Promise<StoredUserTokenSet | undefined> {
    const entry = read(this.#session(subject), this.#field);
    return entry?.key === key ? entry.value : undefined;
  }

  /** Writes the token set into the request's session and saves the session at once. */
  async set(key: string, value: StoredUserTokenSet, _ttlMs: number | undefined, subject: string): Promise<void> {
    const session = this.#session(subject);
    const entry: SessionEntry = { key, value };
    write(session, this.#field, entry);
    await save(session);
  }

  /** Removes the token set under `key` from the request's session and saves it. */
  async delete(key: string, subject: string): Promise<void> {
    const session = this.#session(subject);
    if (read(session, this.#field)?.key !== key) return;
    write(session, this.#field, undefined);
    await save(session);
  }

  /** The session of the request being served, if it belongs to `subject`. */
  #session(subject: string): SessionLike {
    const scope = currentScope();
    const request = scope?.request;
    if (scope === undefined || request === undefined) {
      throw new OAuthQueueError(
        ErrorCodes.AUTH_SUBJECT_REQUIRED,
        'SessionUserTokenStore reads the session of the incoming request: use it inside handle.middleware() or handle.fastifyHook()',
      );
    }
    const current = scope.currentSubject?.() ?? scope.subject;
    if (current !== subject) {
      // Another user's session: never read or write it (promise 9).
      throw new OAuthQueueError(ErrorCodes.AUTH_SUBJECT_REQUIRED, 'SessionUserTokenStore serves only the user of the incoming request, and this call is for another user');
    }
    const session = this.#sessionOf(request);
    if (session === undefined || session === null || typeof session !== 'object') {
      throw new OAuthQueueError(ErrorCodes.AUTH_SUBJECT_REQUIRED, 'SessionUserTokenStore found no session on the request: register the session middleware before handle.middleware()');
    }
    return session;
  }
}

function read(session: SessionLike, field: string): SessionEntry | undefined {
  const value = typeof session.get === 'function' ? session.get(field) : session[field];
  if (value === null || typeof value !== 'object') return undefined;
  const entry = value as Partial<SessionEntry>;
  return typeof entry.key === 'string' && entry.value !== undefined ? (entry as SessionEntry) : undefined;
}

function write(session: SessionLike, field: string, entry: SessionEntry | undefined): void {
  if (typeof session.set === 'function') session.set(field, entry);
  else if (entry === undefined) delete session[field];
  else session[field] = entry;
}

/** Saves now (both express-session and @fastify/session take a callback). */
function save(session: SessionLike): Promise<void> {
  const saver = session.save;
  if (typeof saver !== 'function') return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    saver.call(session, (error?: unknown) => (error ? reject(error instanceof Error ? error : new Error('session save failed')) : resolve()));
  });
}
