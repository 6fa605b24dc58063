// The origin check once more, as the request is finally sent (promise 8 of design.md).
// axios runs request interceptors in reverse order of registration, so one the app
// registered before attachAuth runs after ours and may still change url, baseURL,
// allowAbsoluteUrls, proxy or adapter. axios calls transformRequest after every
// interceptor and right before the adapter, with the config as `this`, on every
// release of the peer range and for every adapter: the last step there decides.
//
// The same step puts the 401 replay inside the adapter (docs/interceptors.md): axios
// reads `config.adapter` right after transformRequest, so the step wraps it there.
// A replay sent by the wrapped adapter reuses the config axios already merged and
// transformed: no user interceptor, request or response, runs twice, and a response
// interceptor never sees a 401 the package is about to fix.

import axios, { type AxiosAdapter, type AxiosPromise, type AxiosRequestConfig, type AxiosRequestTransformer, type InternalAxiosRequestConfig } from 'axios';
import { isAbsoluteUrl, type OriginGuard } from './origin-guard.js';
import { refuseClearTextProxy } from './proxy-route.js';
import { attemptOf } from './request-state.js';

/** The step appended to the transformRequest list of each request that carries the token. */
export type FinalCheck = (this: InternalAxiosRequestConfig, data: unknown, headers: InternalAxiosRequestConfig['headers']) => unknown;

/**
 * What the handle does when the adapter it wrapped settles: `send` sends the same
 * config once more through the app's adapter. Returns the answer the caller gets.
 */
export type AdapterSettle = (config: InternalAxiosRequestConfig, outcome: AdapterOutcome, send: () => AxiosPromise) => AxiosPromise;

/** How one send through the app's adapter ended. */
export type AdapterOutcome = { ok: true; response: Awaited<AxiosPromise> } | { ok: false; error: unknown };

/** The origin and proxy checks of one handle, run as the request leaves (and again before a replay). */
export type OriginCheck = (config: InternalAxiosRequestConfig, headers: InternalAxiosRequestConfig['headers'] | undefined) => void;

/** Drops the token when the request now goes to an origin that is not allowed; refuses it across a clear-text proxy. */
export function createOriginCheck(owner: number, guard: OriginGuard, allowInsecureHttp: boolean): OriginCheck {
  return (config, headers) => {
    const attempt = attemptOf(config);
    if (attempt === undefined || attempt.owner !== owner || attempt.tokenVersion === 0) return;
    if (!guard.allowsRequest(config)) {
      // The destination moved after the token was attached: the request goes, without it.
      headers?.delete('Authorization');
      config.headers?.delete('Authorization');
      return;
    }
    if (!allowInsecureHttp) {
      // Every place the guard allowed: an absolute url, and the baseURL it may be joined to.
      const url = config.url ?? '';
      const absolute = isAbsoluteUrl(url);
      if (absolute) refuseClearTextProxy(url, config.proxy, 'the token');
      if (!absolute || config.allowAbsoluteUrls === false) refuseClearTextProxy(config.baseURL, config.proxy, 'the token');
    }
  };
}

/**
 * One check per handle (no closure per request): runs the origin check and, when
 * `settle` is given and the app's adapter can be resolved to a function, wraps that
 * adapter so that `settle` sees each answer before any response interceptor does.
 */
export function createFinalCheck(owner: number, guard: OriginGuard, allowInsecureHttp: boolean, settle?: AdapterSettle): FinalCheck {
  const check = createOriginCheck(owner, guard, allowInsecureHttp);
  // One wrapper per adapter function, shared by every request that uses it.
  const wrappers = new WeakMap<AxiosAdapter, AxiosAdapter>();
  const wrapped = new WeakSet<AxiosAdapter>();
  const wrap = (inner: AxiosAdapter): AxiosAdapter => {
    if (wrapped.has(inner)) return inner;
    let wrapper = wrappers.get(inner);
    if (wrapper === undefined) {
      const send = (config: InternalAxiosRequestConfig): AxiosPromise =>
        inner(config).then(
          (response) => settle!(config, { ok: true, response }, () => send(config)),
          (error: unknown) => settle!(config, { ok: false, error }, () => send(config)),
        );
      wrapper = send;
      wrappers.set(inner, wrapper);
      wrapped.add(wrapper);
    }
    return wrapper;
  };
  return function finalCheck(this: InternalAxiosRequestConfig, data, headers) {
    check(this, headers);
    if (settle !== undefined && this.headers?.has('Authorization') === true) {
      const inner = resolveAdapter(this.adapter, this);
      // Unresolvable here (axios 1.2 to 1.4 with an adapter named by string): the response interceptor replays instead.
      if (inner !== undefined) this.adapter = wrap(inner);
    }
    return data;
  };
}

/** axios's `getAdapter`, on the releases that export it (1.5 and later). */
type GetAdapter = (adapters: AxiosRequestConfig['adapter'], config?: InternalAxiosRequestConfig) => AxiosAdapter;

/**
 * The adapter function axios is about to call: the config's own when it is one,
 * else what `axios.getAdapter` makes of it (1.5 and later), else the default when
 * that is a function (1.0 and 1.1). Undefined when this release cannot say.
 */
export function resolveAdapter(adapter: AxiosRequestConfig['adapter'], config: InternalAxiosRequestConfig): AxiosAdapter | undefined {
  const chosen = adapter ?? axios.defaults.adapter;
  if (typeof chosen === 'function') return chosen;
  const getAdapter = (axios as { getAdapter?: GetAdapter }).getAdapter;
  if (typeof getAdapter !== 'function') return undefined;
  try {
    return getAdapter(chosen, config);
  } catch {
    // No such adapter in this environment: axios throws its own error for it in a moment.
    return undefined;
  }
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
