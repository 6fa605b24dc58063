// Talks to the token endpoint (and the revocation and token info endpoints):
// builds the request in the endpoint's dialect (method, encoding, client
// authentication), sends it on a private Axios instance, and maps every
// answer to a parsed body or a typed error that carries no secret.

import axios, { type AxiosAdapter, type AxiosInstance, type AxiosRequestConfig, type AxiosResponse, type Method } from 'axios';
import type { Agent as HttpsAgent } from 'node:https';
import type { ClientAssertion } from './client-assertion.js';
import type { Discovery } from './discovery.js';
import { headerOf, isTokenEndpointNonceError, type DPoP } from './dpop.js';
import { ConfigurationError, ErrorCodes, OAuthError, TokenEndpointError } from './errors.js';
import { formEncode } from './form-encode.js';
import { refuseClearTextProxy } from './proxy-route.js';
import { redactSecrets } from './secret-scrubber.js';
import { clockOffsetFromDate } from './token-set.js';

/** The largest token endpoint answer read, in bytes. Real answers are a few kilobytes. */
const MAX_RESPONSE_BYTES = 256 * 1024;

/**
 * The adapter token requests travel on. Only specs set `override` (to a mock adapter): a token
 * request never follows `axios.defaults.adapter`, which may be `fetch` (it followed a 307 with
 * the client secret before axios 1.20) or anything an app installed.
 * @internal
 */
export const tokenTransport: { override: AxiosAdapter | undefined } = { override: undefined };

/** axios 1.1 keeps the http adapter itself as the default; read before an app can replace it. */
const defaultAdapterAtLoad: unknown = axios.defaults.adapter;

/** axios's own Node http adapter, however this axios release exposes it. */
function httpAdapter(): NonNullable<AxiosRequestConfig['adapter']> {
  const { getAdapter } = axios as { getAdapter?: typeof axios.getAdapter };
  // From 1.5 on: the function itself, so no later change to how names resolve can matter.
  if (typeof getAdapter === 'function') return getAdapter('http');
  if (typeof defaultAdapterAtLoad === 'function' && defaultAdapterAtLoad.name === 'httpAdapter') return defaultAdapterAtLoad as AxiosAdapter;
  // 1.2 to 1.4 know adapters by name but do not export getAdapter.
  return 'http';
}

export interface TokenEndpointConfig {
  tokenUrl: string;
  clientId: string;
  clientSecret: string | undefined;
  method: 'POST' | 'GET';
  encoding: 'form' | 'json' | 'query';
  clientAuth: 'body' | 'basic' | 'private_key_jwt' | 'client_secret_jwt' | 'tls_client_auth' | 'self_signed_tls_client_auth';
  /** The https agent of token requests: for mTLS (RFC 8705), the one that carries the client certificate. */
  httpsAgent?: HttpsAgent | undefined;
  /** Signs the client assertion of `private_key_jwt` and `client_secret_jwt` (RFC 7523). */
  assertion?: ClientAssertion | undefined;
  /** The `aud` of client assertions: the token endpoint URL (default) or the issuer identifier. */
  assertionAudience?: string | undefined;
  /** DPoP (RFC 9449): a proof on every token request, and the server's nonces. */
  dpop?: DPoP | undefined;
  /** With `issuer`: the server metadata names the endpoints (and, when `clientAuth` was not given, the method). */
  issuer?: string | undefined;
  /** Whether an endpoint URL from the metadata may be used (https, or loopback http, or allowInsecureHttp). */
  checkUrl?: ((url: string) => boolean) | undefined;
  /** True when `clientAuth` was not given and the metadata may choose between `basic` and `body`. */
  clientAuthFromMetadata?: boolean | undefined;
  params: Record<string, string>;
  headers: Record<string, string>;
  timeout: number;
  /** Accept a proxy reached in clear text beyond loopback (`allowInsecureHttp`). Default false. */
  allowInsecureHttp?: boolean;
}

/** A 2xx JSON answer of the token endpoint, with when it arrived and the server's clock offset. */
export interface TokenEndpointAnswer {
  body: unknown;
  receivedAt: number;
  clockOffset: number;
}

/** The `Authorization` value of RFC 6749 §2.3.1: id and secret form-urlencoded, then base64. */
export function basicAuthorization(clientId: string, clientSecret: string): string {
  return `Basic ${Buffer.from(`${formEncode(clientId)}:${formEncode(clientSecret)}`, 'utf8').toString('base64')}`;
}

/** The URL as it may appear in a message: origin and path, never the query string or user info. */
export function describeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

export class TokenEndpoint {
  readonly #config: TokenEndpointConfig;
  readonly #http: AxiosInstance;
  readonly #now: () => number;
  /** Server metadata (`issuer` only); its code is a chunk of its own, loaded only by a client that gives `issuer`. */
  readonly #discovery: Promise<Discovery> | undefined;
  /** Values to scrub from any text a server sends back: the secret, the password, tokens. */
  readonly #secrets: () => readonly (string | undefined)[];

  constructor(config: TokenEndpointConfig, now: () => number, secrets: () => readonly (string | undefined)[]) {
    this.#config = config;
    this.#now = now;
    const { issuer, checkUrl } = config;
    this.#discovery = issuer === undefined ? undefined : import('./discovery.js').then(({ Discovery }) => new Discovery({ issuer, checkUrl: checkUrl ?? (() => true), fetchJson: (url, purpose) => this.fetchJson(url, purpose), now }));
    // Client assertions sent lately are secrets too: a server may echo one back.
    this.#secrets = config.assertion === undefined ? secrets : () => [...secrets(), ...(config.assertion?.recent() ?? [])];
    // A private instance: the user's interceptors never see a token request, and
    // nothing here ever carries a Bearer header. axios.create() starts from
    // axios.defaults, so every setting that decides where the request goes is
    // pinned here: the http adapter (never fetch, xhr or a custom one), no
    // redirects, no baseURL, absolute URLs as given.
    this.#http = axios.create({
      adapter: tokenTransport.override ?? httpAdapter(),
      baseURL: '',
      allowAbsoluteUrls: true,
      timeout: config.timeout,
      maxRedirects: 0,
      maxContentLength: MAX_RESPONSE_BYTES,
      responseType: 'text',
      transformRequest: [(data: unknown) => data],
      transformResponse: [(data: unknown) => data],
      validateStatus: () => true,
      // mTLS (RFC 8705): the client certificate travels with the TLS handshake of every token request.
      ...(config.httpsAgent === undefined ? {} : { httpsAgent: config.httpsAgent }),
    });
    // A proxy set on axios.defaults came with axios.create(): an option that decides now.
    if (this.#http.defaults.proxy) this.#refuseClearTextProxy(config.tokenUrl);
  }

  /** The client secret (and tokens) never cross a proxy in clear text; the environment may change, so each request asks. */
  #refuseClearTextProxy(url: string): void {
    if (this.#config.allowInsecureHttp !== true) refuseClearTextProxy(url, this.#http.defaults.proxy, 'the client secret and tokens');
  }

  /**
   * Runs one token request with these grant parameters and returns the parsed 2xx body.
   * It ends after `tokenRequest.timeout` in all, or after `budgetMs` when that is shorter.
   */
  async requestToken(grantParameters: Record<string, string>, budgetMs = Number.POSITIVE_INFINITY): Promise<TokenEndpointAnswer> {
    const parameters: Record<string, string> = { ...grantParameters, ...this.#config.params };
    const discovery = this.#discovery;
    if (discovery === undefined) return this.#send(this.#config.tokenUrl, this.#config.method, this.#config.encoding, parameters, 'token', false, true, budgetMs);
    try {
      return await this.#send(await this.tokenUrl(), this.#config.method, this.#config.encoding, parameters, 'token', false, true, budgetMs);
    } catch (error) {
      // The endpoint the metadata named is gone or moved: read the metadata again next time.
      if (error instanceof TokenEndpointError && (error.code === ErrorCodes.TOKEN_ENDPOINT_UNREACHABLE || error.status === 404)) (await discovery).invalidate();
      throw error;
    }
  }

  /** The token endpoint URL: from the options, or from the server metadata. */
  async tokenUrl(): Promise<string> {
    const discovery = this.#discovery;
    if (discovery === undefined) return this.#config.tokenUrl;
    const metadata = await (await discovery).metadata();
    // RFC 8705 §5: a client with a certificate uses the mTLS aliases where the server names them.
    return (this.#config.httpsAgent === undefined ? undefined : metadata.mtls_endpoint_aliases?.token_endpoint) ?? metadata.token_endpoint;
  }

  /** An endpoint the server metadata names (`issuer` discovery only), or undefined. */
  async discoveredUrl(name: 'revocation_endpoint' | 'introspection_endpoint'): Promise<string | undefined> {
    const discovery = this.#discovery;
    if (discovery === undefined) return undefined;
    const metadata = await (await discovery).metadata();
    return (this.#config.httpsAgent === undefined ? undefined : metadata.mtls_endpoint_aliases?.[name]) ?? metadata[name];
  }

  /** GETs `url` (no credentials) and returns its parsed JSON body: the server metadata document. */
  async fetchJson(url: string, purpose: string): Promise<unknown> {
    const response = await this.#exchange(url, { method: 'GET', url, headers: { Accept: 'application/json', Authorization: false } });
    return this.#readAnswer(response, url, purpose).body;
  }

  /** RFC 7662: asks the server about `token`, authenticating the client as for a token request. */
  async introspectToken(introspectionUrl: string, token: string): Promise<unknown> {
    return (await this.#send(introspectionUrl, 'POST', 'form', { token, token_type_hint: 'access_token' }, 'introspection')).body;
  }

  /** RFC 7009: asks the server to revoke `token`. Resolves on 200 whatever the token's state. */
  async revokeToken(revocationUrl: string, token: string, tokenTypeHint: 'access_token' | 'refresh_token'): Promise<void> {
    await this.#send(revocationUrl, 'POST', 'form', { token, token_type_hint: tokenTypeHint }, 'revocation', true);
  }

  /** GET the token info endpoint with the access token and return its parsed body. */
  async tokenInfo(tokenInfoUrl: string, accessToken: string): Promise<unknown> {
    const response = await this.#exchange(tokenInfoUrl, {
      method: 'GET',
      url: tokenInfoUrl,
      headers: { Accept: 'application/json', Authorization: `Bearer ${accessToken}` },
    });
    return this.#readAnswer(response, tokenInfoUrl, 'token info').body;
  }

  async #send(
    url: string,
    method: 'POST' | 'GET',
    encoding: 'form' | 'json' | 'query',
    parameters: Record<string, string>,
    purpose: string,
    emptyBodyIsFine = false,
    nonceRetry = true,
    budgetMs = Number.POSITIVE_INFINITY,
  ): Promise<TokenEndpointAnswer> {
    const { clientId, clientSecret } = this.#config;
    const dpop = purpose === 'token' ? this.#config.dpop : undefined;
    const clientAuth = this.#config.clientAuthFromMetadata === true ? await this.#clientAuthFromMetadata() : this.#config.clientAuth;
    const all: Record<string, string> = { ...parameters };
    const headers: Record<string, string | false> = { Accept: 'application/json', ...this.#config.headers };
    if (clientAuth === 'basic') {
      headers['Authorization'] = basicAuthorization(clientId, clientSecret ?? '');
    } else {
      if (this.#config.assertion !== undefined) {
        // Signed anew for every request: a server spends each jti once (RFC 7523 §3).
        Object.assign(all, await this.#config.assertion.parameters(this.#config.assertionAudience ?? (await this.tokenUrl())));
      } else {
        all['client_id'] = clientId;
        // With mTLS the certificate authenticates the client (RFC 8705 §2): no secret goes in the body.
        if (clientSecret !== undefined && clientAuth !== 'tls_client_auth' && clientAuth !== 'self_signed_tls_client_auth') all['client_secret'] = clientSecret;
      }
      // Whatever axios.defaults say, a token request never carries an Authorization header.
      headers['Authorization'] = false;
    }
    let target = url;
    let data: string | undefined;
    if (encoding === 'query') {
      const query = new URLSearchParams(all).toString();
      target = `${url}${url.includes('?') ? '&' : '?'}${query}`;
    } else if (encoding === 'json') {
      data = JSON.stringify(all);
      headers['Content-Type'] = 'application/json';
    } else {
      data = Object.entries(all)
        .map(([name, value]) => `${formEncode(name)}=${formEncode(value)}`)
        .join('&');
      headers['Content-Type'] = 'application/x-www-form-urlencoded';
    }
    if (dpop !== undefined) headers['DPoP'] = await this.#proof(dpop, method, url);
    const response = await this.#exchange(url, { method: method as Method, url: target, headers, data }, budgetMs);
    // RFC 9449 §8: one more try with the server's nonce, rebuilt whole: oidc-provider authenticates the
    // client before it checks the proof, so the first assertion's jti is spent and a new one is signed.
    if (dpop !== undefined && dpop.rememberNonce(url, headerOf(response.headers, 'dpop-nonce')) && nonceRetry && isTokenEndpointNonceError(response.status, response.data)) {
      return this.#send(url, method, encoding, parameters, purpose, emptyBodyIsFine, false, budgetMs);
    }
    return this.#readAnswer(response, url, purpose, emptyBodyIsFine);
  }

  /** A DPoP proof for the token endpoint, in an algorithm the server metadata (when read) accepts. */
  async #proof(dpop: DPoP, method: string, url: string): Promise<string> {
    const accepted = this.#discovery === undefined ? undefined : (await (await this.#discovery).metadata()).dpop_signing_alg_values_supported;
    if (accepted !== undefined && !accepted.includes(dpop.alg)) {
      throw new ConfigurationError('dpop.alg', `is ${dpop.alg}, which the server does not accept for DPoP proofs (it lists ${accepted.join(', ')})`);
    }
    return dpop.proof({ htm: method, url });
  }

  /** RFC 8414 §2: without a list the server supports client_secret_basic; Basic is preferred where both are listed. */
  async #clientAuthFromMetadata(): Promise<TokenEndpointConfig['clientAuth']> {
    const methods = this.#discovery === undefined ? undefined : (await (await this.#discovery).metadata()).token_endpoint_auth_methods_supported;
    if (methods === undefined || methods.includes('client_secret_basic')) return 'basic';
    return methods.includes('client_secret_post') ? 'body' : this.#config.clientAuth;
  }

  /**
   * Sends one request; network failures become TokenEndpointError with a scrubbed cause.
   * axios's `timeout` only bounds the time between two chunks (a server that drips a byte at a
   * time holds it forever), so an abort signal bounds the whole exchange: a deadline.
   */
  async #exchange(
    url: string,
    request: { method: Method; url: string; headers: Record<string, string | false>; data?: string | undefined },
    budgetMs = Number.POSITIVE_INFINITY,
  ): Promise<AxiosResponse<string>> {
    this.#refuseClearTextProxy(url);
    const limit = Math.max(1, Math.min(this.#config.timeout, budgetMs));
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), limit);
    try {
      return await this.#http.request<string>({ ...request, timeout: limit, signal: deadline.signal });
    } catch (error) {
      throw describeNetworkFailure(error, url, (text) => this.#scrub(text), deadline.signal.aborted ? limit : undefined);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Maps an HTTP answer to a parsed body or the error it means. */
  #readAnswer(response: AxiosResponse<string>, url: string, purpose: string, emptyBodyIsFine = false): TokenEndpointAnswer {
    const receivedAt = this.#now();
    const where = describeUrl(url);
    const { status } = response;
    const text = typeof response.data === 'string' ? response.data : '';
    const retryAfterMs = parseRetryAfter(response.headers['retry-after'], receivedAt);
    const body = parseJson(text);
    const clockOffset = clockOffsetFromDate(response.headers['date'], receivedAt);
    // Everything the server chose is scrubbed where it is read: it may echo what we sent, in any spelling.
    const contentType = this.#scrub(describeContentType(response));
    const oauthCode = body === undefined ? undefined : this.#scrubCode(readOAuthErrorCode(body));

    if (status >= 200 && status < 300) {
      if (emptyBodyIsFine && text.trim() === '') return { body: undefined, receivedAt, clockOffset };
      if (body === undefined) {
        throw new TokenEndpointError(`The ${purpose} endpoint ${where} answered ${status} with a body that is not JSON (${contentType})`, {
          code: ErrorCodes.TOKEN_RESPONSE_NOT_JSON,
          status,
          cause: new Error(`HTTP ${status}, ${text.length} characters of ${contentType}`),
        });
      }
      if (oauthCode !== undefined) {
        throw new TokenEndpointError(
          `The ${purpose} endpoint ${where} answered ${status} but its body is an OAuth error: ${this.#describeOAuthError(body, oauthCode)}`,
          { code: ErrorCodes.TOKEN_RESPONSE_ERROR_BODY, status, oauthCode, cause: new Error(`HTTP ${status} with error ${oauthCode}`) },
        );
      }
      return { body, receivedAt, clockOffset };
    }

    if (oauthCode !== undefined) {
      const description = this.#readDescription(body);
      const errorUri = (body as { error_uri?: unknown }).error_uri;
      throw new OAuthError(`The ${purpose} endpoint ${where} answered ${status} ${this.#describeOAuthError(body, oauthCode)}`, {
        code: oauthCode,
        description,
        // A server may echo what it was sent here too (a query string with the client secret).
        errorUri: typeof errorUri === 'string' ? this.#scrub(errorUri) : undefined,
        status,
        retryAfterMs,
        cause: new Error(`HTTP ${status} with error ${oauthCode}`),
      });
    }
    throw new TokenEndpointError(`The ${purpose} endpoint ${where} answered ${status} without an OAuth error body (${contentType})`, {
      code: ErrorCodes.TOKEN_ENDPOINT_STATUS,
      status,
      retryAfterMs,
      cause: new Error(`HTTP ${status}`),
    });
  }

  #readDescription(body: unknown): string | undefined {
    const description = (body as { error_description?: unknown }).error_description;
    if (typeof description !== 'string') return undefined;
    // A server may echo what it was sent; keep the description short and clean.
    return this.#scrub(description).slice(0, 500);
  }

  /** Text from the server (or about its answer) without any secret on the scrub list, in any spelling. */
  #scrub(text: string): string {
    return redactSecrets(text, this.#secrets());
  }

  /**
   * The OAuth `error` value is the server's too: it may echo a secret (it then reads
   * `invalid_client:[REDACTED]`). A registered code is kept whole, so that a short
   * development secret such as "client" cannot turn `invalid_client` into another code.
   */
  #scrubCode(code: string | undefined): string | undefined {
    return code === undefined || REGISTERED_ERROR_CODES.has(code) ? code : this.#scrub(code);
  }

  #describeOAuthError(body: unknown, code: string): string {
    const description = this.#readDescription(body);
    return description === undefined ? code : `${code}: ${description}`;
  }
}

/** Error codes of RFC 6749 §5.2 and §4.1.2.1, RFC 6750 §3.1, RFC 7009 §2.2.1, RFC 8628 §3.5 and RFC 8707 §2. */
const REGISTERED_ERROR_CODES = new Set([
  'invalid_request',
  'invalid_client',
  'invalid_grant',
  'unauthorized_client',
  'unsupported_grant_type',
  'invalid_scope',
  'access_denied',
  'unsupported_response_type',
  'server_error',
  'temporarily_unavailable',
  'invalid_token',
  'insufficient_scope',
  'unsupported_token_type',
  'authorization_pending',
  'slow_down',
  'expired_token',
  'invalid_target',
]);

function readOAuthErrorCode(body: unknown): string | undefined {
  if (body === null || typeof body !== 'object') return undefined;
  const code = (body as { error?: unknown }).error;
  // The code is a short ASCII word (RFC 6749 §5.2); anything else is not an OAuth error body.
  return typeof code === 'string' && /^[\x20-\x21\x23-\x5B\x5D-\x7E]{1,100}$/.test(code) ? code : undefined;
}

function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function describeContentType(response: AxiosResponse): string {
  const type = response.headers['content-type'];
  return typeof type === 'string' && type !== '' ? type.split(';')[0]!.trim() : 'no content type';
}

/** Retry-After is delay-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: unknown, now: number): number | undefined {
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Turns an axios network error into a TokenEndpointError whose cause holds only the error code. */
function describeNetworkFailure(error: unknown, url: string, scrub: (text: string) => string, deadlineMs?: number): TokenEndpointError {
  const where = describeUrl(url);
  const code = axios.isAxiosError(error) ? error.code : undefined;
  const cause = new Error(scrub(`${code ?? 'network error'}${axios.isAxiosError(error) && error.cause instanceof Error ? ` (${error.cause.message.replace(/https?:\/\/\S+/g, '<url>')})` : ''}`));
  // `deadlineMs` is set when the exchange was aborted because its deadline passed.
  if (deadlineMs !== undefined || code === 'ECONNABORTED' || code === 'ETIMEDOUT') {
    const within = deadlineMs === undefined ? 'in time' : `within ${deadlineMs} ms`;
    return new TokenEndpointError(`The token endpoint ${where} did not answer ${within}`, { code: ErrorCodes.TOKEN_ENDPOINT_TIMEOUT, cause });
  }
  if (code === 'ERR_FR_MAX_BODY_LENGTH_EXCEEDED' || code === 'ERR_BAD_RESPONSE') {
    return new TokenEndpointError(`The token endpoint ${where} answered with a body over ${MAX_RESPONSE_BYTES} bytes`, {
      code: ErrorCodes.TOKEN_RESPONSE_TOO_LARGE,
      cause,
    });
  }
  return new TokenEndpointError(`The token endpoint ${where} could not be reached (${code ?? 'network error'})`, {
    code: ErrorCodes.TOKEN_ENDPOINT_UNREACHABLE,
    cause,
  });
}
