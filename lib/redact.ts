// Cleans an axios error before it reaches the caller: the Authorization header
// we attached becomes "Bearer [REDACTED]", and the raw request objects (whose
// header text still holds the token) are hidden from inspection and JSON.

import type { AxiosError } from 'axios';

export const REDACTED_AUTHORIZATION = 'Bearer [REDACTED]';

export function redactAxiosError<T extends AxiosError>(error: T): T {
  const headers = error.config?.headers;
  if (headers !== undefined && typeof headers.has === 'function' && headers.has('Authorization')) {
    headers.set('Authorization', REDACTED_AUTHORIZATION);
  }
  hide(error, 'request');
  if (error.response !== undefined) hide(error.response, 'request');
  // A stream body (or a stream response) links back to the raw request, whose headers hold the token.
  if (error.config !== undefined && isPipeable(error.config.data)) hide(error.config, 'data');
  if (error.response !== undefined && isPipeable(error.response.data)) hide(error.response, 'data');
  return error;
}

function isPipeable(value: unknown): boolean {
  return value !== null && typeof value === 'object' && typeof (value as { pipe?: unknown }).pipe === 'function';
}

/** Keeps the property readable but out of util.inspect, JSON.stringify and Object.keys. */
function hide(target: object, key: string): void {
  const descriptor = Object.getOwnPropertyDescriptor(target, key);
  if (descriptor === undefined || descriptor.enumerable !== true) return;
  Object.defineProperty(target, key, { value: descriptor.value, enumerable: false, writable: true, configurable: true });
}
