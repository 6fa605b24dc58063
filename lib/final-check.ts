// The origin check once more, as the request is finally sent (promise 8 of design.md).
// axios runs request interceptors in reverse order of registration, so one the app
// registered before attachAuth runs after ours and may still change url, baseURL,
// allowAbsoluteUrls, proxy or adapter. axios calls transformRequest after every
// interceptor and right before the adapter, with the config as `this`, on every
// release of the peer range and for every adapter: the last step there decides.

import type { AxiosRequestTransformer, InternalAxiosRequestConfig } from 'axios';
import { isAbsoluteUrl, type OriginGuard } from './origin-guard.js';
import { refuseClearTextProxy } from './proxy-route.js';
import { attemptOf } from './request-state.js';

/** The step appended to the transformRequest list of each request that carries the token. */
export type FinalCheck = (this: InternalAxiosRequestConfig, data: unknown, headers: InternalAxiosRequestConfig['headers']) => unknown;

/**
 * One check per handle (no closure per request): drops the token when the request now goes
 * to an origin that is not allowed, and refuses it when it would cross a proxy in clear text.
 */
export function createFinalCheck(owner: number, guard: OriginGuard, allowInsecureHttp: boolean): FinalCheck {
  return function finalCheck(this: InternalAxiosRequestConfig, data, headers) {
    const attempt = attemptOf(this);
    if (attempt === undefined || attempt.owner !== owner || attempt.tokenVersion === 0) return data;
    if (!guard.allowsRequest(this)) {
      // The destination moved after the token was attached: the request goes, without it.
      headers?.delete('Authorization');
      this.headers?.delete('Authorization');
      return data;
    }
    if (!allowInsecureHttp) {
      // Every place the guard allowed: an absolute url, and the baseURL it may be joined to.
      const url = this.url ?? '';
      const absolute = isAbsoluteUrl(url);
      if (absolute) refuseClearTextProxy(url, this.proxy, 'the token');
      if (!absolute || this.allowAbsoluteUrls === false) refuseClearTextProxy(this.baseURL, this.proxy, 'the token');
    }
    return data;
  };
}

/** The request's transformRequest list with `check` last (once, even on a replay). */
export function withFinalCheck(transforms: InternalAxiosRequestConfig['transformRequest'], check: FinalCheck): AxiosRequestTransformer[] {
  const list = transforms === undefined ? [] : Array.isArray(transforms) ? transforms : [transforms];
  const index = list.indexOf(check as AxiosRequestTransformer);
  if (index !== -1 && index === list.length - 1) return list;
  // A copy: the list may be one the app shares between requests.
  const result = index === -1 ? list.slice() : list.filter((transform) => transform !== check);
  result.push(check as AxiosRequestTransformer);
  return result;
}
