// attachUserAuth: one Axios instance for every signed-in user of a BFF. The request
// interceptor finds the user of each request (authSubject, else the runAs scope) and
// attaches that user's token, or holds the request on that user's single flight; the
// response interceptor replays once on 401 by the token-version rule, per user.

import axios, { type AxiosError, type AxiosInstance, type AxiosPromise, type AxiosResponse, type InternalAxiosRequestConfig } from 'axios';
import { ErrorCodes, LoginRequiredError, OAuthQueueError } from './errors.js';
import { attemptOf, setAttempt } from './request-state.js';
import { claimInstance } from './instance-claim.js';
import { createFinalCheck, createOriginCheck, withFinalCheck, type AdapterOutcome } from './final-check.js';
import { OriginGuard } from './origin-guard.js';
import { refuseClearTextProxy } from './proxy-route.js';
import { REDACTED_AUTHORIZATION, hideRawRequests, isStream, redactAxiosError } from './redact.js';
import type { RevocationResult } from './token-manager.js';
import type { TokenSet } from './token-set.js';
import { resolveUserOptions, type AttachUserAuthOptions } from './user-auth-options.js';
import type { SignInInput } from './user-sign-in.js';
import { UserAuthAttempt, currentScope, runInScope } from './user-subject.js';
import { UserTokenClient, type UserAuthStats } from './user-token-client.js';
import type { UserTokenState } from './user-token-state.js';

/** The Express-style middleware the handle makes: binds the user of each incoming request. */
export type UserAuthMiddleware<Request> = (request: Request, response: unknown, next: (error?: unknown) => void) => void;

/** A Fastify hook (`onRequest`/`preHandler`, callback style) that binds the user of each incoming request. */
export type UserAuthHook<Request> = (request: Request, reply: unknown, done: (error?: Error) => void) => void;

/** What attachUserAuth returns: every user's tokens, on demand, and the way to take it all off again. */
export interface UserAuthHandle {
  /** Runs `fn` with `subject` as the user of every request it makes (AsyncLocalStorage), unless a request names its own `authSubject`. */
  runAs<T>(subject: string, fn: () => T): T;
  /**
   * Express (4 and 5) middleware binding the user of each incoming request, e.g.
   * `app.use(handle.middleware((req) => req.session.id))`. `subjectOf` answering undefined binds no one.
   */
  middleware<Request extends object>(subjectOf: (request: Request) => string | undefined): UserAuthMiddleware<Request>;
  /** A Fastify hook doing the same: `app.addHook('preHandler', handle.fastifyHook((request) => request.session.sessionId))`. */
  fastifyHook<Request extends object>(subjectOf: (request: Request) => string | undefined): UserAuthHook<Request>;
  /**
   * Seeds `subject`'s token set after sign-in, written to the store before anything uses it:
   * the authorization code to exchange here (`{ code, redirectUri, codeVerifier }`), or the
   * tokens a login already produced (a TokenSet, or a raw token response such as openid-client's).
   */
  signIn(subject: string, tokens: SignInInput): Promise<TokenSet>;
  /** Sign-out: revokes the user's refresh token, then access token, at `revocationUrl` (RFC 7009), and forgets them. */
  revoke(subject: string): Promise<RevocationResult>;
  /** Forgets the user's token set here and in the store, without asking the provider. */
  forget(subject: string): Promise<void>;
  /** A valid token set for `subject`, loaded or refreshed when needed; rejects with LoginRequiredError when there is none. */
  getToken(subject: string): Promise<TokenSet>;
  /** Counters for metrics. */
  stats(): UserAuthStats;
  /** Removes both interceptors and every retry timer, and frees the instance. Requests already held still settle. */
  detach(): void;
}

/** Owners of attachUserAuth count down, so that they never equal an attachAuth owner. */
let nextOwner = -1;

/** The parts of follow-redirects' options for the next hop that the redirect guard reads. */
interface RedirectOptions {
  headers?: Record<string, unknown>;
  href?: string;
}

/**
 * Gives one Axios instance the OAuth 2.0 access tokens of every signed-in user of a BFF.
 * Each request carries its own user's token (`authSubject`, or the user bound with
 * `runAs`/the middleware), renewed with that user's refresh token, one single flight per user.
 *
 * @example
 * const api = axios.create({ baseURL: 'https://api.example.com' });
 * const users = attachUserAuth(api, { tokenUrl, clientId, clientSecret, revocationUrl, tokens: new SessionUserTokenStore() });
 * app.use(users.middleware((req) => req.session.id));
 * app.get('/orders', async (req, res) => res.json((await api.get('/orders')).data));
 */
export function attachUserAuth(instance: AxiosInstance, options: AttachUserAuthOptions): UserAuthHandle {
  const resolved = resolveUserOptions(instance, options);
  const { retryStatusCodes, allowInsecureHttp } = resolved.client;
  // A proxy set on the instance decides now where the users' tokens would travel.
  if (!allowInsecureHttp && instance.defaults.proxy) {
    for (const origin of resolved.client.origins) refuseClearTextProxy(origin, instance.defaults.proxy, 'the token');
  }
  const release = claimInstance(instance, 'attachUserAuth');
  const client = new UserTokenClient(resolved);
  const guard = new OriginGuard(resolved.client.origins);
  const owner = nextOwner--;
  /** When each request was first sent and its timeout then, so that a replay cannot restart the clock. */
  const timeBudgets = new WeakMap<UserAuthAttempt, { startedAt: number; timeout: number }>();

  const composedHooks = new WeakSet<object>();
  const guardRedirect = (redirect: RedirectOptions): void => {
    if (redirect.headers === undefined || (typeof redirect.href === 'string' && guard.allowsUrl(redirect.href))) return;
    for (const name of Object.keys(redirect.headers)) {
      if (name.toLowerCase() === 'authorization') delete redirect.headers[name];
    }
  };

  const attach = (config: InternalAxiosRequestConfig, state: UserTokenState, attempt: UserAuthAttempt): InternalAxiosRequestConfig => {
    const tokenSet = state.tokenSet;
    // Forgotten between the refresh and here (a sign-out): nothing of this user's to send.
    if (tokenSet === undefined) throw loginRequired();
    config.headers.set('Authorization', `Bearer ${tokenSet.accessToken}`);
    attempt.tokenVersion = state.version;
    config.transformRequest = withFinalCheck(config.transformRequest, finalCheck);
    const userHook = config.beforeRedirect;
    if (userHook === undefined) config.beforeRedirect = guardRedirect;
    else if (userHook !== guardRedirect && !composedHooks.has(userHook)) {
      // The app's own hook still runs; ours strips the token first when the next hop leaves the origins.
      const composed: typeof userHook = (redirect, response, request) => {
        guardRedirect(redirect as RedirectOptions);
        userHook(redirect, response, request);
      };
      composedHooks.add(composed);
      config.beforeRedirect = composed;
    }
    return config;
  };

  const loginRequired = (): LoginRequiredError => {
    client.recordLoginRequired();
    return new LoginRequiredError('no_token_set');
  };

  const onRequest = (config: InternalAxiosRequestConfig): InternalAxiosRequestConfig | Promise<InternalAxiosRequestConfig> => {
    if (config.skipAuth === true || !guard.allowsRequest(config)) return config;
    const existing = attemptOf(config);
    let attempt: UserAuthAttempt;
    if (existing instanceof UserAuthAttempt && existing.owner === owner) attempt = existing;
    else {
      // The user is decided once per request; its replay is for the same user whatever scope it runs in.
      const subject = config.authSubject ?? currentScope()?.subject;
      if (typeof subject !== 'string' || subject === '') return Promise.reject(subjectRequired(config.authSubject));
      attempt = new UserAuthAttempt(owner, subject);
      setAttempt(config, attempt);
      if (config.timeout !== undefined && config.timeout > 0) timeBudgets.set(attempt, { startedAt: performance.now(), timeout: config.timeout });
    }
    const state = client.stateOf(attempt.subject);
    if (client.usable(state)) return attach(config, state, attempt);
    const held = attempt;
    return client.hold(state, config).then(
      // The object the refresh filled, even if the working set let it go meanwhile (a sign-out empties it).
      () => attach(config, state, held),
      (error: unknown) => {
        if (error instanceof LoginRequiredError) client.recordLoginRequired();
        throw error;
      },
    );
  };

  /**
   * Whether a failed request of a user is replayed once (the 401 rules of design.md, per user),
   * with the side effects of that decision; false when the caller gets the error.
   */
  const shouldReplay = (error: AxiosError, config: InternalAxiosRequestConfig, attempt: UserAuthAttempt): boolean => {
    const response = error.response;
    if (response === undefined || !retryStatusCodes.has(response.status) || isInsufficientScope(response)) return false;
    if (attempt.replayed) {
      // Never a second replay; the refusal still counts towards this user's 401 back-off.
      const state = client.existingState(attempt.subject);
      if (state !== undefined) client.refuse(state, attempt.tokenVersion, true);
      return false;
    }
    if (isStream(config.data)) {
      error.message += ' (not replayed by axios-oauth-queue: the request body is a stream and cannot be sent twice)';
      return false;
    }
    // The replay spends what is left of the request's own timeout, not a new one.
    const budget = timeBudgets.get(attempt);
    if (budget !== undefined) {
      const left = budget.timeout - (performance.now() - budget.startedAt);
      if (left < 1) {
        error.message += ' (not replayed by axios-oauth-queue: the request timeout has already passed)';
        return false;
      }
      config.timeout = Math.ceil(left);
    }
    // Token-version rule, per user: only a 401 for the token this user holds now invalidates it;
    // a late 401 for an older token replays with the current one and costs no token request.
    if (!client.refuse(client.stateOf(attempt.subject), attempt.tokenVersion, false)) {
      error.message += ' (not replayed by axios-oauth-queue: the API refused the last new tokens of this user before accepting any, so 401-driven refreshes pause for a while)';
      return false;
    }
    attempt.replayed = true;
    client.recordReplay();
    config.headers.set('Authorization', REDACTED_AUTHORIZATION);
    client.calls.notify('onReplay', config);
    return true;
  };

  /** A success with a user's token ends that user's 401 back-off (design.md: reset by any success). */
  const answered = (config: InternalAxiosRequestConfig): void => {
    const attempt = attemptOf(config);
    if (!(attempt instanceof UserAuthAttempt) || attempt.owner !== owner || attempt.tokenVersion === 0) return;
    const state = client.existingState(attempt.subject);
    if (state !== undefined) client.accept(state, attempt.tokenVersion);
  };

  /**
   * The replay inside the adapter, as attachAuth does it: a user's 401 that the rules allow to
   * replay waits for that user's new token and goes again with the same merged config, so the
   * app's interceptors, in whatever order they were registered, see one request and one answer.
   */
  const settleAtAdapter = async (config: InternalAxiosRequestConfig, outcome: AdapterOutcome, send: () => AxiosPromise): AxiosPromise => {
    if (outcome.ok) {
      answered(config);
      return outcome.response;
    }
    const error = outcome.error;
    const attempt = attemptOf(config);
    if (!(attempt instanceof UserAuthAttempt) || attempt.owner !== owner || attempt.tokenVersion === 0 || !axios.isAxiosError(error)) throw error;
    attempt.settledAtAdapter = true;
    if (!shouldReplay(error, config, attempt)) throw redactAxiosError(error);
    const state = client.stateOf(attempt.subject);
    if (!client.usable(state)) {
      try {
        await client.hold(state, config);
      } catch (failure) {
        if (failure instanceof LoginRequiredError) client.recordLoginRequired();
        throw failure;
      }
    }
    attach(config, state, attempt);
    originCheck(config, config.headers);
    return send();
  };

  const finalCheck = createFinalCheck(owner, guard, allowInsecureHttp, settleAtAdapter);
  const originCheck = createOriginCheck(owner, guard, allowInsecureHttp);

  /** The replay where the adapter could not be wrapped (axios 1.2–1.4 with a named adapter): through the instance again. */
  const onResponseError = (error: unknown): Promise<AxiosResponse> => {
    if (!axios.isAxiosError(error) || error.config === undefined) return Promise.reject(error);
    const config = error.config;
    const attempt = attemptOf(config);
    if (!(attempt instanceof UserAuthAttempt) || attempt.owner !== owner || attempt.tokenVersion === 0) {
      hideRawRequests(error);
      return Promise.reject(error);
    }
    if (attempt.settledAtAdapter || !shouldReplay(error, config, attempt)) return Promise.reject(redactAxiosError(error));
    return instance.request(config);
  };

  const onResponse = (response: AxiosResponse): AxiosResponse => {
    // An unwrap step (`r => r.data`) registered before attachUserAuth runs first: what arrives may be a body.
    const config = (response as Partial<AxiosResponse> | null | undefined)?.config;
    if (config !== undefined && config !== null) answered(config);
    return response;
  };

  const requestId = instance.interceptors.request.use(onRequest);
  const responseId = instance.interceptors.response.use(onResponse, onResponseError);
  let detached = false;

  const bind =
    <Request extends object>(subjectOf: (request: Request) => string | undefined) =>
    (request: Request, _reply: unknown, next: (error?: Error) => void): void => {
      let subject: string | undefined;
      try {
        subject = subjectOf(request);
      } catch (error) {
        next(error instanceof Error ? error : new Error('subjectOf failed'));
        return;
      }
      if (subject === undefined) next();
      else runInScope({ subject, request, currentSubject: () => subjectOf(request) }, () => next());
    };

  return {
    runAs: (subject, fn) => {
      if (typeof subject !== 'string' || subject === '') throw subjectRequired(subject);
      return runInScope({ subject }, fn);
    },
    middleware: bind,
    fastifyHook: bind,
    signIn: (subject, tokens) => client.signIn(requireSubject(subject), tokens),
    revoke: (subject) => client.revoke(requireSubject(subject)),
    forget: (subject) => client.forget(requireSubject(subject)),
    getToken: async (subject) => {
      try {
        return await client.getToken(requireSubject(subject));
      } catch (error) {
        if (error instanceof LoginRequiredError) client.recordLoginRequired();
        throw error;
      }
    },
    stats: () => client.stats(),
    detach: () => {
      if (detached) return;
      detached = true;
      instance.interceptors.request.eject(requestId);
      instance.interceptors.response.eject(responseId);
      client.detach();
      release();
    },
  };
}

function requireSubject(subject: unknown): string {
  if (typeof subject !== 'string' || subject === '') throw subjectRequired(subject);
  return subject;
}

/** No user for a request that would carry a token: never another user's token, never a client token. */
function subjectRequired(given: unknown): OAuthQueueError {
  const problem = given === undefined ? 'names no user' : 'has an authSubject that is not a non-empty string';
  return new OAuthQueueError(
    ErrorCodes.AUTH_SUBJECT_REQUIRED,
    `axios-oauth-queue: this request ${problem} and runs outside handle.runAs() and the middleware; attachUserAuth sends a token only for a known user ` +
      '(set { authSubject } on the request, bind one with handle.runAs() or handle.middleware(), or send it without a token with { skipAuth: true })',
  );
}

/** RFC 6750 §3.1: a token that lacks scope is not a token problem; a new one would not help. */
function isInsufficientScope(response: AxiosResponse): boolean {
  const challenge = response.headers['www-authenticate'];
  return typeof challenge === 'string' && /error\s*=\s*"?insufficient_scope"?/i.test(challenge);
}
