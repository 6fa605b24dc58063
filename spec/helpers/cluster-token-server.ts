// A loopback token endpoint and API for the shared-store specs: it issues access
// tokens with rotating refresh tokens, counts token requests, can hold the next
// token request open, revokes every access token on demand, and treats a refresh
// token presented twice the way strict servers do (the grant is revoked).

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TokenRequestRecord {
  grantType: string;
  /** The `x-worker` header of the request (which process sent it). */
  worker: string | undefined;
  /** When the server received it (performance.now() of this process). */
  at: number;
  /** The access token it issued, once answered with one. */
  accessToken?: string;
}

export interface HeldTokenRequest {
  /** Resolves with the record of the next token request once it arrives (and is held). */
  arrived: Promise<TokenRequestRecord>;
  /** Lets it be answered. */
  release(): void;
  /** Resolves once the connection of the held request has closed (its process died). */
  closed: Promise<void>;
}

export class ClusterTokenServer {
  readonly requests: TokenRequestRecord[] = [];
  /** Refresh tokens presented after they were spent. */
  reusedRefreshTokens = 0;
  /** When false a spent refresh token is only refused (invalid_grant); when true the whole grant is revoked too. */
  revokeGrantOnReuse = true;
  readonly #server: Server;
  readonly #validAccessTokens = new Set<string>();
  readonly #liveRefreshTokens = new Set<string>();
  readonly #spentRefreshTokens = new Set<string>();
  #held: { record: (record: TokenRequestRecord) => void; gate: Promise<void>; onClose: () => void } | undefined;
  #issued = 0;
  #url = '';

  constructor() {
    this.#server = createServer((request, response) => {
      this.#handle(request, response).catch((error: unknown) => {
        response.statusCode = 500;
        response.end(String(error));
      });
    });
    // Longer than any pause of the suites: a client reusing a kept-alive socket at the moment
    // the server closes it as idle gets ECONNRESET, which the specs would take for a failure.
    this.#server.keepAliveTimeout = 120_000;
  }

  get url(): string {
    return this.#url;
  }

  get tokenUrl(): string {
    return `${this.#url}/token`;
  }

  get tokenRequests(): number {
    return this.requests.length;
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.#url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  /** Starts a grant (as a login would) and answers its first refresh token. */
  issueGrant(): string {
    this.#issued += 1;
    const refreshToken = `refresh-${this.#issued}-${Math.random().toString(36).slice(2)}`;
    this.#liveRefreshTokens.add(refreshToken);
    return refreshToken;
  }

  /** Every access token issued so far is refused from now on (refresh tokens stay valid). */
  revokeAccessTokens(): void {
    this.#validAccessTokens.clear();
  }

  /** Holds the next token request open until `release()`. */
  holdNext(): HeldTokenRequest {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let record!: (record: TokenRequestRecord) => void;
    const arrived = new Promise<TokenRequestRecord>((resolve) => {
      record = resolve;
    });
    let onClose!: () => void;
    const closed = new Promise<void>((resolve) => {
      onClose = resolve;
    });
    this.#held = { record, gate, onClose };
    return { arrived, release, closed };
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = await readBody(request);
    if (request.url?.startsWith('/token') === true) {
      const form = new URLSearchParams(body);
      const record: TokenRequestRecord = { grantType: form.get('grant_type') ?? '', worker: headerOf(request, 'x-worker'), at: performance.now() };
      this.requests.push(record);
      const held = this.#held;
      if (held !== undefined) {
        this.#held = undefined;
        request.socket.once('close', held.onClose);
        held.record(record);
        // Nothing is decided before the answer: a holder that dies meanwhile spends nothing.
        await held.gate;
        if (request.socket.destroyed) return;
      }
      const accessToken = this.#token(form, response);
      if (accessToken !== undefined) record.accessToken = accessToken;
      return;
    }
    const authorization = headerOf(request, 'authorization') ?? '';
    const token = authorization.replace(/^Bearer /, '');
    if (!this.#validAccessTokens.has(token)) {
      response.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token"' }).end();
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  }

  #token(form: URLSearchParams, response: ServerResponse): string | undefined {
    const grantType = form.get('grant_type');
    if (form.get('client_id') !== 'cluster-client' || form.get('client_secret') !== 'cluster-secret') {
      sendJson(response, 401, { error: 'invalid_client' });
      return undefined;
    }
    if (grantType === 'refresh_token') {
      const presented = form.get('refresh_token') ?? '';
      if (this.#spentRefreshTokens.has(presented)) {
        this.reusedRefreshTokens += 1;
        if (this.revokeGrantOnReuse) {
          // RFC 9700 §4.14.2: reuse means theft; everything issued for the grant goes.
          this.#validAccessTokens.clear();
          for (const live of this.#liveRefreshTokens) this.#spentRefreshTokens.add(live);
          this.#liveRefreshTokens.clear();
        }
        sendJson(response, 400, { error: 'invalid_grant', error_description: 'refresh token already used' });
        return undefined;
      }
      if (!this.#liveRefreshTokens.delete(presented)) {
        sendJson(response, 400, { error: 'invalid_grant' });
        return undefined;
      }
      this.#spentRefreshTokens.add(presented);
    } else if (grantType !== 'client_credentials') {
      sendJson(response, 400, { error: 'unsupported_grant_type' });
      return undefined;
    }
    this.#issued += 1;
    const accessToken = `access-${this.#issued}-${Math.random().toString(36).slice(2)}`;
    const refreshToken = `refresh-${this.#issued}-${Math.random().toString(36).slice(2)}`;
    this.#validAccessTokens.add(accessToken);
    this.#liveRefreshTokens.add(refreshToken);
    sendJson(response, 200, { access_token: accessToken, token_type: 'Bearer', expires_in: 3600, refresh_token: refreshToken });
    return accessToken;
  }
}

function headerOf(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => {
      body += chunk;
    });
    request.on('end', () => resolve(body));
    request.on('error', reject);
  });
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
