// The options of attachAuth, documented field by field, and the types of grants.
// Validation lives in resolve-options.ts; this file only describes.

import type { AuthError } from './errors.js';
import type { TokenStore } from './stores/token-store.js';
import type { TokenSet } from './token-set.js';
import type { InternalAxiosRequestConfig } from 'axios';

/** The client credentials grant (RFC 6749 §4.4): the application acts for itself. The default. */
export interface ClientCredentialsGrant {
  /** The grant type, sent as `grant_type`. */
  type: 'client_credentials';
}

/** The resource owner password credentials grant (RFC 6749 §4.3). */
export interface PasswordGrant {
  /** The grant type, sent as `grant_type`. */
  type: 'password';
  /** The resource owner's user name. */
  username: string;
  /** The resource owner's password. Never logged or put in an error. */
  password: string;
}

/** Start from a refresh token stored earlier (RFC 6749 §6). */
export interface RefreshTokenGrant {
  /** The grant type, sent as `grant_type`. */
  type: 'refresh_token';
  /** A refresh token kept from an earlier session; with a rotating provider, the newest one. */
  refreshToken: string;
}

/**
 * Exchange an authorization code (RFC 6749 §4.1.3), exactly once. Renewals then use
 * the refresh token the server returned.
 */
export interface AuthorizationCodeGrant {
  /** The grant type, sent as `grant_type`. */
  type: 'authorization_code';
  /** The code from the redirect (`?code=…`). */
  code: string;
  /** The redirect URI the authorization request used; the server checks they match. */
  redirectUri: string;
  /** The PKCE code verifier (RFC 7636) when the authorization request carried a code challenge. */
  codeVerifier?: string;
}

/** The grant used to get the first token: one of the four grant objects, told apart by `type`. */
export type Grant = ClientCredentialsGrant | PasswordGrant | RefreshTokenGrant | AuthorizationCodeGrant;

/** How the token request is sent: the "dialect" of a token endpoint. */
export interface TokenRequestOptions {
  /** HTTP method of the token request. Default `POST`; Musement uses `GET`. */
  method?: 'POST' | 'GET';
  /**
   * Where the parameters go: `form` (application/x-www-form-urlencoded body, the default),
   * `json` (a JSON body, as MyParcel.com wants) or `query` (the query string, as Musement wants).
   */
  encoding?: 'form' | 'json' | 'query';
  /**
   * How the client authenticates: `body` (client_id and client_secret as parameters, the default)
   * or `basic` (HTTP Basic with the form-urlencoded id and secret, RFC 6749 §2.3.1).
   */
  clientAuth?: 'body' | 'basic';
  /** Extra parameters sent with every token request, e.g. `{ audience: 'https://api.example.com' }`. */
  params?: Record<string, string>;
  /** Extra headers sent with every token request. Never used for a Bearer token. */
  headers?: Record<string, string>;
  /** Milliseconds before a token request is abandoned. Default 10000. */
  timeout?: number;
}

/** How transient token endpoint failures (network, timeout, 5xx, 429) are retried. */
export interface RetryOptions {
  /** Further attempts after the first one fails. Default 2. */
  limit?: number;
  /** Delay before the first retry, ms; doubles each time, with jitter. Default 250. */
  baseDelay?: number;
  /** The longest delay between attempts, ms; a `Retry-After` asking for longer ends the retries. Default 10000. */
  maxDelay?: number;
}

/** Where a token set handed to `onToken` came from. */
export interface TokenSetSource {
  /**
   * `'endpoint'`: this handle got it from the token endpoint (a new grant or refresh; persist
   * it). `'store'`: another handle or process got it and this handle took it from the store (a copy).
   */
  source: 'endpoint' | 'store';
}

/**
 * Callbacks for metrics and logs. None of them receives a secret other than the token set in `onToken`.
 * A callback that throws (or returns a rejected promise) never fails a request, stalls the queue or
 * loses a token: the failure is reported once through the logger, at `warn`.
 */
export interface AuthEvents {
  /**
   * A new token set is in use, from the token endpoint or the store. Called after the set was
   * written to the store and before any request is sent with it, e.g.
   * `onToken: (tokenSet, { source }) => { if (source === 'endpoint') saveRefreshToken(tokenSet.refreshToken); }`.
   */
  onToken?: (tokenSet: TokenSet, details: TokenSetSource) => void;
  /**
   * A refresh failed; held requests reject with this same error (one from outside the
   * package, such as a bug, arrives here wrapped with code `ERR_OAUTH_QUEUE_UNEXPECTED`).
   * `error.code` needs no cast: `if (error.code === 'invalid_client') page()`.
   */
  onRefreshError?: (error: AuthError) => void;
  /** A request is about to be replayed after a 401. */
  onReplay?: (config: InternalAxiosRequestConfig) => void;
}

/**
 * Where log lines go. Lines never contain a secret or a token. Each method is called
 * on the logger (`logger.warn(line)`), so pino, winston, bunyan and `console` can be
 * passed as they are; every level is optional. A level the logger lacks falls back:
 * `error` to `warn`, `info` to `debug`. A logger that throws is ignored.
 *
 * @example
 * attachAuth(api, { ...options, logger: pino() });
 * attachAuth(api, { ...options, logger: console });
 */
export interface AuthLogger {
  /** Routine detail: a new token set, a retry. */
  debug?: (message: string) => void;
  /** Notable events that need no action: a refused refresh token replaced by running the grant again. */
  info?: (message: string) => void;
  /** Transient failures (the package retries), store trouble, an event callback that threw. */
  warn?: (message: string) => void;
  /** Terminal failures of a refresh (invalid_client, a refused grant): requests fail until it is fixed. */
  error?: (message: string) => void;
}

/** A clock, for tests: `now()` returns epoch milliseconds. */
export interface AuthClock {
  /** The current time in epoch milliseconds. */
  now(): number;
}

/** The options of `attachAuth`. */
export interface AttachAuthOptions {
  /** The token endpoint, e.g. `https://api.mvmnt.io/oauth2/token`. Required. */
  tokenUrl: string;
  /** The client identifier issued by the provider. Required. */
  clientId: string;
  /** The client secret. Optional for public clients. Never logged or put in an error. */
  clientSecret?: string;
  /** The grant used to get the first token. Default `{ type: 'client_credentials' }`. */
  grant?: Grant;
  /** Scope to ask for: a space-separated string or an array, e.g. `'*'` or `['read', 'write']`. */
  scope?: string | readonly string[];
  /** The dialect of the token endpoint. */
  tokenRequest?: TokenRequestOptions;
  /**
   * Seconds before expiry when a background refresh starts while the token keeps being used.
   * Never more than half the token's lifetime. Default 60.
   */
  refreshWindow?: number;
  /** Lifetime in seconds to assume when the token response gives none. Default: none (the token lives until a 401). */
  defaultExpiresIn?: number;
  /** Response statuses that mean "the token was not accepted". Default `[401]`. */
  retryStatusCodes?: readonly number[];
  /**
   * The origins the token may be sent to, e.g. `['https://api.mvmnt.io']`.
   * Default: the origin of the instance's `baseURL`; required when the instance has none.
   */
  origins?: readonly string[];
  /**
   * Origins to allow when `origins` is not given and the instance has no `baseURL`.
   * Presets set it to the provider's API origin; the instance's `baseURL`, when it has one, wins.
   */
  defaultOrigins?: readonly string[];
  /** Allow sending the token over plain http to hosts other than loopback. Default false. */
  allowInsecureHttp?: boolean;
  /** Where token sets are cached. Default: a new `MemoryTokenStore` for this handle. */
  store?: TokenStore;
  /**
   * The user or session a `refresh_token` or `authorization_code` grant belongs to, e.g. the
   * user id: part of the token identity, so that handles and processes renewing the same grant
   * share one token set (and one lock) whichever refresh token of it they started from, while
   * two users never share one. Required for those grants with a store that has a lock (such
   * as `RedisTokenStore`); without it such a handle shares its token set with no other handle.
   * Not a secret, but hashed into the store key like the rest of the identity.
   */
  subject?: string;
  /** RFC 7009 revocation endpoint used by `handle.revoke()`. */
  revocationUrl?: string;
  /** Token info endpoint used by `handle.tokenInfo()` (GET with the current Bearer token). */
  tokenInfoUrl?: string;
  /** Retries of transient token endpoint failures. */
  retry?: RetryOptions;
  /** Milliseconds during which requests fail at once with the last terminal error (bad secret). Default 2000. */
  failureCoolDown?: number;
  /** Callbacks for metrics. */
  events?: AuthEvents;
  /** Where debug and warning lines go. Default: nowhere. */
  logger?: AuthLogger;
  /** The clock; for tests. Default `Date`. */
  clock?: AuthClock;
}

// The one per-request option, as axios plugins add theirs: a module augmentation,
// so that `instance.get(url, { skipAuth: true })` type-checks. It lives here, with
// the other options, so the bundled declarations carry it.
declare module 'axios' {
  interface AxiosRequestConfig {
    /** Send this request without a token (axios-oauth-queue). Default false. */
    skipAuth?: boolean;
  }
}
