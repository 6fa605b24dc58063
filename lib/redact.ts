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
  hideRawRequests(error);
  return error;
}

/**
 * Hides every path from the error to raw request objects, whose header text holds a
 * token: this request's, or, through a shared keep-alive agent, another request's.
 * Used as well on errors of requests sent without a token (skipAuth, other origins).
 */
export function hideRawRequests(error: AxiosError): void {
  hide(error, 'request');
  if (error.response !== undefined) hide(error.response, 'request');
  // A stream body (or a stream response) links back to the raw request, whose headers hold the token.
  if (error.config !== undefined && isStream(error.config.data)) hide(error.config, 'data');
  if (error.response !== undefined && isStream(error.response.data)) hide(error.response, 'data');
  // A user's keep-alive agent links to its sockets and the last request on each.
  if (error.config !== undefined) summariseAgents(error.config);
}

const INSPECT_CUSTOM = Symbol.for('nodejs.util.inspect.custom');

/**
 * util.inspect shows the config's agents by class name only. The agents stay
 * enumerable in the config (hiding them would make a resent `error.config` lose them).
 */
function summariseAgents(config: object): void {
  const { httpAgent, httpsAgent } = config as { httpAgent?: unknown; httpsAgent?: unknown };
  if ((httpAgent ?? undefined) === undefined && (httpsAgent ?? undefined) === undefined) return;
  // An mTLS agent holds the client's private key in its options: axios's error.toJSON() walks every
  // enumerable property of the config, so the agent itself answers JSON with its class name only.
  for (const agent of [httpAgent, httpsAgent]) if (agent !== null && typeof agent === 'object') summariseForJson(agent);
  Object.defineProperty(config, INSPECT_CUSTOM, {
    configurable: true,
    writable: true,
    enumerable: false,
    value(this: object, depth: number, options: object, inspect: (value: unknown, options: object) => string): string {
      const shown: Record<string, unknown> = { ...this };
      for (const key of ['httpAgent', 'httpsAgent']) {
        const agent = shown[key];
        if (agent !== undefined && agent !== null) shown[key] = `[${(agent as object).constructor?.name ?? 'Agent'}]`;
      }
      return inspect(shown, { ...options, depth });
    },
  });
}

function summariseForJson(agent: object): void {
  if (Object.prototype.hasOwnProperty.call(agent, 'toJSON')) return;
  const summary = `[${agent.constructor?.name ?? 'Agent'}]`;
  Object.defineProperty(agent, 'toJSON', { configurable: true, writable: true, enumerable: false, value: () => summary });
}

/** A Node stream (pipe) or a WHATWG ReadableStream (getReader): consumed by the first send, and linked to it. */
export function isStream(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return false;
  return typeof (value as { pipe?: unknown }).pipe === 'function' || typeof (value as { getReader?: unknown }).getReader === 'function';
}

/** Keeps the property readable but out of util.inspect, JSON.stringify and Object.keys. */
function hide(target: object, key: string): void {
  const descriptor = Object.getOwnPropertyDescriptor(target, key);
  if (descriptor === undefined || descriptor.enumerable !== true) return;
  Object.defineProperty(target, key, { value: descriptor.value, enumerable: false, writable: true, configurable: true });
}
