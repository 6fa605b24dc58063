// How long to wait before retrying a token request that failed transiently:
// jittered exponential backoff that honours the server's Retry-After.

/** The retry settings the backoff reads (resolved `retry` options). */
export interface BackoffSettings {
  baseDelay: number;
  maxDelay: number;
}

/**
 * The delay before retry `attempt` (0-based), ms, or undefined when the server asked
 * for a longer wait than `maxDelay`: holding requests that long is worse than failing.
 */
export function retryDelay(attempt: number, retryAfterMs: number | undefined, settings: BackoffSettings): number | undefined {
  const ceiling = Math.min(settings.maxDelay, settings.baseDelay * 2 ** attempt);
  const jittered = ceiling / 2 + Math.random() * (ceiling / 2);
  if (retryAfterMs === undefined) return jittered;
  return retryAfterMs > settings.maxDelay ? undefined : Math.max(retryAfterMs, jittered);
}
