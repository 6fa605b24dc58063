// A loopback MVMNT (api.mvmnt.io) written from its authentication document:
// POST /oauth2/token with a form-urlencoded body carrying grant_type,
// client_id and client_secret; client credentials only; one-hour JWT access
// tokens (`exp` in the token, `expires_in` in the answer); errors
// invalid_client, invalid_grant and unauthorized_client, all 400. The API
// (/v1/orders and anything under /v1/) wants `Authorization: Bearer <JWT>`.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { JwtAccessTokens, randomId } from './jwt.js';
import { bearerToken, formParameters, listen, mediaType, sendInvalidToken, sendJson, sendOAuthError, type Loopback } from './loopback.js';

export interface MvmntEmulatorOptions {
  /** The emulator's clock, epoch ms; default Date.now. */
  now?: () => number;
}

export class MvmntEmulator {
  readonly clientId = 'mvmnt-client';
  readonly clientSecret = `mvmnt-secret-${randomId(12)}`;
  /** A client MVMNT knows but has switched off: its requests get unauthorized_client. */
  readonly disabledClientId = 'mvmnt-disabled-client';
  /** `expires_in` (and the JWT lifetime) of tokens issued from now on, seconds. */
  expiresIn = 3600;
  /** Requests to the token endpoint, whatever the answer. */
  tokenRequests = 0;
  /** Parameters of every token request, in order. */
  readonly tokenParameters: Record<string, string>[] = [];
  apiRequests = 0;
  /** API requests refused with 401. The queue flow should keep this at zero while tokens expire. */
  apiUnauthorized = 0;
  /** Every access token issued, for the secret sweeps. */
  readonly issued: string[] = [];

  readonly #now: () => number;
  /** The tokens the API still takes; `revokeAllAccessTokens()` empties it. */
  readonly #tokens: JwtAccessTokens;
  #server: Loopback | undefined;

  private constructor(options: MvmntEmulatorOptions) {
    this.#now = options.now ?? Date.now;
    this.#tokens = new JwtAccessTokens(this.#now);
  }

  static async start(options: MvmntEmulatorOptions = {}): Promise<MvmntEmulator> {
    const emulator = new MvmntEmulator(options);
    emulator.#server = await listen((request, response, url, body) => emulator.#route(request, response, url, body), emulator.#now);
    return emulator;
  }

  /** `http://127.0.0.1:<port>`, standing in for https://api.mvmnt.io. */
  get origin(): string {
    return this.#server?.origin ?? '';
  }

  /** Every access token issued so far stops working at once. */
  revokeAllAccessTokens(): void {
    this.#tokens.revokeAll();
  }

  async close(): Promise<void> {
    await this.#server?.close();
  }

  #route(request: IncomingMessage, response: ServerResponse, url: URL, body: string): void {
    if (url.pathname === '/oauth2/token') {
      this.tokenRequests += 1;
      this.#token(request, response, body);
    } else if (url.pathname === '/v1/orders' || url.pathname.startsWith('/v1/')) {
      this.#api(request, response, url);
    } else {
      sendJson(response, 404, { message: 'Not Found' });
    }
  }

  #token(request: IncomingMessage, response: ServerResponse, body: string): void {
    if (request.method !== 'POST') {
      sendOAuthError(response, 405, 'invalid_request', 'The token endpoint takes POST');
      return;
    }
    if (mediaType(request) !== 'application/x-www-form-urlencoded') {
      sendOAuthError(response, 400, 'invalid_request', 'Content-Type must be application/x-www-form-urlencoded');
      return;
    }
    if (request.headers.authorization !== undefined) {
      sendOAuthError(response, 400, 'invalid_request', 'Send the client credentials in the body');
      return;
    }
    const parameters = formParameters(body);
    if (parameters === undefined) {
      sendOAuthError(response, 400, 'invalid_request', 'A parameter was repeated');
      return;
    }
    this.tokenParameters.push(parameters);
    const { client_id: clientId, client_secret: clientSecret, grant_type: grantType } = parameters;
    if (clientId === this.disabledClientId || (clientId !== undefined && clientId !== this.clientId && clientId !== '')) {
      sendOAuthError(response, 400, 'unauthorized_client', 'Client is not authorized');
      return;
    }
    if (clientId !== this.clientId || clientSecret !== this.clientSecret) {
      sendOAuthError(response, 400, 'invalid_client', 'Client authentication failed');
      return;
    }
    if (grantType !== 'client_credentials') {
      sendOAuthError(response, 400, 'invalid_grant', 'Grant type must be client_credentials');
      return;
    }
    const accessToken = this.#tokens.issue(clientId, this.expiresIn, 'mvmnt-api');
    this.issued.push(accessToken);
    sendJson(response, 200, { access_token: accessToken, token_type: 'Bearer', expires_in: this.expiresIn });
  }

  #api(request: IncomingMessage, response: ServerResponse, url: URL): void {
    this.apiRequests += 1;
    if (!this.#tokens.accepts(bearerToken(request))) {
      this.apiUnauthorized += 1;
      sendInvalidToken(response);
      return;
    }
    sendJson(response, 200, { data: [{ id: 'order-1', path: url.pathname }] });
  }
}
