// A loopback OAuth 2.0 token endpoint and protected API in one node:http server
// (127.0.0.1, port 0), with knobs (revoke, hold, fail, token lifetime, always 401,
// insufficient scope) and counters, for the integration suites. A second,
// "foreign" server records the Authorization headers that reach it, so a test
// can prove the token never went there. Built for reuse: copy it freely.
//
// Routes of the main server:
//   /token            token endpoint (any method; form, JSON or query parameters; body or Basic client auth)
//   /public/...       answers 200 without looking at a token
//   /redirect?to=URL  answers 302 to URL
//   anything else     protected API: 200 for a valid Bearer token, 401 otherwise

import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { deferred, within, type Deferred } from './deferred.js';
import { bearerToken, listen, mediaType, sendJson } from './emulators/loopback.js';
import { rememberSecrets } from './secret-sweep.js';

/** What the token endpoint received, parsed, so tests can assert the dialect. */
export interface TokenRequestRecord {
  method: string;
  /** The media type of the body, lower-case, without parameters ('' when none). */
  contentType: string;
  /** Every parameter, from the query string and the body (form or JSON) together. */
  params: Record<string, string>;
  /** The parameters of the query string alone. */
  query: Record<string, string>;
  /** The raw `Authorization` header, if any. */
  authorization: string | undefined;
  /** The client id and secret, from the body or from HTTP Basic (RFC 6749 §2.3.1). */
  clientId: string | undefined;
  clientSecret: string | undefined;
  headers: IncomingHttpHeaders;
}

/** One request the API (or the foreign server) received. */
export interface ApiRequestRecord {
  method: string;
  path: string;
  host: string | undefined;
  authorization: string | undefined;
  /** The `x-request-id` header, which the tests use to count sends of one request. */
  requestId: string | undefined;
}

/** Ways the token endpoint can fail. */
export type TokenFault =
  | 'status-500'
  | 'status-503'
  | 'invalid_client'
  | 'invalid_grant'
  | 'html'
  | 'no-access-token'
  | 'reset'
  | 'hang';

export interface TokenFaultOptions {
  /** A `Retry-After` header value for the status faults (and the OAuth errors). */
  retryAfter?: string;
  /** The `error_description` of an OAuth error, built from the request (to echo what a client sent). */
  description?: (request: TokenRequestRecord) => string;
  /** The `error_uri` of an OAuth error, built from the request. */
  errorUri?: (request: TokenRequestRecord) => string;
  /** Fail only this many token requests, then answer normally. Default: until `restoreTokenEndpoint()`. */
  times?: number;
}

/** How a held API request is answered once released. */
export type ApiAnswer = 'normal' | 'unauthorized';

export interface ApiHold {
  /** Resolves with the first held request, once it has arrived. */
  readonly arrived: Promise<ApiRequestRecord>;
  /** Answers every held request: `normal` validates its token as usual, `unauthorized` answers 401. */
  release(answer?: ApiAnswer): void;
}

export interface TestServerOptions {
  /** When set, token requests must authenticate as this client (else 400 invalid_client). */
  clientId?: string;
  clientSecret?: string;
  /** username → password accepted by the password grant; when unset any pair is accepted. */
  users?: Record<string, string>;
  /** `expires_in` of the tokens issued; undefined leaves it out. Default 3600. */
  expiresIn?: number | string | undefined;
  /** Issue a refresh token with each access token (rotated on every refresh). Default false. */
  issueRefreshTokens?: boolean;
  /** The server's clock, for the `Date` header. Default `Date.now`. */
  now?: () => number;
}

export interface ForeignServer {
  readonly origin: string;
  /** Every request received, with the Authorization header it carried. */
  readonly requests: ApiRequestRecord[];
  close(): Promise<void>;
}

function record(search: URLSearchParams): Record<string, string> {
  return Object.fromEntries(search);
}

function parseTokenRequest(request: IncomingMessage, url: URL, body: string): TokenRequestRecord {
  const contentType = mediaType(request);
  const query = record(url.searchParams);
  let bodyParams: Record<string, string> = {};
  if (contentType === 'application/json') {
    try {
      const parsed = JSON.parse(body) as unknown;
      if (parsed !== null && typeof parsed === 'object') {
        bodyParams = Object.fromEntries(Object.entries(parsed).map(([name, value]) => [name, String(value)]));
      }
    } catch {
      // A body that is not JSON carries no parameters.
    }
  } else if (body !== '') {
    bodyParams = record(new URLSearchParams(body));
  }
  const params = { ...query, ...bodyParams };
  const authorization = request.headers.authorization;
  let clientId = params['client_id'];
  let clientSecret = params['client_secret'];
  const basic = /^basic\s+(\S+)$/i.exec(authorization ?? '');
  if (basic !== null) {
    const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const unform = (text: string): string => decodeURIComponent(text.replace(/\+/g, ' '));
    clientId = unform(decoded.slice(0, colon));
    clientSecret = unform(decoded.slice(colon + 1));
  }
  return { method: request.method ?? '', contentType, params, query, authorization, clientId, clientSecret, headers: request.headers };
}

export class TestServer {
  origin = '';
  tokenUrl = '';
  /** Token requests received, whatever the answer. */
  tokenRequests = 0;
  /** Token requests received and not yet answered (held, hanging or being answered). */
  tokenRequestsInFlight = 0;
  /** The most token requests ever in flight at once. */
  maxTokenRequestsInFlight = 0;
  /** Every token request, parsed, in order. */
  readonly tokenRequestLog: TokenRequestRecord[] = [];
  /** API requests received (public and redirect routes included). */
  apiRequests = 0;
  /** API requests per Bearer token sent. */
  readonly apiRequestsByToken = new Map<string, number>();
  /** API requests per `x-request-id` header. */
  readonly apiRequestsById = new Map<string, number>();
  /** Every API request, in order. */
  readonly apiLog: ApiRequestRecord[] = [];
  /** Every access token issued, in order. */
  readonly issuedAccessTokens: string[] = [];
  /** Every refresh token issued, in order. */
  readonly issuedRefreshTokens: string[] = [];

  /** `expires_in` of the next tokens issued; undefined leaves it out. */
  expiresIn: number | string | undefined;
  /** Issue (and rotate) refresh tokens. */
  issueRefreshTokens: boolean;
  /** Every protected API request answers 401 invalid_token, whatever its token. */
  apiAlways401 = false;
  /** Every protected API request answers 401 with `WWW-Authenticate: Bearer error="insufficient_scope"`. */
  insufficientScope = false;

  readonly #options: TestServerOptions;
  readonly #validAccessTokens = new Set<string>();
  readonly #validRefreshTokens = new Set<string>();
  #issued = 0;
  #tokenHold: Deferred<void> | undefined;
  #apiHold: { gate: Deferred<ApiAnswer>; arrived: Deferred<ApiRequestRecord> } | undefined;
  #fault: { fault: TokenFault; options: TokenFaultOptions; left: number } | undefined;
  #waiters: { ready: () => boolean; resolve: () => void }[] = [];
  #close: (() => Promise<void>) | undefined;

  constructor(options: TestServerOptions = {}) {
    this.#options = options;
    this.expiresIn = 'expiresIn' in options ? options.expiresIn : 3600;
    this.issueRefreshTokens = options.issueRefreshTokens ?? false;
    rememberSecrets(options.clientSecret, ...Object.values(options.users ?? {}));
  }

  async start(): Promise<this> {
    const loopback = await listen((request, response, url, body) => this.#route(request, response, url, body), this.#options.now ?? Date.now);
    this.origin = loopback.origin;
    this.tokenUrl = `${loopback.origin}/token`;
    this.#close = loopback.close;
    return this;
  }

  /** Releases every hold and closes the server and every socket it opened. */
  async close(): Promise<void> {
    this.#tokenHold?.resolve();
    this.#apiHold?.gate.resolve('normal');
    await this.#close?.();
  }

  /** Back to a fresh server between tests: counters and logs emptied, knobs off, holds released, every token revoked. */
  reset(): void {
    this.#tokenHold?.resolve();
    this.#tokenHold = undefined;
    this.#apiHold?.gate.resolve('normal');
    this.#apiHold = undefined;
    this.#fault = undefined;
    this.revokeAll();
    this.tokenRequests = 0;
    this.maxTokenRequestsInFlight = this.tokenRequestsInFlight;
    this.tokenRequestLog.length = 0;
    this.apiRequests = 0;
    this.apiRequestsByToken.clear();
    this.apiRequestsById.clear();
    this.apiLog.length = 0;
    this.issuedAccessTokens.length = 0;
    this.issuedRefreshTokens.length = 0;
    this.expiresIn = 'expiresIn' in this.#options ? this.#options.expiresIn : 3600;
    this.issueRefreshTokens = this.#options.issueRefreshTokens ?? false;
    this.apiAlways401 = false;
    this.insufficientScope = false;
  }

  /** The last token request received. */
  get lastTokenRequest(): TokenRequestRecord | undefined {
    return this.tokenRequestLog.at(-1);
  }

  /** The access token issued last. */
  get currentAccessToken(): string | undefined {
    return this.issuedAccessTokens.at(-1);
  }

  /** Every secret this server has seen or issued, for the secret sweeps. */
  secrets(): string[] {
    return [this.#options.clientSecret, ...Object.values(this.#options.users ?? {}), ...this.issuedAccessTokens, ...this.issuedRefreshTokens].filter(
      (secret): secret is string => secret !== undefined,
    );
  }

  /** The API stops accepting every token issued so far (access and refresh). */
  revokeAll(): void {
    this.#validAccessTokens.clear();
    this.#validRefreshTokens.clear();
  }

  /** Accepts a refresh token the server did not issue (one a client was configured with). */
  trustRefreshToken(token: string): void {
    rememberSecrets(token);
    this.#validRefreshTokens.add(token);
  }

  /** The API stops accepting this one token. */
  revoke(token: string): void {
    this.#validAccessTokens.delete(token);
    this.#validRefreshTokens.delete(token);
  }

  /**
   * Keeps every token request that arrives from now on open until the returned
   * function is called; they are then answered as usual (or with the fault set).
   */
  holdTokenEndpoint(): () => void {
    const hold = deferred();
    this.#tokenHold = hold;
    return () => {
      if (this.#tokenHold === hold) this.#tokenHold = undefined;
      hold.resolve();
    };
  }

  /** Makes the token endpoint fail in the given way (for `times` requests, or until restored). */
  failTokenEndpoint(fault: TokenFault, options: TokenFaultOptions = {}): void {
    this.#fault = { fault, options, left: options.times ?? Number.POSITIVE_INFINITY };
  }

  restoreTokenEndpoint(): void {
    this.#fault = undefined;
  }

  /** Keeps every protected API request that arrives from now on open until `release`. */
  holdApi(): ApiHold {
    const gate = deferred<ApiAnswer>();
    const arrived = deferred<ApiRequestRecord>();
    const hold = { gate, arrived };
    this.#apiHold = hold;
    return {
      arrived: arrived.promise,
      release: (answer = 'normal') => {
        if (this.#apiHold === hold) this.#apiHold = undefined;
        gate.resolve(answer);
      },
    };
  }

  /** Resolves once `count` token requests have arrived in total (bounded by `ms`). */
  whenTokenRequests(count: number, ms = 5000): Promise<void> {
    return this.#when(() => this.tokenRequests >= count, `${count} token requests (saw ${this.tokenRequests})`, ms);
  }

  /** Resolves once `count` API requests have arrived in total (bounded by `ms`). */
  whenApiRequests(count: number, ms = 5000): Promise<void> {
    return this.#when(() => this.apiRequests >= count, `${count} API requests`, ms);
  }

  #when(ready: () => boolean, what: string, ms: number): Promise<void> {
    if (ready()) return Promise.resolve();
    const waiter = deferred();
    this.#waiters.push({ ready, resolve: () => waiter.resolve() });
    return within(waiter.promise, ms, `the test server receiving ${what}`);
  }

  #notify(): void {
    this.#waiters = this.#waiters.filter((waiter) => {
      if (!waiter.ready()) return true;
      waiter.resolve();
      return false;
    });
  }

  async #route(request: IncomingMessage, response: ServerResponse, url: URL, body: string): Promise<void> {
    if (url.pathname === '/token') return this.#token(request, response, url, body);
    return this.#api(request, response, url);
  }

  async #token(request: IncomingMessage, response: ServerResponse, url: URL, body: string): Promise<void> {
    const parsed = parseTokenRequest(request, url, body);
    this.tokenRequests += 1;
    this.tokenRequestsInFlight += 1;
    this.maxTokenRequestsInFlight = Math.max(this.maxTokenRequestsInFlight, this.tokenRequestsInFlight);
    this.tokenRequestLog.push(parsed);
    rememberSecrets(parsed.clientSecret, parsed.params['password'], parsed.params['refresh_token']);
    response.once('close', () => {
      this.tokenRequestsInFlight -= 1;
    });
    this.#notify();
    const hold = this.#tokenHold;
    if (hold !== undefined) await hold.promise;
    const fault = this.#fault;
    if (fault !== undefined && fault.left > 0) {
      fault.left -= 1;
      this.#answerFault(request, response, fault.fault, fault.options, parsed);
      return;
    }
    this.#answerToken(response, parsed);
  }

  #answerFault(request: IncomingMessage, response: ServerResponse, fault: TokenFault, options: TokenFaultOptions, parsed: TokenRequestRecord): void {
    const retryAfter: Record<string, string> = options.retryAfter === undefined ? {} : { 'Retry-After': options.retryAfter };
    const oauthError = (status: number, error: string, fallback: string): void => {
      const description = options.description?.(parsed) ?? fallback;
      const errorUri = options.errorUri?.(parsed);
      sendJson(response, status, { error, error_description: description, ...(errorUri === undefined ? {} : { error_uri: errorUri }) }, retryAfter);
    };
    switch (fault) {
      case 'status-500':
      case 'status-503':
        response.writeHead(fault === 'status-500' ? 500 : 503, { 'Content-Type': 'text/plain', ...retryAfter });
        response.end('the token service is unavailable');
        return;
      case 'invalid_client':
        oauthError(400, 'invalid_client', 'Client authentication failed');
        return;
      case 'invalid_grant':
        oauthError(400, 'invalid_grant', 'The provided authorization grant is invalid');
        return;
      case 'html':
        response.writeHead(200, { 'Content-Type': 'text/html' });
        response.end('<!doctype html><html><body><h1>Sign in</h1></body></html>');
        return;
      case 'no-access-token':
        sendJson(response, 200, { token_type: 'Bearer', expires_in: 3600 });
        return;
      case 'reset':
        request.socket.destroy();
        return;
      case 'hang':
        // Never answered; close() destroys the socket.
        return;
    }
  }

  #answerToken(response: ServerResponse, request: TokenRequestRecord): void {
    const { params } = request;
    const { clientId, clientSecret, users } = this.#options;
    if ((clientId !== undefined && request.clientId !== clientId) || (clientSecret !== undefined && request.clientSecret !== clientSecret)) {
      sendJson(response, 401, { error: 'invalid_client', error_description: 'Client authentication failed' }, { 'WWW-Authenticate': 'Basic realm="token"' });
      return;
    }
    switch (params['grant_type']) {
      case 'client_credentials':
        break;
      case 'password':
        if (users !== undefined && (params['username'] === undefined || users[params['username']] !== params['password'])) {
          sendJson(response, 400, { error: 'invalid_grant', error_description: 'Invalid resource owner credentials' });
          return;
        }
        break;
      case 'refresh_token': {
        const refreshToken = params['refresh_token'];
        if (refreshToken === undefined || !this.#validRefreshTokens.has(refreshToken)) {
          sendJson(response, 400, { error: 'invalid_grant', error_description: 'The refresh token is invalid, expired or revoked' });
          return;
        }
        // Rotation: a refresh token is good once.
        this.#validRefreshTokens.delete(refreshToken);
        break;
      }
      default:
        sendJson(response, 400, { error: 'unsupported_grant_type', error_description: 'The grant type is not supported' });
        return;
    }
    this.#issued += 1;
    const accessToken = `tok-${this.#issued}-${randomBytes(6).toString('hex')}`;
    this.issuedAccessTokens.push(accessToken);
    this.#validAccessTokens.add(accessToken);
    const answer: Record<string, unknown> = { access_token: accessToken, token_type: 'Bearer' };
    if (this.expiresIn !== undefined) answer['expires_in'] = this.expiresIn;
    if (params['scope'] !== undefined) answer['scope'] = params['scope'];
    if (this.issueRefreshTokens) {
      const refreshToken = `rt-${this.#issued}-${randomBytes(6).toString('hex')}`;
      this.issuedRefreshTokens.push(refreshToken);
      this.#validRefreshTokens.add(refreshToken);
      answer['refresh_token'] = refreshToken;
    }
    rememberSecrets(accessToken, answer['refresh_token'] as string | undefined);
    sendJson(response, 200, answer);
  }

  async #api(request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
    const authorization = request.headers.authorization;
    const requestId = typeof request.headers['x-request-id'] === 'string' ? request.headers['x-request-id'] : undefined;
    const entry: ApiRequestRecord = { method: request.method ?? '', path: url.pathname, host: request.headers.host, authorization, requestId };
    this.apiRequests += 1;
    this.apiLog.push(entry);
    if (requestId !== undefined) this.apiRequestsById.set(requestId, (this.apiRequestsById.get(requestId) ?? 0) + 1);
    const token = bearerToken(request);
    if (token !== undefined) this.apiRequestsByToken.set(token, (this.apiRequestsByToken.get(token) ?? 0) + 1);
    this.#notify();

    if (url.pathname === '/redirect') {
      response.writeHead(302, { Location: url.searchParams.get('to') ?? '/' });
      response.end();
      return;
    }
    if (url.pathname.startsWith('/public')) {
      sendJson(response, 200, { ok: true, path: url.pathname, sawAuthorization: authorization !== undefined });
      return;
    }
    let answer: ApiAnswer = 'normal';
    const hold = this.#apiHold;
    if (hold !== undefined) {
      hold.arrived.resolve(entry);
      answer = await hold.gate.promise;
    }
    if (this.insufficientScope) {
      sendJson(response, 401, { error: 'insufficient_scope' }, { 'WWW-Authenticate': 'Bearer error="insufficient_scope", scope="admin"' });
      return;
    }
    if (answer === 'unauthorized' || this.apiAlways401 || token === undefined || !this.#validAccessTokens.has(token)) {
      sendJson(response, 401, { error: 'invalid_token' }, { 'WWW-Authenticate': 'Bearer error="invalid_token"' });
      return;
    }
    sendJson(response, 200, { ok: true, path: url.pathname, token });
  }
}

/** Starts a test server (token endpoint and API) on a free loopback port. */
export function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  return new TestServer(options).start();
}

/** Starts a server on another origin that answers 200 to everything and records the Authorization headers it received. */
export async function startForeignServer(): Promise<ForeignServer> {
  const requests: ApiRequestRecord[] = [];
  const loopback = await listen((request, response, url) => {
    const requestId = request.headers['x-request-id'];
    requests.push({
      method: request.method ?? '',
      path: url.pathname,
      host: request.headers.host,
      authorization: request.headers.authorization,
      requestId: typeof requestId === 'string' ? requestId : undefined,
    });
    sendJson(response, 200, { ok: true, foreign: true });
  }, Date.now);
  return { origin: loopback.origin, requests, close: loopback.close };
}

/** A loopback URL nothing listens on (a port just freed), for "connection refused". */
export async function unusedLoopbackUrl(path = '/token'): Promise<string> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}${path}`;
}
