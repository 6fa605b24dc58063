// A loopback MyParcel.com authentication server and API, written from its
// client credentials document: POST /access-token with a JSON body
// (Content-Type application/json; anything else is refused) holding
// grant_type client_credentials, client_id, client_secret and a scope ('*' or
// space-separated scopes, required); a JWT access token whose `exp` says when
// it stops working, expires_in 86400 by default. /shipments is the API.
// The sandbox (auth.sandbox.myparcel.com) is simply a second instance.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { JwtAccessTokens, randomId } from './jwt.js';
import { bearerToken, jsonParameters, listen, mediaType, sendInvalidToken, sendJson, sendOAuthError, type Loopback } from './loopback.js';

export interface MyParcelEmulatorOptions {
  now?: () => number;
}

/** The scopes this emulator knows; `*` asks for all of them. */
export const MYPARCEL_SCOPES = ['shipments.show', 'shipments.manage', 'organizations.show', 'files.show'] as const;

export class MyParcelEmulator {
  readonly clientId = 'b4460113-f097-49ae-9225-f741a7bf07ed';
  readonly clientSecret = `myparcel-secret-${randomId(12)}`;
  /** `expires_in` of tokens issued from now on, seconds. */
  expiresIn = 86400;
  /** The JWT lifetime (its `exp`), seconds; default: the same as `expiresIn`. Set it lower to see `exp` win. */
  jwtLifetime: number | undefined;
  tokenRequests = 0;
  readonly tokenParameters: Record<string, string>[] = [];
  /** The scope granted to each issued token, in order. */
  readonly grantedScopes: string[] = [];
  apiRequests = 0;
  apiUnauthorized = 0;
  readonly issued: string[] = [];

  readonly #now: () => number;
  readonly #tokens: JwtAccessTokens;
  #server: Loopback | undefined;

  private constructor(options: MyParcelEmulatorOptions) {
    this.#now = options.now ?? Date.now;
    this.#tokens = new JwtAccessTokens(this.#now);
  }

  static async start(options: MyParcelEmulatorOptions = {}): Promise<MyParcelEmulator> {
    const emulator = new MyParcelEmulator(options);
    emulator.#server = await listen((request, response, url, body) => emulator.#route(request, response, url, body), emulator.#now);
    return emulator;
  }

  get origin(): string {
    return this.#server?.origin ?? '';
  }

  revokeAllAccessTokens(): void {
    this.#tokens.revokeAll();
  }

  async close(): Promise<void> {
    await this.#server?.close();
  }

  #route(request: IncomingMessage, response: ServerResponse, url: URL, body: string): void {
    if (url.pathname === '/access-token') {
      this.tokenRequests += 1;
      this.#token(request, response, body);
    } else if (url.pathname === '/shipments' || url.pathname.startsWith('/shipments/')) {
      this.#api(request, response);
    } else {
      sendJson(response, 404, { errors: [{ status: '404', title: 'Not found' }] });
    }
  }

  #token(request: IncomingMessage, response: ServerResponse, body: string): void {
    if (request.method !== 'POST') {
      sendOAuthError(response, 405, 'invalid_request', 'The access token endpoint takes POST');
      return;
    }
    if (mediaType(request) !== 'application/json') {
      sendOAuthError(response, 400, 'invalid_request', 'The Content-Type header must be application/json');
      return;
    }
    const parameters = jsonParameters(body);
    if (parameters === undefined) {
      sendOAuthError(response, 400, 'invalid_request', 'The body must be a JSON object of strings');
      return;
    }
    this.tokenParameters.push(parameters);
    const { grant_type: grantType, client_id: clientId, client_secret: clientSecret, scope } = parameters;
    if (grantType === undefined) {
      sendOAuthError(response, 400, 'invalid_request', 'The request is missing a required parameter: grant_type');
      return;
    }
    if (grantType !== 'client_credentials') {
      sendOAuthError(response, 400, 'unsupported_grant_type', 'The authorization grant type is not supported by the authorization server.');
      return;
    }
    if (clientId !== this.clientId || clientSecret !== this.clientSecret) {
      sendOAuthError(response, 401, 'invalid_client', 'Client authentication failed');
      return;
    }
    if (scope === undefined || scope.trim() === '') {
      sendOAuthError(response, 400, 'invalid_request', 'The request is missing a required parameter: scope');
      return;
    }
    const requested = scope.split(' ').filter((item) => item !== '');
    if (!(requested.length === 1 && requested[0] === '*') && !requested.every((item) => (MYPARCEL_SCOPES as readonly string[]).includes(item))) {
      sendOAuthError(response, 400, 'invalid_scope', 'The requested scope is invalid, unknown, or malformed');
      return;
    }
    const granted = requested[0] === '*' ? MYPARCEL_SCOPES.join(' ') : requested.join(' ');
    const accessToken = this.#tokens.issue(clientId, this.jwtLifetime ?? this.expiresIn, granted);
    this.issued.push(accessToken);
    this.grantedScopes.push(granted);
    sendJson(response, 200, { token_type: 'Bearer', expires_in: this.expiresIn, access_token: accessToken });
  }

  #api(request: IncomingMessage, response: ServerResponse): void {
    this.apiRequests += 1;
    if (!this.#tokens.accepts(bearerToken(request))) {
      this.apiUnauthorized += 1;
      sendInvalidToken(response);
      return;
    }
    sendJson(response, 200, { data: [{ type: 'shipments', id: 'shipment-1' }] }, { 'Content-Type': 'application/vnd.api+json' });
  }
}
