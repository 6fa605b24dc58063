// The traffic shapes the provider specs drive through each preset: a storm of
// concurrent requests, and a steady stream paced by a fake clock (the clock
// moves only between batches, so expiry is decided by the clock, not by how
// fast the machine is). Every wait is bounded.

import type { AxiosInstance } from 'axios';
import { within } from '../deferred.js';
import type { FakeClock } from '../fake-clock.js';

/** Sends `count` GETs at once and returns their statuses (a rejected request counts as 0). */
export async function storm(api: AxiosInstance, path: string, count: number): Promise<number[]> {
  const requests = Array.from({ length: count }, () =>
    api.get(path).then(
      (response) => response.status,
      () => 0,
    ),
  );
  return within(Promise.all(requests), 15_000, `a storm of ${count} requests`);
}

export interface SteadyStreamOptions {
  /** Fake time the stream covers, ms. */
  durationMs: number;
  /** Fake time between batches, ms. */
  stepMs: number;
  /** Requests per batch, sent together. */
  concurrency: number;
}

/**
 * Sends batches of concurrent GETs, moving the fake clock by `stepMs` after each
 * batch has settled, until `durationMs` of fake time has passed. Returns every status.
 */
export async function steadyStream(api: AxiosInstance, path: string, clock: FakeClock, options: SteadyStreamOptions): Promise<number[]> {
  const statuses: number[] = [];
  for (let elapsed = 0; elapsed < options.durationMs; elapsed += options.stepMs) {
    statuses.push(...(await storm(api, path, options.concurrency)));
    clock.advance(options.stepMs);
  }
  return statuses;
}
