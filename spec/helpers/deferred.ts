// Promises the tests settle by hand, and bounded waits: concurrency is made
// deterministic by holding a server answer on a deferred, and every wait has a
// deadline so a hang fails the test fast instead of hanging the suite.
import { expect } from 'chai';

/** A promise with its resolve and reject exposed. */
export interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
  /** True once resolve or reject was called. */
  readonly settled: boolean;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((onResolve, onReject) => {
    resolve = onResolve;
    reject = onReject;
  });
  // A deferred nobody awaits must not become an unhandled rejection.
  promise.catch(() => {});
  let settled = false;
  return {
    promise,
    resolve(value) {
      settled = true;
      resolve(value);
    },
    reject(error) {
      settled = true;
      reject(error);
    },
    get settled() {
      return settled;
    },
  };
}

/** Rejects when `promise` has not settled within `ms`. The timer is cleared either way. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** Settles every promise (bounded): the results in order, resolved or rejected. */
export function settleAll<T>(promises: readonly Promise<T>[], ms: number): Promise<PromiseSettledResult<T>[]> {
  return within(Promise.allSettled(promises), ms, `${promises.length} requests`);
}

/**
 * Waits until `condition` holds, checking once per turn of the event loop, and
 * fails after `ms`. For state the library exposes only by reading (`handle.stats()`):
 * it waits for the state, not for a guessed amount of time.
 */
export async function until(condition: () => boolean, what: string, ms = 5000): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > ms) throw new Error(`timed out after ${ms} ms waiting until ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Lets pending promise chains (a mock adapter, a refresh) run to their next wait: one turn of the event loop. */
export function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** The error `promise` rejects with; fails the test when it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  expect.fail('expected a rejection, but the promise resolved');
}
