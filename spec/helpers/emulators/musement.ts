// A loopback Musement (api.musement.com) written from its authentication
// document: GET /api/v3/login with every parameter in the query string
// (client_id, client_secret, grant_type, and username/password or
// refresh_token); client_credentials, password and refresh_token grants;
// the same answer for all of them, with token_type "bearer" in lower case and
// a refresh token. Each refresh returns a new refresh token and spends the old
// one; presenting a spent one is treated as theft (RFC 6749 §10.4, OAuth 2.0
// Security BCP §4.14.2) and revokes the whole grant. The API is /api/v3/*.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomId } from './jwt.js';
import { bearerToken, listen, sendInvalidToken, sendJson, sendOAuthError, uniqueParameters, type Loopback } from './loopback.js';

export interface MusementEmulatorOptions {
  now?: () => number;
}

interface GrantRecord {
  username: string | undefined;
  revoked: boolean;
}

interface AccessRecord {
  grant: GrantRecord;
  expiresAt: number;
  revoked: boolean;
}

interface RefreshRecord {
  grant: GrantRecord;
  /** 'live' until used; 'spent' once exchanged; 'revoked' by the server (no theft implied). */
  state: 'live' | 'spent' | 'revoked';
}

export class MusementEmulator {
  readonly clientId = 'musement-client';
  readonly clientSecret = `musement-secret-${randomId(12)}`;
  readonly username = 'customer@example.com';
  readonly password = `pw-${randomId(9)}`;
  expiresIn = 3600;
  tokenRequests = 0;
  readonly tokenParameters: Record<string, string>[] = [];
  apiRequests = 0;
  apiUnauthorized = 0;
  /** Spent refresh tokens presented again (each revoked its grant). A client that rotates correctly keeps this at zero. */
  spentRefreshTokensPresented = 0;
  /** Grants revoked for a spent refresh token. */
  grantsRevoked = 0;
  readonly issued: string[] = [];

  readonly #now: () => number;
  readonly #access = new Map<string, AccessRecord>();
  readonly #refresh = new Map<string, RefreshRecord>();
  #server: Loopback | undefined;

  private constructor(options: MusementEmulatorOptions) {
    this.#now = options.now ?? Date.now;
  }

  static async start(options: MusementEmulatorOptions = {}): Promise<MusementEmulator> {
    const emulator = new MusementEmulator(options);
    emulator.#server = await listen((request, response, url) => emulator.#route(request, response, url), emulator.#now);
    return emulator;
  }

  get origin(): string {
    return this.#server?.origin ?? '';
  }

  revokeAllAccessTokens(): void {
    for (const record of this.#access.values()) record.revoked = true;
  }

  /** The server drops every live refresh token (an expiry, an admin action): refreshes get invalid_grant, nothing is stolen. */
  revokeAllRefreshTokens(): void {
    for (const record of this.#refresh.values()) if (record.state === 'live') record.state = 'revoked';
  }

  async close(): Promise<void> {
    await this.#server?.close();
  }

  #route(request: IncomingMessage, response: ServerResponse, url: URL): void {
    if (url.pathname === '/api/v3/login') {
      this.tokenRequests += 1;
      this.#login(request, response, url);
    } else if (url.pathname.startsWith('/api/v3/')) {
      this.#api(request, response, url);
    } else {
      sendJson(response, 404, { code: '404', message: 'Not found' });
    }
  }

  #login(request: IncomingMessage, response: ServerResponse, url: URL): void {
    if (request.method !== 'GET') {
      sendOAuthError(response, 405, 'invalid_request', 'The login endpoint takes GET with query parameters');
      return;
    }
    const parameters = uniqueParameters(url.searchParams);
    if (parameters === undefined) {
      sendOAuthError(response, 400, 'invalid_request', 'A parameter was repeated');
      return;
    }
    this.tokenParameters.push(parameters);
    if (parameters['client_id'] !== this.clientId || parameters['client_secret'] !== this.clientSecret) {
      sendOAuthError(response, 400, 'invalid_client', 'The client credentials are invalid');
      return;
    }
    switch (parameters['grant_type']) {
      case 'client_credentials':
        this.#issue(response, { username: undefined, revoked: false }, undefined);
        return;
      case 'password':
        if (parameters['username'] !== this.username || parameters['password'] !== this.password) {
          sendOAuthError(response, 400, 'invalid_grant', 'Invalid username and password combination');
          return;
        }
        this.#issue(response, { username: this.username, revoked: false }, 'user, password');
        return;
      case 'refresh_token': {
        const record = this.#refresh.get(parameters['refresh_token'] ?? '');
        if (record !== undefined && record.state === 'spent') {
          // Reuse of a rotated refresh token: revoke everything the grant issued.
          this.spentRefreshTokensPresented += 1;
          this.#revokeGrant(record.grant);
        }
        if (record === undefined || record.state !== 'live' || record.grant.revoked) {
          sendOAuthError(response, 400, 'invalid_grant', 'Invalid refresh token');
          return;
        }
        record.state = 'spent';
        this.#issue(response, record.grant, record.grant.username === undefined ? undefined : 'user, password');
        return;
      }
      case undefined:
        sendOAuthError(response, 400, 'invalid_request', 'Invalid grant_type parameter or parameter missing');
        return;
      default:
        sendOAuthError(response, 400, 'unsupported_grant_type', 'Invalid grant_type parameter or parameter missing');
    }
  }

  #issue(response: ServerResponse, grant: GrantRecord, scope: string | undefined): void {
    const accessToken = randomId(48);
    const refreshToken = randomId(48);
    this.#access.set(accessToken, { grant, expiresAt: this.#now() + this.expiresIn * 1000, revoked: false });
    this.#refresh.set(refreshToken, { grant, state: 'live' });
    this.issued.push(accessToken, refreshToken);
    const answer: Record<string, unknown> = { access_token: accessToken, expires_in: this.expiresIn, token_type: 'bearer' };
    if (scope !== undefined) answer['scope'] = scope;
    answer['refresh_token'] = refreshToken;
    sendJson(response, 200, answer);
  }

  #revokeGrant(grant: GrantRecord): void {
    if (grant.revoked) return;
    grant.revoked = true;
    this.grantsRevoked += 1;
    for (const record of this.#access.values()) if (record.grant === grant) record.revoked = true;
  }

  #api(request: IncomingMessage, response: ServerResponse, url: URL): void {
    this.apiRequests += 1;
    const token = bearerToken(request);
    const record = token === undefined ? undefined : this.#access.get(token);
    if (record === undefined || record.revoked || record.grant.revoked || this.#now() >= record.expiresAt) {
      this.apiUnauthorized += 1;
      sendInvalidToken(response);
      return;
    }
    sendJson(response, 200, url.pathname === '/api/v3/cities' ? [{ id: 57, name: 'Amsterdam' }] : { path: url.pathname });
  }
}
