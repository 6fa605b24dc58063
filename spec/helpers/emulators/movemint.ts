// A loopback Movemint (www.movemint.cc) written from its API document, a
// Doorkeeper-style server: GET /oauth/authorize redirects back with a
// single-use code; POST /oauth/token takes authorization_code, refresh_token
// and client_credentials (client_id and client_secret in the body) and
// answers expires_in 7200 with created_at, plus a refresh token for every
// grant but client credentials; 400 invalid_grant, 401 invalid_client.
// POST /oauth/revoke (token, client_id, client_secret) always answers 200,
// even for a token already revoked; 400 for an invalid request.
// GET /oauth/token/info describes the Bearer token. The API lives under /api/.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHash } from 'node:crypto';
import { randomId } from './jwt.js';
import { bearerToken, formParameters, jsonParameters, listen, mediaType, sendInvalidToken, sendJson, sendOAuthError, type Loopback } from './loopback.js';

export interface MovemintEmulatorOptions {
  now?: () => number;
}

interface AccessRecord {
  resourceOwnerId: number | null;
  scopes: string[];
  /** Unix seconds, as sent in `created_at`. */
  createdAt: number;
  expiresIn: number;
  revoked: boolean;
}

interface RefreshRecord {
  resourceOwnerId: number;
  scopes: string[];
  revoked: boolean;
}

interface CodeRecord {
  redirectUri: string;
  scopes: string[];
  resourceOwnerId: number;
  codeChallenge: string | undefined;
  used: boolean;
}

export class MovemintEmulator {
  readonly clientId = 'movemint-app-uid';
  readonly clientSecret = `movemint-secret-${randomId(12)}`;
  /** The redirect URI registered for the application. */
  readonly redirectUri = 'https://app.example.com/oauth/callback';
  /** The user who approves every authorization request. */
  readonly resourceOwnerId = 42;
  /** `expires_in` of tokens issued from now on, seconds (Doorkeeper's default two hours). */
  expiresIn = 7200;
  tokenRequests = 0;
  readonly tokenParameters: Record<string, string>[] = [];
  /** Every revocation request's parameters, in order. */
  readonly revocations: Record<string, string>[] = [];
  apiRequests = 0;
  apiUnauthorized = 0;
  readonly issued: string[] = [];

  readonly #now: () => number;
  readonly #access = new Map<string, AccessRecord>();
  readonly #refresh = new Map<string, RefreshRecord>();
  readonly #codes = new Map<string, CodeRecord>();
  #server: Loopback | undefined;

  private constructor(options: MovemintEmulatorOptions) {
    this.#now = options.now ?? Date.now;
  }

  static async start(options: MovemintEmulatorOptions = {}): Promise<MovemintEmulator> {
    const emulator = new MovemintEmulator(options);
    emulator.#server = await listen((request, response, url, body) => emulator.#route(request, response, url, body), emulator.#now);
    return emulator;
  }

  get origin(): string {
    return this.#server?.origin ?? '';
  }

  revokeAllAccessTokens(): void {
    for (const record of this.#access.values()) record.revoked = true;
  }

  /** True when the API would take this access token now. */
  accessTokenWorks(token: string): boolean {
    const record = this.#access.get(token);
    return record !== undefined && !record.revoked && this.#now() < (record.createdAt + record.expiresIn) * 1000;
  }

  /** True when a refresh with this token would succeed. */
  refreshTokenWorks(token: string): boolean {
    const record = this.#refresh.get(token);
    return record !== undefined && !record.revoked;
  }

  async close(): Promise<void> {
    await this.#server?.close();
  }

  #route(request: IncomingMessage, response: ServerResponse, url: URL, body: string): void {
    switch (url.pathname) {
      case '/oauth/authorize':
        this.#authorize(request, response, url);
        return;
      case '/oauth/token':
        this.tokenRequests += 1;
        this.#token(request, response, body);
        return;
      case '/oauth/revoke':
        this.#revoke(request, response, body);
        return;
      case '/oauth/token/info':
        this.#tokenInfo(request, response);
        return;
      default:
        if (url.pathname.startsWith('/api/')) this.#api(request, response, url);
        else sendJson(response, 404, { error: 'not_found' });
    }
  }

  /** Approves at once for `resourceOwnerId` and redirects with a code (the user's consent is not what is under test). */
  #authorize(request: IncomingMessage, response: ServerResponse, url: URL): void {
    const query = url.searchParams;
    if (request.method !== 'GET') {
      sendOAuthError(response, 405, 'invalid_request', 'GET only');
      return;
    }
    // Without a known client and its registered redirect URI there is nowhere safe to redirect to (RFC 6749 §4.1.2.1).
    if (query.get('client_id') !== this.clientId) {
      sendOAuthError(response, 401, 'invalid_client', 'Unknown client');
      return;
    }
    if (query.get('redirect_uri') !== this.redirectUri) {
      sendOAuthError(response, 400, 'invalid_redirect_uri', 'The redirect URI is not registered for this application');
      return;
    }
    const back = new URL(this.redirectUri);
    const state = query.get('state');
    if (state !== null) back.searchParams.set('state', state);
    if (query.get('response_type') !== 'code') {
      back.searchParams.set('error', 'unsupported_response_type');
    } else {
      const code = randomId(16);
      const method = query.get('code_challenge_method');
      this.#codes.set(code, {
        redirectUri: this.redirectUri,
        scopes: splitScope(query.get('scope')),
        resourceOwnerId: this.resourceOwnerId,
        codeChallenge: method === 'S256' ? (query.get('code_challenge') ?? undefined) : undefined,
        used: false,
      });
      back.searchParams.set('code', code);
    }
    response.writeHead(302, { Location: back.toString() });
    response.end();
  }

  #token(request: IncomingMessage, response: ServerResponse, body: string): void {
    const parameters = this.#readBody(request, response, body);
    if (parameters === undefined) return;
    this.tokenParameters.push(parameters);
    if (parameters['client_id'] !== this.clientId || parameters['client_secret'] !== this.clientSecret) {
      sendOAuthError(response, 401, 'invalid_client', 'Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.');
      return;
    }
    switch (parameters['grant_type']) {
      case 'authorization_code': {
        const record = this.#codes.get(parameters['code'] ?? '');
        if (record === undefined || record.used || record.redirectUri !== parameters['redirect_uri']) {
          sendOAuthError(response, 400, 'invalid_grant', 'The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client.');
          return;
        }
        record.used = true;
        if (record.codeChallenge !== undefined && pkceChallenge(parameters['code_verifier'] ?? '') !== record.codeChallenge) {
          sendOAuthError(response, 400, 'invalid_grant', 'The code verifier does not match the code challenge.');
          return;
        }
        this.#issue(response, record.resourceOwnerId, record.scopes, true);
        return;
      }
      case 'refresh_token': {
        const refreshToken = parameters['refresh_token'] ?? '';
        const record = this.#refresh.get(refreshToken);
        if (record === undefined || record.revoked) {
          sendOAuthError(response, 400, 'invalid_grant', 'The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client.');
          return;
        }
        // The old refresh token is spent; the old access token keeps working until it expires.
        record.revoked = true;
        this.#issue(response, record.resourceOwnerId, record.scopes, true);
        return;
      }
      case 'client_credentials':
        this.#issue(response, null, splitScope(parameters['scope'] ?? null), false);
        return;
      case undefined:
        sendOAuthError(response, 400, 'invalid_request', 'The request is missing a required parameter: grant_type.');
        return;
      default:
        sendOAuthError(response, 400, 'unsupported_grant_type', 'The authorization grant type is not supported by the authorization server.');
    }
  }

  #issue(response: ServerResponse, resourceOwnerId: number | null, scopes: string[], withRefreshToken: boolean): void {
    const accessToken = randomId(32);
    const createdAt = Math.floor(this.#now() / 1000);
    this.#access.set(accessToken, { resourceOwnerId, scopes, createdAt, expiresIn: this.expiresIn, revoked: false });
    this.issued.push(accessToken);
    const answer: Record<string, unknown> = { access_token: accessToken, token_type: 'Bearer', expires_in: this.expiresIn, scope: scopes.join(' '), created_at: createdAt };
    if (withRefreshToken && resourceOwnerId !== null) {
      const refreshToken = randomId(32);
      this.#refresh.set(refreshToken, { resourceOwnerId, scopes, revoked: false });
      this.issued.push(refreshToken);
      answer['refresh_token'] = refreshToken;
    }
    sendJson(response, 200, answer);
  }

  #revoke(request: IncomingMessage, response: ServerResponse, body: string): void {
    const parameters = this.#readBody(request, response, body);
    if (parameters === undefined) return;
    this.revocations.push(parameters);
    const { token, client_id: clientId, client_secret: clientSecret } = parameters;
    if (token === undefined || token === '' || clientId === undefined || clientSecret === undefined) {
      sendOAuthError(response, 400, 'invalid_request', 'token, client_id and client_secret are required');
      return;
    }
    if (clientId !== this.clientId || clientSecret !== this.clientSecret) {
      sendOAuthError(response, 400, 'invalid_client', 'Client authentication failed');
      return;
    }
    const access = this.#access.get(token);
    if (access !== undefined) access.revoked = true;
    const refresh = this.#refresh.get(token);
    if (refresh !== undefined) refresh.revoked = true;
    // 200 whatever the token was: unknown, revoked already or live (RFC 7009 §2.2).
    response.writeHead(200);
    response.end();
  }

  #tokenInfo(request: IncomingMessage, response: ServerResponse): void {
    const token = bearerToken(request);
    if (request.method !== 'GET' || token === undefined || !this.accessTokenWorks(token)) {
      sendInvalidToken(response);
      return;
    }
    const record = this.#access.get(token)!;
    sendJson(response, 200, {
      resource_owner_id: record.resourceOwnerId,
      scopes: record.scopes,
      expires_in_seconds: record.createdAt + record.expiresIn - Math.floor(this.#now() / 1000),
      application: { uid: this.clientId },
      created_at: record.createdAt,
    });
  }

  #api(request: IncomingMessage, response: ServerResponse, url: URL): void {
    this.apiRequests += 1;
    const token = bearerToken(request);
    if (token === undefined || !this.accessTokenWorks(token)) {
      this.apiUnauthorized += 1;
      sendInvalidToken(response);
      return;
    }
    sendJson(response, 200, { data: { path: url.pathname, resource_owner_id: this.#access.get(token)!.resourceOwnerId } });
  }

  /** POST with a form or JSON body (Doorkeeper reads both); anything else is an invalid request. */
  #readBody(request: IncomingMessage, response: ServerResponse, body: string): Record<string, string> | undefined {
    if (request.method !== 'POST') {
      sendOAuthError(response, 405, 'invalid_request', 'POST only');
      return undefined;
    }
    const type = mediaType(request);
    const parameters = type === 'application/x-www-form-urlencoded' ? formParameters(body) : type === 'application/json' ? jsonParameters(body) : undefined;
    if (parameters === undefined) sendOAuthError(response, 400, 'invalid_request', 'The body must be form-urlencoded or JSON, each parameter once');
    return parameters;
  }
}

function splitScope(scope: string | null): string[] {
  return scope === null ? [] : scope.split(' ').filter((item) => item !== '');
}

function pkceChallenge(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}
