// Talks to the token endpoint (and the revocation and token info endpoints):
// builds the request in the endpoint's dialect (method, encoding, client
// authentication), sends it on a private Axios instance, and maps every
// answer to a parsed body or a typed error that carries no secret.

import axios, { type AxiosInstance, type AxiosResponse, type Method } from 'axios';
import { ErrorCodes, OAuthError, TokenEndpointError } from './errors.js';
import { formEncode } from './form-encode.js';
import { redactSecrets } from './secret-scrubber.js';
import { clockOffsetFromDate } from './token-set.js';

/** The largest token endpoint answer read, in bytes. Real answers are a few kilobytes. */
const MAX_RESPONSE_BYTES = 256 * 1024;

export interface TokenEndpointConfig {
  tokenUrl: string;
  clientId: string;
  clientSecret: string | undefined;
  method: 'POST' | 'GET';
  encoding: 'form' | 'json' | 'query';
  clientAuth: 'body' | 'basic';
  params: Record<string, string>;
  headers: Record<string, string>;
  timeout: number;
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
  /** Values to scrub from any text a server sends back: the secret, the password, tokens. */
  readonly #secrets: () => readonly (string | undefined)[];

  constructor(config: TokenEndpointConfig, now: () => number, secrets: () => readonly (string | undefined)[]) {
    this.#config = config;
    this.#now = now;
    this.#secrets = secrets;
    // A private instance: the user's interceptors never see a token request, and
    // nothing here ever carries a Bearer header.
    this.#http = axios.create({
      timeout: config.timeout,
      maxRedirects: 0,
      maxContentLength: MAX_RESPONSE_BYTES,
      responseType: 'text',
      transformRequest: [(data: unknown) => data],
      transformResponse: [(data: unknown) => data],
      validateStatus: () => true,
    });
  }

  /** Runs one token request with these grant parameters and returns the parsed 2xx body. */
  async requestToken(grantParameters: Record<string, string>): Promise<TokenEndpointAnswer> {
    const parameters: Record<string, string> = { ...grantParameters, ...this.#config.params };
    return this.#send(this.#config.tokenUrl, this.#config.method, this.#config.encoding, parameters, 'token');
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
  ): Promise<TokenEndpointAnswer> {
    const { clientId, clientSecret, clientAuth } = this.#config;
    const all: Record<string, string> = { ...parameters };
    const headers: Record<string, string | false> = { Accept: 'application/json', ...this.#config.headers };
    if (clientAuth === 'basic') {
      headers['Authorization'] = basicAuthorization(clientId, clientSecret ?? '');
    } else {
      all['client_id'] = clientId;
      if (clientSecret !== undefined) all['client_secret'] = clientSecret;
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
    const response = await this.#exchange(url, { method: method as Method, url: target, headers, data });
    return this.#readAnswer(response, url, purpose, emptyBodyIsFine);
  }

  /** Sends one request; network failures become TokenEndpointError with a scrubbed cause. */
  async #exchange(
    url: string,
    request: { method: Method; url: string; headers: Record<string, string | false>; data?: string | undefined },
  ): Promise<AxiosResponse<string>> {
    try {
      return await this.#http.request<string>(request);
    } catch (error) {
      throw describeNetworkFailure(error, url, (text) => this.#scrub(text));
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
function describeNetworkFailure(error: unknown, url: string, scrub: (text: string) => string): TokenEndpointError {
  const where = describeUrl(url);
  const code = axios.isAxiosError(error) ? error.code : undefined;
  const cause = new Error(scrub(`${code ?? 'network error'}${axios.isAxiosError(error) && error.cause instanceof Error ? ` (${error.cause.message.replace(/https?:\/\/\S+/g, '<url>')})` : ''}`));
  if (code === 'ECONNABORTED' || code === 'ETIMEDOUT') {
    return new TokenEndpointError(`The token endpoint ${where} did not answer in time`, { code: ErrorCodes.TOKEN_ENDPOINT_TIMEOUT, cause });
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
