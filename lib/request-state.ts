// Per-request state of the queue flow, kept in one typed place on the request
// config, so that it survives the replay: axios's mergeConfig passes a class
// instance through by reference. The property is read and written only here and
// is not part of axios's public config type (only `skipAuth` is, from options.ts).

import type { AxiosRequestConfig } from 'axios';

/** What axios-oauth-queue remembers about one request. Internal: not exported from the package. */
export class AuthAttempt {
  /** Which attachAuth handle owns this request. */
  readonly owner: number;
  /** The version of the token the request was last sent with; 0 when it went without one. */
  tokenVersion = 0;
  /** True once the request has been replayed after a 401: never a second time. */
  replayed = false;
  /** Set once the request has been sent again with a resource server's new DPoP nonce (RFC 9449 §9): never twice. */
  nonceRetried = false;
  /** True once the wrapped adapter has handled an error of this request: the 401 rules ran there, not in the response interceptor. */
  settledAtAdapter = false;

  constructor(owner: number) {
    this.owner = owner;
  }
}

/** The config as this file sees it: a string key (every axios 1.x merge copies it), typed here only. */
type ConfigWithAttempt = AxiosRequestConfig & { authAttempt?: AuthAttempt };

/** The attempt recorded on a request config, if any. */
export function attemptOf(config: AxiosRequestConfig): AuthAttempt | undefined {
  return (config as ConfigWithAttempt).authAttempt;
}

/** Records the attempt on a request config, where the replay's merged config will find it. */
export function setAttempt(config: AxiosRequestConfig, attempt: AuthAttempt): void {
  (config as ConfigWithAttempt).authAttempt = attempt;
}
