// A tiny OAuth 2.0 provider for the examples: a token endpoint (client
// credentials, MVMNT's POST /oauth2/token with a form body) and a protected API
// (GET /orders/:id) in one loopback server, with knobs to make it misbehave
// (short-lived tokens, revocation, a failing token endpoint) and counters that
// show what the client really sent. It needs no network and no setup.

import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export const DEMO_CLIENT_ID = 'demo-client';
export const DEMO_CLIENT_SECRET = 'demo-secret-do-not-log';

/** What the provider has seen; read it, or `reset()` it between chapters. */
export interface DemoCounters {
  /** Requests that reached the token endpoint. */
  tokenRequests: number;
  /** Token requests answered with a failure (the failure knob). */
  tokenFailures: number;
  /** Requests that reached the API. */
  apiRequests: number;
  /** API requests refused with 401 (no, unknown, expired or revoked token). */
  apiUnauthorized: number;
}

interface IssuedToken {
  expiresAt: number;
  revoked: boolean;
}

export class DemoProvider {
  /** Lifetime of the tokens issued from now on, in seconds. */
  tokenLifetime = 3600;
  /** Token requests still to fail with a 500 before the endpoint works again; Infinity for an outage. */
  failNextTokenRequests = 0;
  /** Called when a token request arrives; the answer waits for the promise it returns. */
  beforeTokenAnswer: (() => Promise<void> | void) | undefined;
  readonly counters: DemoCounters = { tokenRequests: 0, tokenFailures: 0, apiRequests: 0, apiUnauthorized: 0 };

  readonly #tokens = new Map<string, IssuedToken>();
  #server: Server | undefined;

  /** Listens on 127.0.0.1, on a port the system picks, and returns the base URL. */
  async start(): Promise<string> {
    const server = createServer((request, response) => {
      this.#route(request, response).catch(() => {
        if (!response.headersSent) response.writeHead(500);
        response.end();
      });
    });
    this.#server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    const server = this.#server;
    if (server === undefined) return;
    this.#server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** The provider revokes every token it has issued (a key rotation, an admin's panic button). */
  revokeAll(): void {
    for (const token of this.#tokens.values()) token.revoked = true;
  }

  reset(): DemoCounters {
    const snapshot = { ...this.counters };
    Object.assign(this.counters, { tokenRequests: 0, tokenFailures: 0, apiRequests: 0, apiUnauthorized: 0 });
    return snapshot;
  }

  async #route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = await readBody(request);
    const path = (request.url ?? '/').split('?')[0] ?? '/';
    if (request.method === 'POST' && path === '/oauth2/token') return this.#token(body, response);
    const order = /^\/orders\/(\d+)$/.exec(path);
    if (request.method === 'GET' && order !== null) return this.#api(request, response, order[1] ?? '0');
    sendJson(response, 404, { error: 'not_found' });
  }

  async #token(body: string, response: ServerResponse): Promise<void> {
    this.counters.tokenRequests += 1;
    await this.beforeTokenAnswer?.();
    if (this.failNextTokenRequests > 0) {
      this.failNextTokenRequests -= 1;
      this.counters.tokenFailures += 1;
      response.writeHead(500, { 'content-type': 'text/html' });
      response.end('<html><body>500 Internal Server Error</body></html>');
      return;
    }
    const form = new URLSearchParams(body);
    if (form.get('grant_type') !== 'client_credentials') return sendJson(response, 400, { error: 'unsupported_grant_type' });
    if (form.get('client_id') !== DEMO_CLIENT_ID || form.get('client_secret') !== DEMO_CLIENT_SECRET) {
      return sendJson(response, 401, { error: 'invalid_client', error_description: 'Client authentication failed' });
    }
    const accessToken = randomBytes(16).toString('hex');
    this.#tokens.set(accessToken, { expiresAt: Date.now() + this.tokenLifetime * 1000, revoked: false });
    sendJson(response, 200, { access_token: accessToken, token_type: 'Bearer', expires_in: this.tokenLifetime });
  }

  #api(request: IncomingMessage, response: ServerResponse, orderId: string): void {
    this.counters.apiRequests += 1;
    const match = /^Bearer (.+)$/.exec(request.headers.authorization ?? '');
    const token = match === null ? undefined : this.#tokens.get(match[1] ?? '');
    if (token === undefined || token.revoked || Date.now() >= token.expiresAt) {
      this.counters.apiUnauthorized += 1;
      response.setHeader('www-authenticate', 'Bearer error="invalid_token"');
      return sendJson(response, 401, { error: 'invalid_token' });
    }
    sendJson(response, 200, { id: Number(orderId), status: 'shipped' });
  }
}

export function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

export function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  response.end(JSON.stringify(body));
}
