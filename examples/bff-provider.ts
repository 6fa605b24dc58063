// An embedded authorization server and API for the BFF examples and specs, in the
// style of Movemint: GET /oauth/authorize (auto-approves the user named by
// `login_hint`, PKCE S256 required), POST /oauth/token (authorization_code with
// PKCE, refresh_token rotated on every use; a spent refresh token presented again
// revokes the whole grant, as OAuth 2.0 Security BCP §4.14 asks), POST /oauth/revoke
// (RFC 7009) and GET /api/me (answers with the user its token belongs to). Loopback
// only, port 0; knobs to hold or fail one user's refresh and to revoke a grant.

import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { readBody, sendJson } from './demo-server.js';

export const BFF_CLIENT_ID = 'bff-client';
export const BFF_CLIENT_SECRET = 'bff-client-secret-do-not-log';

interface Grant {
  user: string;
  revoked: boolean;
  /** The one refresh token of the grant that may be presented next. */
  refreshToken: string;
}

interface AccessToken {
  grant: Grant;
  expiresAt: number;
  revoked: boolean;
}

interface PendingCode {
  user: string;
  redirectUri: string;
  codeChallenge: string;
}

/** What the provider has seen. */
export interface BffProviderCounters {
  /** Requests to /oauth/token. */
  tokenRequests: number;
  /** refresh_token grant requests. */
  refreshRequests: number;
  /** Spent refresh tokens presented again (each revoked its grant). */
  reusedRefreshTokens: number;
  /** Requests to /oauth/revoke. */
  revocations: number;
  /** Requests to /api/*. */
  apiRequests: number;
  /** API requests refused with 401. */
  apiUnauthorized: number;
}

/** One API request: whose token it carried (undefined: none or invalid) and whom the caller said it was for. */
export interface BffApiRecord {
  /** Whether the request carried an Authorization header at all (valid or not). */
  authorized: boolean;
  tokenUser: string | undefined;
  claimedUser: string | undefined;
  status: number;
}

export class BffProvider {
  origin = '';
  /** Seconds the access tokens issued from now on live. */
  tokenLifetime = 3600;
  readonly counters: BffProviderCounters = { tokenRequests: 0, refreshRequests: 0, reusedRefreshTokens: 0, revocations: 0, apiRequests: 0, apiUnauthorized: 0 };
  /** refresh_token grant requests per user. */
  readonly refreshRequestsByUser = new Map<string, number>();
  /** Every API request, in order (`x-user` is the header a test sends to say whom it meant). */
  readonly apiLog: BffApiRecord[] = [];
  /** Called before a user's refresh is answered; the answer waits for the promise it returns. */
  beforeRefresh: ((user: string) => Promise<void> | void) | undefined;
  /** Every access and refresh token issued, in order (a test looks for them where they must not be). */
  readonly issuedTokens: string[] = [];
  /** Called when an API request arrives; the answer (its token checked then) waits for the promise it returns. */
  beforeApiAnswer: (() => Promise<void> | void) | undefined;
  /** Users whose every token the API refuses with 401, however new (a wrong audience, a missing scope). */
  readonly refusedUsers = new Set<string>();
  /** Users whose next refresh answers 503 (transient). */
  readonly failingUsers = new Set<string>();

  readonly #grants = new Map<string, Grant>();
  readonly #spentRefreshTokens = new Map<string, Grant>();
  readonly #accessTokens = new Map<string, AccessToken>();
  readonly #codes = new Map<string, PendingCode>();
  readonly #sockets = new Set<Socket>();
  #server: Server | undefined;

  get tokenUrl(): string {
    return `${this.origin}/oauth/token`;
  }

  get authorizationUrl(): string {
    return `${this.origin}/oauth/authorize`;
  }

  get revocationUrl(): string {
    return `${this.origin}/oauth/revoke`;
  }

  /** The client options of attachUserAuth for this provider. */
  clientOptions(): { tokenUrl: string; clientId: string; clientSecret: string; revocationUrl: string } {
    return { tokenUrl: this.tokenUrl, clientId: BFF_CLIENT_ID, clientSecret: BFF_CLIENT_SECRET, revocationUrl: this.revocationUrl };
  }

  async start(): Promise<this> {
    const server = createServer((request, response) => {
      this.#route(request, response).catch(() => {
        if (!response.headersSent) response.writeHead(500);
        response.end();
      });
    });
    server.on('connection', (socket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
    });
    // Storms keep hundreds of keep-alive sockets idle for seconds on a busy machine: a server that
    // closes them (Node's default is 5 s) while the client reuses them answers ECONNRESET.
    server.keepAliveTimeout = 60_000;
    this.#server = server;
    await new Promise<void>((resolve) => server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, resolve));
    this.origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    const server = this.#server;
    if (server === undefined) return;
    this.#server = undefined;
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Signs `user` in without a browser (what a code exchange returns): a new grant and its first tokens. */
  issue(user: string): { access_token: string; token_type: 'Bearer'; expires_in: number; refresh_token: string } {
    const grant: Grant = { user, revoked: false, refreshToken: '' };
    return this.#tokensFor(grant);
  }

  /** The provider ends every grant of `user` (an admin revoked it, the user changed their password). */
  revokeUser(user: string): void {
    for (const grant of this.#grants.values()) if (grant.user === user) grant.revoked = true;
  }

  /** Every access token of `user` stops working (the refresh token still works): the next API call answers 401. */
  expireAccessTokens(user: string): void {
    for (const token of this.#accessTokens.values()) if (token.grant.user === user) token.revoked = true;
  }

  async #route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = await readBody(request);
    const url = new URL(request.url ?? '/', this.origin);
    if (request.method === 'GET' && url.pathname === '/oauth/authorize') return this.#authorize(url, response);
    if (request.method === 'POST' && url.pathname === '/oauth/token') return this.#token(new URLSearchParams(body), response);
    if (request.method === 'POST' && url.pathname === '/oauth/revoke') return this.#revoke(new URLSearchParams(body), response);
    if (url.pathname === '/api/redirect') {
      response.writeHead(302, { Location: url.searchParams.get('to') ?? '/' });
      return void response.end();
    }
    if (url.pathname.startsWith('/api/')) return this.#api(request, response);
    sendJson(response, 404, { error: 'not_found' });
  }

  #authorize(url: URL, response: ServerResponse): void {
    const query = url.searchParams;
    const redirectUri = query.get('redirect_uri');
    const challenge = query.get('code_challenge');
    if (query.get('client_id') !== BFF_CLIENT_ID || redirectUri === null || query.get('response_type') !== 'code') {
      return sendJson(response, 400, { error: 'invalid_request' });
    }
    if (challenge === null || query.get('code_challenge_method') !== 'S256') return sendJson(response, 400, { error: 'invalid_request', error_description: 'PKCE S256 is required' });
    const code = randomBytes(16).toString('base64url');
    this.#codes.set(code, { user: query.get('login_hint') ?? 'anonymous', redirectUri, codeChallenge: challenge });
    const target = new URL(redirectUri);
    target.searchParams.set('code', code);
    const state = query.get('state');
    if (state !== null) target.searchParams.set('state', state);
    response.writeHead(302, { Location: target.toString() });
    response.end();
  }

  async #token(form: URLSearchParams, response: ServerResponse): Promise<void> {
    this.counters.tokenRequests += 1;
    if (form.get('client_id') !== BFF_CLIENT_ID || form.get('client_secret') !== BFF_CLIENT_SECRET) {
      return sendJson(response, 401, { error: 'invalid_client', error_description: 'Client authentication failed' });
    }
    const grantType = form.get('grant_type');
    if (grantType === 'authorization_code') {
      const pending = this.#codes.get(form.get('code') ?? '');
      this.#codes.delete(form.get('code') ?? '');
      const verifier = form.get('code_verifier') ?? '';
      if (pending === undefined || pending.redirectUri !== form.get('redirect_uri')) return sendJson(response, 400, { error: 'invalid_grant' });
      if (createHash('sha256').update(verifier).digest('base64url') !== pending.codeChallenge) {
        return sendJson(response, 400, { error: 'invalid_grant', error_description: 'PKCE verification failed' });
      }
      return sendJson(response, 200, this.#tokensFor({ user: pending.user, revoked: false, refreshToken: '' }));
    }
    if (grantType !== 'refresh_token') return sendJson(response, 400, { error: 'unsupported_grant_type' });
    this.counters.refreshRequests += 1;
    const presented = form.get('refresh_token') ?? '';
    const spent = this.#spentRefreshTokens.get(presented);
    if (spent !== undefined) {
      // Reuse of a rotated refresh token: someone holds a copy; end the grant (Security BCP §4.14.2).
      this.counters.reusedRefreshTokens += 1;
      spent.revoked = true;
      return sendJson(response, 400, { error: 'invalid_grant', error_description: 'refresh token already used' });
    }
    const grant = this.#grants.get(presented);
    if (grant === undefined || grant.revoked) return sendJson(response, 400, { error: 'invalid_grant', error_description: 'refresh token revoked or unknown' });
    this.refreshRequestsByUser.set(grant.user, (this.refreshRequestsByUser.get(grant.user) ?? 0) + 1);
    await this.beforeRefresh?.(grant.user);
    if (this.failingUsers.has(grant.user)) return sendJson(response, 503, { error: 'temporarily_unavailable' });
    if (grant.revoked) return sendJson(response, 400, { error: 'invalid_grant', error_description: 'grant revoked' });
    this.#grants.delete(presented);
    this.#spentRefreshTokens.set(presented, grant);
    sendJson(response, 200, this.#tokensFor(grant));
  }

  #revoke(form: URLSearchParams, response: ServerResponse): void {
    this.counters.revocations += 1;
    if (form.get('client_id') !== BFF_CLIENT_ID || form.get('client_secret') !== BFF_CLIENT_SECRET) return sendJson(response, 401, { error: 'invalid_client' });
    const token = form.get('token') ?? '';
    const grant = this.#grants.get(token);
    if (grant !== undefined) grant.revoked = true;
    const access = this.#accessTokens.get(token);
    if (access !== undefined) access.revoked = true;
    response.writeHead(200);
    response.end();
  }

  async #api(request: IncomingMessage, response: ServerResponse): Promise<void> {
    this.counters.apiRequests += 1;
    await this.beforeApiAnswer?.();
    const match = /^Bearer (.+)$/.exec(request.headers.authorization ?? '');
    const token = match === null ? undefined : this.#accessTokens.get(match[1] ?? '');
    const claimed = request.headers['x-user'];
    const claimedUser = typeof claimed === 'string' ? claimed : undefined;
    const valid = token !== undefined && !token.revoked && !token.grant.revoked && Date.now() < token.expiresAt && !this.refusedUsers.has(token.grant.user);
    this.apiLog.push({ authorized: request.headers.authorization !== undefined, tokenUser: token?.grant.user, claimedUser, status: valid ? 200 : 401 });
    if (!valid) {
      this.counters.apiUnauthorized += 1;
      response.setHeader('WWW-Authenticate', 'Bearer error="invalid_token"');
      return sendJson(response, 401, { error: 'invalid_token' });
    }
    sendJson(response, 200, { user: token.grant.user });
  }

  #tokensFor(grant: Grant): { access_token: string; token_type: 'Bearer'; expires_in: number; refresh_token: string } {
    const accessToken = `at-${randomBytes(12).toString('base64url')}`;
    const refreshToken = `rt-${randomBytes(12).toString('base64url')}`;
    grant.refreshToken = refreshToken;
    this.issuedTokens.push(accessToken, refreshToken);
    this.#grants.set(refreshToken, grant);
    this.#accessTokens.set(accessToken, { grant, expiresAt: Date.now() + this.tokenLifetime * 1000, revoked: false });
    return { access_token: accessToken, token_type: 'Bearer', expires_in: this.tokenLifetime, refresh_token: refreshToken };
  }
}
