// The errors axios-oauth-queue throws. One base class, a stable `code` on each,
// and a `cause` that has been cleaned of secrets: nothing here may ever carry a
// client secret, a password, a refresh token or an access token.

/** Stable machine-readable codes of the errors this package creates itself. */
export const ErrorCodes = {
  /** `attachAuth` or a preset was given an option it cannot use. */
  INVALID_OPTION: 'ERR_OAUTH_QUEUE_INVALID_OPTION',
  /** The token endpoint could not be reached (DNS, refused, reset). */
  TOKEN_ENDPOINT_UNREACHABLE: 'ERR_TOKEN_ENDPOINT_UNREACHABLE',
  /** The token endpoint did not answer within `tokenRequest.timeout`. */
  TOKEN_ENDPOINT_TIMEOUT: 'ERR_TOKEN_ENDPOINT_TIMEOUT',
  /** The token endpoint answered with an HTTP error and no OAuth error body. */
  TOKEN_ENDPOINT_STATUS: 'ERR_TOKEN_ENDPOINT_STATUS',
  /** The token endpoint answered with something that is not JSON. */
  TOKEN_RESPONSE_NOT_JSON: 'ERR_TOKEN_RESPONSE_NOT_JSON',
  /** The token endpoint answered 2xx with an OAuth error body (`{ error }`). */
  TOKEN_RESPONSE_ERROR_BODY: 'ERR_TOKEN_RESPONSE_ERROR_BODY',
  /** The token response is JSON but not a usable token response (no `access_token`, bad `expires_in`, …). */
  TOKEN_RESPONSE_INVALID: 'ERR_TOKEN_RESPONSE_INVALID',
  /** The token endpoint answered larger than the package accepts. */
  TOKEN_RESPONSE_TOO_LARGE: 'ERR_TOKEN_RESPONSE_TOO_LARGE',
  /** A grant that can run only once (an authorization code) was already spent. */
  GRANT_SPENT: 'ERR_GRANT_SPENT',
  /** The authorization server metadata (`issuer` discovery) is unusable: another issuer, no token endpoint, not JSON. */
  DISCOVERY_FAILED: 'ERR_DISCOVERY_FAILED',
  /** The handle was detached while the operation waited. */
  DETACHED: 'ERR_OAUTH_QUEUE_DETACHED',
  /** A refresh failed with an error from outside this package (a bug, a throwing callback); its name is in `cause`. */
  UNEXPECTED: 'ERR_OAUTH_QUEUE_UNEXPECTED',
  /** attachUserAuth: the user has no token set, or the provider refused their grant; send them to sign in again. */
  LOGIN_REQUIRED: 'ERR_LOGIN_REQUIRED',
  /** attachUserAuth: a request to an allowed origin named no user (no `authSubject`, outside `runAs`). */
  AUTH_SUBJECT_REQUIRED: 'ERR_AUTH_SUBJECT_REQUIRED',
  /** attachUserAuth: the user token store failed, so no refresh token was presented (its rotation could not be kept). */
  USER_TOKEN_STORE_FAILED: 'ERR_USER_TOKEN_STORE',
} as const;

/** One of the codes in `ErrorCodes`. */
export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** What every error of the package may carry. */
export interface BaseErrorOptions {
  /** The underlying failure, already cleaned of secrets. */
  cause?: unknown;
}

/**
 * Each class of error carries a brand on its prototype, a `Symbol.for` symbol, so
 * the ESM and the CommonJS builds (two copies of every class in one process, when
 * a CommonJS dependency and an ES module app both load the package) recognise each
 * other's errors: `instanceof` and `is()` read the brand, not the prototype chain.
 */
const brands = new WeakMap<object, symbol>();

function brand(errorClass: abstract new (...args: never[]) => Error, name: string): void {
  const symbol = Symbol.for(`axios-oauth-queue.${name}`);
  Object.defineProperty(errorClass.prototype, symbol, { value: true, enumerable: false });
  brands.set(errorClass, symbol);
}

function hasBrand(value: unknown, symbol: symbol): boolean {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[symbol] === true;
}

/**
 * `value instanceof errorClass`, across builds for the branded classes; a subclass
 * an app made itself has no brand and gets the ordinary prototype-chain check.
 */
function isInstance(errorClass: object, value: unknown): boolean {
  const symbol = brands.get(errorClass);
  return symbol === undefined ? Function.prototype[Symbol.hasInstance].call(errorClass, value) : hasBrand(value, symbol);
}

/**
 * Base class of every error created by axios-oauth-queue. `instanceof` holds for
 * errors from either build of the package (ESM and CommonJS) in one process, and
 * `OAuthQueueError.is(value)` says the same as a type guard.
 */
export class OAuthQueueError extends Error {
  /** The class name, `OAuthQueueError`. */
  override name = 'OAuthQueueError';

  /** `instanceof` that also holds for an error made by the package's other build (ESM or CommonJS). */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return isInstance(this, value);
  }

  /** True for any error of this package, whichever build (ESM or CommonJS) created it. */
  static is(value: unknown): value is OAuthQueueError {
    return isInstance(OAuthQueueError, value);
  }

  /** A stable machine-readable code; for `OAuthError` it is the server's `error` value. */
  readonly code: string;

  /** Made by the package; `code` is one of `ErrorCodes` (or a server's OAuth `error`). */
  constructor(code: string, message: string, options: BaseErrorOptions = {}) {
    super(message, 'cause' in options ? { cause: options.cause } : undefined);
    this.code = code;
    // One failed refresh rejects every held request with this same object, and axios
    // appends the caller's stack to err.stack each time it passes through a request:
    // with thousands of held requests that grows without bound (quadratic time).
    // A stack that ignores writes keeps the error the size it was made.
    const stack = this.stack;
    Object.defineProperty(this, 'stack', { configurable: true, enumerable: false, get: () => stack, set: () => {} });
  }

  /** True when retrying the same token request later may succeed (network, timeout, 5xx, 429). */
  get transient(): boolean {
    return false;
  }
}

/** The parts of an OAuth error answer, for `new OAuthError()`. */
export interface OAuthErrorOptions extends BaseErrorOptions {
  /** The server's `error` value, e.g. `invalid_client`. */
  code: string;
  /** The server's `error_description`, cleaned of secrets. */
  description?: string | undefined;
  /** The server's `error_uri`. */
  errorUri?: string | undefined;
  /** The HTTP status of the answer. */
  status?: number | undefined;
  /** The `Retry-After` the server sent, in milliseconds. */
  retryAfterMs?: number | undefined;
}

/**
 * The authorization server said no: its answer carried an OAuth error body
 * (`{ "error": "invalid_client", "error_description": "…" }`). `code` is the
 * server's `error` value (RFC 6749 §5.2).
 */
export class OAuthError extends OAuthQueueError {
  /** The class name, `OAuthError`. */
  override name = 'OAuthError';

  /** True for an `OAuthError`, whichever build (ESM or CommonJS) created it. */
  static override is(value: unknown): value is OAuthError {
    return isInstance(OAuthError, value);
  }

  /** The server's `error_description`, with any secret the client sent removed. */
  readonly description: string | undefined;
  /** The server's `error_uri`, when it sent one. */
  readonly errorUri: string | undefined;
  /** The HTTP status of the answer. */
  readonly status: number | undefined;
  /** How long the server asked us to wait (`Retry-After`), in milliseconds. */
  readonly retryAfterMs: number | undefined;

  /** Made by the package from the server's error answer. */
  constructor(message: string, options: OAuthErrorOptions) {
    super(options.code, message, options);
    this.description = options.description;
    this.errorUri = options.errorUri;
    this.status = options.status;
    this.retryAfterMs = options.retryAfterMs;
  }

  /** `temporarily_unavailable`, `server_error`, a 5xx or a 429 may pass; anything else is the server's final word. */
  override get transient(): boolean {
    return (
      this.code === 'temporarily_unavailable' ||
      this.code === 'server_error' ||
      this.code === 'slow_down' ||
      isTransientStatus(this.status)
    );
  }
}

/** What went wrong at the token endpoint, for `new TokenEndpointError()`. */
export interface TokenEndpointErrorOptions extends BaseErrorOptions {
  /** One of `ErrorCodes`, e.g. `ERR_TOKEN_ENDPOINT_TIMEOUT`. */
  code: ErrorCode;
  /** The HTTP status of the answer, when there was one. */
  status?: number | undefined;
  /** The `Retry-After` the server sent, in milliseconds. */
  retryAfterMs?: number | undefined;
  /** The `error` value of a 2xx answer that carried an OAuth error body. */
  oauthCode?: string | undefined;
}

/**
 * The token endpoint could not give a token: unreachable, too slow, an answer
 * that is not JSON, or JSON without a usable `access_token`.
 */
export class TokenEndpointError extends OAuthQueueError {
  /** The class name, `TokenEndpointError`. */
  override name = 'TokenEndpointError';

  /** True for a `TokenEndpointError`, whichever build (ESM or CommonJS) created it. */
  static override is(value: unknown): value is TokenEndpointError {
    return isInstance(TokenEndpointError, value);
  }

  /** The HTTP status of the answer, when there was one. */
  readonly status: number | undefined;
  /** How long the server asked us to wait (`Retry-After`), in milliseconds. */
  readonly retryAfterMs: number | undefined;
  /** The OAuth `error` value of a 2xx answer that carried an error body. */
  readonly oauthCode: string | undefined;

  /** Made by the package when the token endpoint gives no usable answer. */
  constructor(message: string, options: TokenEndpointErrorOptions) {
    super(options.code, message, options);
    this.status = options.status;
    this.retryAfterMs = options.retryAfterMs;
    this.oauthCode = options.oauthCode;
  }

  override get transient(): boolean {
    switch (this.code) {
      case ErrorCodes.TOKEN_ENDPOINT_UNREACHABLE:
      case ErrorCodes.TOKEN_ENDPOINT_TIMEOUT:
      case ErrorCodes.TOKEN_RESPONSE_NOT_JSON:
        return true;
      case ErrorCodes.TOKEN_ENDPOINT_STATUS:
        return isTransientStatus(this.status);
      case ErrorCodes.TOKEN_RESPONSE_ERROR_BODY:
        return this.oauthCode === 'temporarily_unavailable' || this.oauthCode === 'server_error';
      default:
        return false;
    }
  }
}

/** Thrown by `attachAuth` (or a preset) for an option it cannot use; `option` names it. */
export class ConfigurationError extends OAuthQueueError {
  /** The class name, `ConfigurationError`. */
  override name = 'ConfigurationError';

  /** True for a `ConfigurationError`, whichever build (ESM or CommonJS) created it. */
  static override is(value: unknown): value is ConfigurationError {
    return isInstance(ConfigurationError, value);
  }

  /** The option at fault, as a path: `tokenRequest.encoding`. */
  readonly option: string;

  /** `option` is the path of the option at fault; `expected` says what it must be, e.g. `must be a positive number`. */
  constructor(option: string, expected: string) {
    // The cause says what kind of value was refused, never the value itself (it may be a secret).
    super(ErrorCodes.INVALID_OPTION, `axios-oauth-queue: option "${option}" ${expected}`, { cause: new TypeError(`invalid value for ${option}`) });
    this.option = option;
  }
}

brand(OAuthQueueError, 'OAuthQueueError');
brand(OAuthError, 'OAuthError');
brand(TokenEndpointError, 'TokenEndpointError');
brand(ConfigurationError, 'ConfigurationError');

/**
 * Every error this package reports, e.g. to `events.onRefreshError`: each has a string
 * `code` (one of `ErrorCodes`, or the server's OAuth `error` on an `OAuthError`).
 * Narrow with `instanceof` for `status`, `description` and the rest.
 */
export type AuthError = OAuthError | TokenEndpointError | ConfigurationError | OAuthQueueError;

/**
 * `error` as an AuthError: itself when it is one; otherwise wrapped, with only its
 * name (never its message, which may hold anything) carried in the cause.
 */
export function toAuthError(error: unknown): AuthError {
  if (error instanceof OAuthQueueError) return error;
  const name = error instanceof Error ? error.name : typeof error;
  return new OAuthQueueError(ErrorCodes.UNEXPECTED, `axios-oauth-queue: the refresh failed with an unexpected ${name}`, { cause: new Error(name) });
}

/** Why a user must sign in again. */
export type LoginRequiredReason = 'no_token_set' | 'no_refresh_token' | 'grant_refused';

/**
 * attachUserAuth: the user of the request has no usable token set (never signed in,
 * forgotten, evicted, or the provider refused their grant with `invalid_grant`).
 * The token set is forgotten; a BFF answers by sending the user to sign in again.
 * The message never names the user (a subject is often a session id).
 */
export class LoginRequiredError extends OAuthQueueError {
  /** The class name, `LoginRequiredError`. */
  override name = 'LoginRequiredError';
  /** `no_token_set` (nothing stored), `no_refresh_token` (expired, nothing to renew it with) or `grant_refused` (invalid_grant). */
  readonly reason: LoginRequiredReason;

  /** `reason` says why; `options.cause` is the server's refusal when there was one. */
  constructor(reason: LoginRequiredReason, options: BaseErrorOptions = {}) {
    super(ErrorCodes.LOGIN_REQUIRED, `axios-oauth-queue: the user must sign in again (${describeReason(reason)})`, {
      cause: 'cause' in options ? options.cause : new Error(reason),
    });
    this.reason = reason;
  }
}

function describeReason(reason: LoginRequiredReason): string {
  switch (reason) {
    case 'no_token_set':
      return 'no token set is stored for this user';
    case 'no_refresh_token':
      return 'the access token expired and no refresh token is held';
    case 'grant_refused':
      return 'the authorization server refused the refresh token: invalid_grant';
  }
}

/** 408, 425, 429 and every 5xx are worth another try later. */
export function isTransientStatus(status: number | undefined): boolean {
  return status !== undefined && (status === 408 || status === 425 || status === 429 || status >= 500);
}

/** True for errors where another token request later may succeed. */
export function isTransientError(error: unknown): boolean {
  return error instanceof OAuthQueueError && error.transient;
}
