// Calls the app's logger and event callbacks so that nothing they do can reach the
// queue flow. A logger method is called on its logger (pino, winston and bunyan
// read `this`); a callback that throws or returns a rejected promise is caught and
// reported once per callback through the logger; a logger that throws is ignored.
// Without this, a throwing onToken lost the token it was given, a throwing
// onRefreshError replaced the typed error of every held request with its own, and
// `logger: pino()` failed requests because its methods were called unbound.

import type { AuthEvents, AuthLogger } from './options.js';

/** The levels the package logs at. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Where a line goes when the logger lacks its level: an error is at least a warning, info at least debug. */
const FALLBACK: Record<LogLevel, LogLevel | undefined> = { debug: undefined, info: 'debug', warn: undefined, error: 'warn' };

/** The arguments of event callback `K` of an events object `E`. */
export type EventArguments<E, K extends keyof E> = NonNullable<E[K]> extends (...args: infer A) => unknown ? A : never;

/** Safe calls of a logger and of the callbacks of an events object (AuthEvents, or attachUserAuth's UserAuthEvents). */
export class SafeCalls<E extends object = AuthEvents> {
  readonly #logger: AuthLogger;
  readonly #events: E;
  /** Makes a line safe to write: no secret, no token (the list of the moment). */
  readonly #scrub: (text: string) => string;
  readonly #reported = new Set<keyof E>();

  constructor(logger: AuthLogger, events: E, scrub: (text: string) => string) {
    this.#logger = logger;
    this.#events = events;
    this.#scrub = scrub;
  }

  /** Writes one line at `level` (or the level it falls back to); never throws. */
  log(level: LogLevel, message: string): void {
    try {
      for (let target: LogLevel | undefined = level; target !== undefined; target = FALLBACK[target]) {
        const method = this.#logger[target];
        if (typeof method !== 'function') continue;
        ignoreRejection(method.call(this.#logger, `axios-oauth-queue: ${this.#scrub(message)}`));
        return;
      }
    } catch {
      // A logger that throws (or a level getter that does) must not fail a request; there is nowhere left to say so.
    }
  }

  /** Calls the event callback `name` (as a method of the events object); a failure is reported once, never rethrown. */
  notify<K extends keyof E>(name: K, ...args: EventArguments<E, K>): void {
    let callback: unknown;
    try {
      callback = this.#events[name];
      if (typeof callback !== 'function') return;
      const result: unknown = (callback as (...values: EventArguments<E, K>) => unknown).apply(this.#events, args);
      if (isThenable(result)) result.then(undefined, (error: unknown) => this.#report(name, error));
    } catch (error) {
      this.#report(name, error);
    }
  }

  #report(name: keyof E, error: unknown): void {
    if (this.#reported.has(name)) return;
    this.#reported.add(name);
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : typeof error;
    this.log('warn', `the ${String(name)} callback failed (${reason}); the failure was ignored and further ones are not reported`);
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

/** An async logger method that rejects must not become an unhandled rejection. */
function ignoreRejection(value: unknown): void {
  if (isThenable(value)) value.then(undefined, () => {});
}
