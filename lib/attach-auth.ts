// attachAuth: installs the request interceptor (attach the token, or hold the
// request while one is fetched) and the response interceptor (the 401 path:
// replay once, using the token-version rule of design.md), and returns the handle.

import axios, { type AxiosError, type AxiosInstance, type AxiosPromise, type AxiosResponse, type InternalAxiosRequestConfig } from 'axios';
import { headerOf, isResourceNonceChallenge } from './dpop.js';
import type { AttachAuthOptions } from './options.js';
import { createFinalCheck, createOriginCheck, withFinalCheck, type AdapterOutcome } from './final-check.js';
import { claimInstance } from './instance-claim.js';
import { OriginGuard } from './origin-guard.js';
import { refuseClearTextProxy } from './proxy-route.js';
import { REDACTED_AUTHORIZATION, cleanCauseChain, hideRawRequests, isStream, redactAxiosError } from './redact.js';
import { AuthAttempt, attemptOf, setAttempt } from './request-state.js';
import { resolveOptions } from './resolve-options.js';
import { TokenManager, type AuthStats, type CachedToken, type RevocationResult } from './token-manager.js';
import type { TokenSet } from './token-set.js';

/** What attachAuth returns: the token, on demand, and the way to take it all off again. */
export interface AuthHandle {
  /** A valid token set, fetched when needed; a stale one starts a background refresh. */
  getToken(): Promise<TokenSet>;
  /** Forces a new token set (single-flight: joins a refresh already running). */
  refresh(): Promise<TokenSet>;
  /** Revokes the refresh and access tokens at `revocationUrl` (RFC 7009) and forgets the token set. */
  revoke(): Promise<RevocationResult>;
  /** GETs `tokenInfoUrl` with the current token and returns the parsed body, typed as `T` (unchecked; default `unknown`). */
  tokenInfo<T = unknown>(): Promise<T>;
  /** RFC 7662: POSTs the current access token to the introspection endpoint (client authenticated) and returns the parsed body. */
  introspect(): Promise<unknown>;
  /** Removes both interceptors and every timer. Requests already held still settle. */
  detach(): void;
  /** Counters for metrics. */
  stats(): AuthStats;
}

let nextOwner = 1;

/** The parts of follow-redirects' options for the next hop that the redirect guard reads. */
interface RedirectOptions {
  headers?: Record<string, unknown>;
  href?: string;
  protocol?: string;
  hostname?: string;
  host?: string;
  port?: number | string;
}

/**
 * Gives `instance` OAuth 2.0 access tokens: fetched, cached, attached as
 * `Authorization: Bearer …` to requests for the allowed origins, renewed before
 * they expire, and renewed once on a 401 with the request replayed once.
 *
 * @example
 * const api = axios.create({ baseURL: 'https://api.mvmnt.io' });
 * attachAuth(api, { tokenUrl: 'https://api.mvmnt.io/oauth2/token', clientId, clientSecret });
 */
export function attachAuth(instance: AxiosInstance, options: AttachAuthOptions): AuthHandle {
  const resolved = resolveOptions(instance, options);
  const { retryStatusCodes, allowInsecureHttp, dpop } = resolved;
  // A proxy set on the instance decides now where the token would travel.
  if (!allowInsecureHttp && instance.defaults.proxy) {
    for (const origin of resolved.origins) refuseClearTextProxy(origin, instance.defaults.proxy, 'the token');
  }
  const manager = new TokenManager(resolved);
  // One token source per instance: a second handle would put its token on the first one's requests.
  const release = claimInstance(instance, 'attachAuth');
  const guard = new OriginGuard(resolved.origins);
  const owner = nextOwner++;
  const originCheck = createOriginCheck(owner, guard, allowInsecureHttp);

  const guardRedirect = (redirect: RedirectOptions): void => {
    if (redirect.headers === undefined || guard.allowsUrl(redirectTarget(redirect))) return;
    for (const name of Object.keys(redirect.headers)) {
      if (name.toLowerCase() === 'authorization') delete redirect.headers[name];
    }
  };
  const composedHooks = new WeakSet<object>();
  /** When each request was first sent and its timeout then, so that a replay cannot restart the clock. */
  const timeBudgets = new WeakMap<AuthAttempt, { startedAt: number; timeout: number }>();

  /** Gives a request sent again (a 401 replay, a DPoP nonce retry) what is left of its timeout; false when nothing is. */
  const spendsLeftOfTimeout = (attempt: AuthAttempt, config: InternalAxiosRequestConfig): boolean => {
    const budget = timeBudgets.get(attempt);
    if (budget === undefined) return true;
    const left = budget.timeout - (performance.now() - budget.startedAt);
    if (left < 1) return false;
    config.timeout = Math.ceil(left);
    return true;
  };

  const attach = (config: InternalAxiosRequestConfig, token: CachedToken, attempt: AuthAttempt): InternalAxiosRequestConfig | Promise<InternalAxiosRequestConfig> => {
    config.headers.set('Authorization', token.authorization);
    attempt.tokenVersion = token.version;
    // Interceptors registered before ours run after it: the destination is checked again as the request leaves.
    config.transformRequest = withFinalCheck(config.transformRequest, finalCheck);
    const userHook = config.beforeRedirect;
    if (userHook === undefined) {
      config.beforeRedirect = guardRedirect;
    } else if (userHook !== guardRedirect && !composedHooks.has(userHook)) {
      const composed: typeof userHook = (redirect, response, request) => {
        guardRedirect(redirect as RedirectOptions);
        userHook(redirect, response, request);
      };
      composedHooks.add(composed);
      config.beforeRedirect = composed;
    }
    // RFC 9449 §7: a DPoP-bound token goes with a new proof for this very request (a replay gets a new one too).
    if (dpop !== undefined && token.tokenSet.tokenType === 'DPoP') {
      return dpop.proof({ htm: config.method ?? 'get', url: instance.getUri(config), accessToken: token.tokenSet.accessToken }).then((proof) => {
        config.headers.set('DPoP', proof);
        return config;
      });
    }
    return config;
  };

  const onRequest = (config: InternalAxiosRequestConfig): InternalAxiosRequestConfig | Promise<InternalAxiosRequestConfig> => {
    if (config.skipAuth === true || !guard.allowsRequest(config)) return config;
    let attempt = attemptOf(config);
    if (attempt === undefined || attempt.owner !== owner) {
      attempt = new AuthAttempt(owner);
      setAttempt(config, attempt);
      if (config.timeout !== undefined && config.timeout > 0) timeBudgets.set(attempt, { startedAt: performance.now(), timeout: config.timeout });
    }
    const token = manager.usable();
    if (token !== undefined) return attach(config, token, attempt);
    const held = attempt;
    return manager.hold(config).then((fresh) => attach(config, fresh, held));
  };

  /**
   * Whether a request that failed may be sent once more, and why: `nonce` (RFC 9449 §9: the API
   * wants a new DPoP nonce in the proof; no new token) or `replay` (the 401 rules of design.md,
   * queue flow: counted as the one replay). Undefined when the caller gets this error.
   */
  const resendReason = (error: AxiosError, config: InternalAxiosRequestConfig, attempt: AuthAttempt): 'nonce' | 'replay' | undefined => {
    const response = error.response;
    if (dpop !== undefined && response !== undefined && isResourceNonceChallenge(response.status, headerOf(response.headers, 'www-authenticate'))) {
      const fresh = dpop.rememberNonce(instance.getUri(config), headerOf(response.headers, 'dpop-nonce'));
      if (!fresh || attempt.nonceRetried || isStream(config.data) || !spendsLeftOfTimeout(attempt, config)) return undefined;
      attempt.nonceRetried = true;
      return 'nonce';
    }
    if (response === undefined || !retryStatusCodes.has(response.status) || isInsufficientScope(response)) return undefined;
    if (attempt.replayed) {
      // Never a second replay; the refusal still counts towards the 401 back-off.
      manager.refuse(attempt.tokenVersion, true);
      return undefined;
    }
    if (isStream(config.data)) {
      error.message += ' (not replayed by axios-oauth-queue: the request body is a stream and cannot be sent twice)';
      return undefined;
    }
    // The replay spends what is left of the request's own timeout, not a new one (promise 1 of the design).
    if (!spendsLeftOfTimeout(attempt, config)) {
      error.message += ' (not replayed by axios-oauth-queue: the request timeout has already passed)';
      return undefined;
    }
    // Token-version rule: only a 401 for the token held now invalidates it; a late
    // 401 for an older token replays with the current one and costs no token request.
    if (!manager.refuse(attempt.tokenVersion, false)) {
      error.message += ' (not replayed by axios-oauth-queue: the API refused the last new tokens before accepting any, so 401-driven refreshes pause for a while)';
      return undefined;
    }
    attempt.replayed = true;
    manager.recordReplay();
    config.headers.set('Authorization', REDACTED_AUTHORIZATION);
    manager.notify('onReplay', config);
    return 'replay';
  };

  /** A success with a token: it ends a 401 back-off (design.md: reset by any success) and may bring the next DPoP nonce (RFC 9449 §9). */
  const answered = (config: InternalAxiosRequestConfig, headers: AxiosResponse['headers']): void => {
    const attempt = attemptOf(config);
    if (attempt === undefined || attempt.owner !== owner || attempt.tokenVersion === 0) return;
    manager.accept(attempt.tokenVersion);
    if (dpop !== undefined) dpop.rememberNonce(instance.getUri(config), headerOf(headers, 'dpop-nonce'));
  };

  /**
   * The replay inside the adapter: the answer of each send reaches this first. A 401
   * the rules allow to replay waits for the new token (held like any request, so its
   * abort signal, cancelToken and timeout still apply) and goes again with the same
   * merged, transformed config: the app's interceptors see one request and one answer.
   */
  const settleAtAdapter = async (config: InternalAxiosRequestConfig, outcome: AdapterOutcome, send: () => AxiosPromise): AxiosPromise => {
    const attempt = attemptOf(config);
    const owned = attempt !== undefined && attempt.owner === owner && attempt.tokenVersion !== 0;
    if (outcome.ok) {
      answered(config, outcome.response.headers);
      return outcome.response;
    }
    const error = outcome.error;
    if (!owned || !axios.isAxiosError(error)) throw error;
    // The response interceptor leaves this request to the adapter (no second count of the same 401).
    attempt.settledAtAdapter = true;
    // Redacted here: an error mapper the app registered before attachAuth sees the error before our interceptor.
    if (resendReason(error, config, attempt) === undefined) throw redactAxiosError(error);
    const token = manager.usable() ?? (await manager.hold(config));
    config.headers.set('Authorization', token.authorization);
    attempt.tokenVersion = token.version;
    // A new DPoP proof for the new send (and the new nonce), as attach gives every request.
    if (dpop !== undefined && token.tokenSet.tokenType === 'DPoP') {
      config.headers.set('DPoP', await dpop.proof({ htm: config.method ?? 'get', url: instance.getUri(config), accessToken: token.tokenSet.accessToken }));
    }
    originCheck(config, config.headers);
    return send();
  };

  const finalCheck = createFinalCheck(owner, guard, allowInsecureHttp, settleAtAdapter);

  /** The replay where the adapter could not be wrapped (see resolveAdapter): through the instance again. */
  const onResponseError = (error: unknown): Promise<AxiosResponse> => {
    if (!axios.isAxiosError(error) || error.config === undefined) {
      // An app interceptor may have wrapped an axios error in its own: clean the one inside.
      cleanCauseChain(error, (inner) => {
        if (inner.config !== undefined && attemptOf(inner.config)?.owner === owner) redactAxiosError(inner);
      });
      return Promise.reject(error);
    }
    const config = error.config;
    const attempt = attemptOf(config);
    // Not a request we sent a token with: left as it is, except that its raw request and a keep-alive
    // agent it shares with requests that did carry a token must not show their headers.
    if (attempt === undefined || attempt.owner !== owner || attempt.tokenVersion === 0) {
      hideRawRequests(error);
      return Promise.reject(error);
    }
    if (attempt.settledAtAdapter) return Promise.reject(redactAxiosError(error));
    const resend = resendReason(error, config, attempt);
    if (resend === undefined) return Promise.reject(redactAxiosError(error));
    config.headers.set('Authorization', REDACTED_AUTHORIZATION);
    return instance.request(config);
  };

  /** Any success with a token ends a 401 back-off (design.md: reset by any success). */
  const onResponse = (response: AxiosResponse): AxiosResponse => {
    // An unwrap step (`r => r.data`) registered before attachAuth runs first: what arrives may be a body.
    const config = (response as Partial<AxiosResponse> | null | undefined)?.config;
    if (config !== undefined && config !== null) answered(config, response.headers);
    return response;
  };

  const requestId = instance.interceptors.request.use(onRequest);
  const responseId = instance.interceptors.response.use(onResponse, onResponseError);
  let detached = false;

  return {
    getToken: () => manager.getToken(),
    refresh: () => manager.refresh(),
    revoke: () => manager.revoke(),
    tokenInfo: () => manager.tokenInfo(),
    introspect: () => manager.introspect(),
    stats: () => manager.stats(),
    detach: () => {
      if (detached) return;
      detached = true;
      instance.interceptors.request.eject(requestId);
      instance.interceptors.response.eject(responseId);
      manager.detach();
      release();
    },
  };
}

/** RFC 6750 §3.1: a token that lacks scope is not a token problem; a new one would not help. */
function isInsufficientScope(response: AxiosResponse): boolean {
  // At the adapter the headers are still as the adapter made them (a plain object, or none from a mock).
  const challenge = headerOf(response.headers, 'www-authenticate');
  return typeof challenge === 'string' && /error\s*=\s*"?insufficient_scope"?/i.test(challenge);
}

function redirectTarget(redirect: RedirectOptions): string {
  if (typeof redirect.href === 'string') return redirect.href;
  const host = redirect.host ?? `${redirect.hostname ?? ''}${redirect.port ? `:${redirect.port}` : ''}`;
  return `${redirect.protocol ?? ''}//${host}/`;
}
