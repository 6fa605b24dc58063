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
  return error;
}

/** Keeps the property readable but out of util.inspect, JSON.stringify and Object.keys. */
function hide(target: object, key: string): void {
  const descriptor = Object.getOwnPropertyDescriptor(target, key);
  if (descriptor === undefined || descriptor.enumerable !== true) return;
  Object.defineProperty(target, key, { value: descriptor.value, enumerable: false, writable: true, configurable: true });
}
