// The options of attachAuth, documented field by field, and the types of grants.
// Validation lives in resolve-options.ts; this file only describes.

import type { AuthError } from './errors.js';
import type { TokenStore } from './stores/token-store.js';
import type { TokenSet } from './token-set.js';
import type { InternalAxiosRequestConfig } from 'axios';
import type { TelemetryOptions } from './telemetry.js';

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
   * How the client authenticates: `body` (client_id and client_secret as parameters, the default),
   * `basic` (HTTP Basic with the form-urlencoded id and secret, RFC 6749 §2.3.1),
   * `private_key_jwt` (a JWT signed with `clientAssertion.key`, RFC 7523) or
   * `client_secret_jwt` (a JWT signed with HMAC-SHA-256 and `clientSecret`), or
   * `tls_client_auth` / `self_signed_tls_client_auth` (the client certificate of `httpsAgent`,
   * RFC 8705). The JWT methods load the `jose` package on first use. See docs/client-authentication.md.
   */
  clientAuth?: 'body' | 'basic' | 'private_key_jwt' | 'client_secret_jwt' | 'tls_client_auth' | 'self_signed_tls_client_auth';
  /**
   * The https agent of token requests (and revocation and introspection). For mTLS (RFC 8705) it carries
   * the client certificate: `new https.Agent({ cert, key })`. Give the API instance an agent with the
   * same certificate when the server binds tokens to it.
   */
  httpsAgent?: HttpsAgentLike;
  /** The key and claims of the client assertion, for `clientAuth: 'private_key_jwt'` or `'client_secret_jwt'`. */
  clientAssertion?: ClientAssertionOptions;
  /** Extra parameters sent with every token request, e.g. `{ audience: 'https://api.example.com' }`. */
  params?: Record<string, string>;
  /** Extra headers sent with every token request. Never used for a Bearer token. */
  headers?: Record<string, string>;
  /**
   * Milliseconds a token request (and a revocation or token info call) may take in all, from
   * sending to the last byte of the answer: a deadline, not axios's idle timeout, so a server
   * that answers one byte at a time cannot hold it longer. Default 10000.
   */
  timeout?: number;
}

/**
 * A node:crypto `KeyObject`, described by its shape so that these declarations do not need
 * `@types/node`: any `KeyObject` of type `"private"` fits.
 */
export interface KeyObjectLike {
  /** `"private"` for a private key. */
  readonly type: string;
  /** `"rsa"`, `"ec"`, `"ed25519"`, … */
  readonly asymmetricKeyType?: string | undefined;
}

/** A private JSON Web Key (RFC 7517), e.g. what `keyObject.export({ format: 'jwk' })` returns. */
export interface PrivateJwk {
  /** The key type: `RSA`, `EC` or `OKP`. */
  kty?: string;
  /** The key's id, used as the default `kid`. */
  kid?: string;
  /** The key's algorithm, used as the default `alg`. */
  alg?: string;
  /** The private member (all key types). */
  d?: string;
  /** EC and OKP: the curve and the public coordinates. */
  crv?: string;
  /** EC and OKP: the public x coordinate. */
  x?: string;
  /** EC: the public y coordinate. */
  y?: string;
  /** RSA: the modulus. */
  n?: string;
  /** RSA: the public exponent. */
  e?: string;
  /** RSA: the first prime factor. */
  p?: string;
  /** RSA: the second prime factor. */
  q?: string;
  /** RSA: the first factor CRT exponent. */
  dp?: string;
  /** RSA: the second factor CRT exponent. */
  dq?: string;
  /** RSA: the first CRT coefficient. */
  qi?: string;
}

/** A private key as users hold it: PEM text, a private JWK, or a node:crypto `KeyObject`. */
export type PrivateKeyInput = string | PrivateJwk | KeyObjectLike;

/** A node:https `Agent`, described by its shape so that these declarations do not need `@types/node`. */
export interface HttpsAgentLike {
  /** The agent's TLS options: for mTLS, `cert` and `key` (or `pfx`). */
  readonly options: object;
}

/**
 * The signed JWT a client authenticates with (RFC 7523 §2.2): `iss` = `sub` = the client id,
 * `aud` = the token endpoint, a new `jti` and `iat`/`exp` for every request.
 *
 * @example
 * tokenRequest: { clientAuth: 'private_key_jwt', clientAssertion: { key: fs.readFileSync('client.key', 'utf8'), kid: 'key-1' } }
 */
export interface ClientAssertionOptions {
  /**
   * The private key for `private_key_jwt`: PEM text (PKCS#8, PKCS#1 or SEC1), a private JWK,
   * or a `KeyObject`. Never logged or put in an error. Not used by `client_secret_jwt`.
   */
  key?: PrivateKeyInput;
  /**
   * The JWS algorithm. For `private_key_jwt`: RS256, PS256, ES256, EdDSA (and their 384/512
   * variants); default from the key (RSA → RS256, P-256 → ES256, Ed25519 → EdDSA, or the JWK's
   * `alg`). For `client_secret_jwt`: HS256 (default), HS384 or HS512.
   */
  alg?: string;
  /** The `kid` header, so the server picks the right key from the client's JWKS. Default: the JWK's `kid`, else none. */
  kid?: string;
  /**
   * The client's X.509 certificate (PEM) for `private_key_jwt`: its SHA-1 and SHA-256 thumbprints
   * go in the `x5t` and `x5t#S256` headers, which Microsoft Entra ID uses to find the key.
   */
  certificate?: string | Uint8Array;
  /** Seconds the assertion is valid (`exp - iat`). Default 60. */
  lifetime?: number;
  /**
   * The `aud` claim: `token_endpoint` (the token endpoint URL, the default, which RFC 7523 and
   * OpenID Connect Core name) or `issuer` (the issuer identifier, as newer profiles such as
   * FAPI 2.0 ask; needs `issuer`).
   */
  audience?: 'token_endpoint' | 'issuer';
}

/**
 * DPoP (RFC 9449): the key that proves possession of the tokens. Without `key`, an ES256 key pair
 * is generated for the handle (the tokens it gets are bound to it, so they die with the process).
 */
export interface DPoPOptions {
  /** The private key of the proofs: PEM text, a private JWK or a `KeyObject`. Default: a generated P-256 key. */
  key?: PrivateKeyInput;
  /** The JWS algorithm (ES256, PS256, RS256, EdDSA, …). Default: inferred from the key; ES256 for a generated key. */
  alg?: string;
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
  /** The token endpoint, e.g. `https://api.mvmnt.io/oauth2/token`. Required unless `issuer` is given. */
  tokenUrl?: string;
  /**
   * The authorization server's issuer identifier, e.g. `https://login.example.com/tenant`, instead of
   * `tokenUrl`: the token, revocation and introspection endpoints, the client authentication methods
   * and the DPoP algorithms are read from its metadata (RFC 8414, OpenID Connect Discovery), once,
   * and its `issuer` must match exactly. See docs/discovery.md.
   */
  issuer?: string;
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
  /**
   * DPoP (RFC 9449): `true` (a generated ES256 key) or `{ key, alg }`. Every token request and every
   * API request then carries a new DPoP proof, tokens are sent as `Authorization: DPoP …`, and server
   * nonces are honoured. Loads the `jose` package on first use. See docs/dpop.md.
   */
  dpop?: boolean | DPoPOptions;
  /**
   * OpenTelemetry: `true` uses `@opentelemetry/api` (an optional peer, imported on first use; a no-op
   * when it is not installed), or give `{ tracer, meter }`. A span per token request and instruments
   * mirroring `handle.stats()`. Default: off. See docs/telemetry.md.
   */
  telemetry?: boolean | TelemetryOptions;
  /** Allow sending the token over plain http to hosts other than loopback. Default false. */
  allowInsecureHttp?: boolean;
  /** Where token sets are cached. Default: a new `MemoryTokenStore` for this handle. */
  store?: TokenStore;
  /**
   * The user or session a `refresh_token` or `authorization_code` grant belongs to, e.g. the
   * user id: part of the token identity, so that handles and processes renewing the same grant
   * share one token set (and one lock) whichever refresh token of it they started from, while
   * two users of one client sharing a store never share one. Without it, every handle of the
   * same client, endpoint, scope and audience with such a grant shares one token set and lock
   * (the workers of one service renewing one grant). Not a secret, but hashed into the store key
   * like the rest of the identity. For many users, see `attachUserAuth`.
   */
  subject?: string;
  /** RFC 7009 revocation endpoint used by `handle.revoke()`. With `issuer`, default: the metadata's `revocation_endpoint`. */
  revocationUrl?: string;
  /**
   * RFC 7662 introspection endpoint used by `handle.introspect()` (POST with the current access token;
   * the client authenticates as at the token endpoint). With `issuer`, the metadata's `introspection_endpoint`.
   */
  introspectionUrl?: string;
  /** Token info endpoint used by `handle.tokenInfo()` (GET with the current Bearer token). */
  tokenInfoUrl?: string;
  /** Retries of transient token endpoint failures. */
  retry?: RetryOptions;
  /**
   * Milliseconds a whole token refresh may take, every attempt and every backoff between
   * attempts included; requests held for the token reject with the last failure once it has
   * passed (no backoff is started that would end after it). With it, a request without its own
   * timeout still settles in bounded time.
   * Default: `tokenRequest.timeout × (retry.limit + 1) + retry.maxDelay × retry.limit`
   * (50000 with the defaults). Example: `refreshTimeout: 15_000`.
   */
  refreshTimeout?: number;
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
