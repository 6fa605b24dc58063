// A clock the tests move by hand, so expiry is controlled instead of waited for.
// Pass it as the `clock` option of attachAuth, or as `() => clock.now()` to a MemoryTokenStore.

import type { AuthClock } from '../../lib/index.js';

/** 2026-01-01T00:00:00Z: a whole second, so HTTP dates built from it round-trip exactly. */
export const FAKE_EPOCH = Date.UTC(2026, 0, 1);

export class FakeClock implements AuthClock {
  #now: number;

  constructor(start: number = FAKE_EPOCH) {
    this.#now = start;
  }

  /** The current reading, epoch milliseconds. */
  now(): number {
    return this.#now;
  }

  /** Moves the clock forward by `ms` milliseconds and returns the new reading. */
  advance(ms: number): number {
    this.#now += ms;
    return this.#now;
  }

  /** Sets the clock to `ms` epoch milliseconds. */
  set(ms: number): void {
    this.#now = ms;
  }
}
