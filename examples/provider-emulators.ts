// Small stand-ins for the four providers the presets serve, so that
// examples/providers.ts runs with no account and no network. Each speaks its
// provider's token dialect (method, path, body encoding) and refuses any other;
// the spec suite has stricter emulators, these only show the wiring.

import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Provider = 'mvmnt' | 'movemint' | 'musement' | 'myparcel';

export const EXAMPLE_CLIENT_ID = 'example-client';
export const EXAMPLE_CLIENT_SECRET = 'example-secret-do-not-log';
export const EXAMPLE_USERNAME = 'customer@example.com';
export const EXAMPLE_PASSWORD = 'example-password';
export const EXAMPLE_REDIRECT_URI = 'https://app.example.com/oauth/callback';

const tokenPaths: Record<Provider, string> = { mvmnt: '/oauth2/token', movemint: '/oauth/token', musement: '/api/v3/login', myparcel: '/access-token' };

export class ExampleProvider {
  /** Token requests seen, with their grant types. */
  readonly grants: string[] = [];
  readonly #provider: Provider;
  readonly #access = new Set<string>();
  readonly #refresh = new Set<string>();
  readonly #codes = new Set<string>();
  #origin = '';
  readonly #server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => this.#route(request, response, Buffer.concat(chunks).toString('utf8')));
  });

  constructor(provider: Provider) {
    this.#provider = provider;
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.#origin = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this.#origin;
  }

  /** Every access token stops working, as after a key rotation on the provider's side. */
  revokeAccessTokens(): void {
    this.#access.clear();
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #route(request: IncomingMessage, response: ServerResponse, body: string): void {
    const url = new URL(request.url ?? '/', this.#origin);
    if (url.pathname === tokenPaths[this.#provider]) return this.#token(request, response, url, body);
    if (url.pathname === '/oauth/authorize' && this.#provider === 'movemint') {
      const code = randomBytes(12).toString('base64url');
      this.#codes.add(code);
      response.writeHead(302, { Location: `${url.searchParams.get('redirect_uri')}?code=${code}&state=${url.searchParams.get('state') ?? ''}` }).end();
      return;
    }
    if (url.pathname === '/oauth/revoke' && this.#provider === 'movemint') {
      const token = new URLSearchParams(body).get('token') ?? '';
      this.#access.delete(token);
      this.#refresh.delete(token);
      response.writeHead(200).end();
      return;
    }
    const token = /^bearer (\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
    if (token === undefined || !this.#access.has(token)) return json(response, 401, { error: 'invalid_token' });
    if (url.pathname === '/oauth/token/info') return json(response, 200, { resource_owner_id: 42, scopes: [], application: { uid: EXAMPLE_CLIENT_ID } });
    json(response, 200, { ok: true, path: url.pathname });
  }

  #token(request: IncomingMessage, response: ServerResponse, url: URL, body: string): void {
    const type = (request.headers['content-type'] ?? '').split(';')[0];
    let parameters: Record<string, string>;
    if (this.#provider === 'musement') {
      if (request.method !== 'GET') return json(response, 405, { error: 'invalid_request' });
      parameters = Object.fromEntries(url.searchParams);
    } else if (this.#provider === 'myparcel') {
      if (type !== 'application/json') return json(response, 400, { error: 'invalid_request', error_description: 'JSON only' });
      parameters = JSON.parse(body) as Record<string, string>;
      if (!parameters['scope']) return json(response, 400, { error: 'invalid_request', error_description: 'scope is required' });
    } else {
      if (type !== 'application/x-www-form-urlencoded') return json(response, 400, { error: 'invalid_request' });
      parameters = Object.fromEntries(new URLSearchParams(body));
    }
    if (parameters['client_id'] !== EXAMPLE_CLIENT_ID || parameters['client_secret'] !== EXAMPLE_CLIENT_SECRET) {
      return json(response, this.#provider === 'movemint' || this.#provider === 'myparcel' ? 401 : 400, { error: 'invalid_client' });
    }
    const grant = parameters['grant_type'] ?? '';
    this.grants.push(grant);
    const refreshable = this.#provider === 'musement' || (this.#provider === 'movemint' && grant !== 'client_credentials');
    if (grant === 'refresh_token' && !this.#refresh.delete(parameters['refresh_token'] ?? '')) return json(response, 400, { error: 'invalid_grant' });
    if (grant === 'authorization_code' && !this.#codes.delete(parameters['code'] ?? '')) return json(response, 400, { error: 'invalid_grant' });
    if (grant === 'password' && parameters['password'] !== EXAMPLE_PASSWORD) return json(response, 400, { error: 'invalid_grant' });
    const now = Math.floor(Date.now() / 1000);
    const accessToken = this.#provider === 'mvmnt' || this.#provider === 'myparcel' ? jwt({ sub: EXAMPLE_CLIENT_ID, iat: now, exp: now + 3600 }) : randomBytes(24).toString('base64url');
    this.#access.add(accessToken);
    const answer: Record<string, unknown> = { access_token: accessToken, token_type: this.#provider === 'musement' ? 'bearer' : 'Bearer', expires_in: 3600 };
    if (this.#provider === 'movemint') answer['created_at'] = now;
    if (refreshable) {
      const refreshToken = randomBytes(24).toString('base64url');
      this.#refresh.add(refreshToken);
      answer['refresh_token'] = refreshToken;
    }
    json(response, 200, answer);
  }
}

function json(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
}

/** An HS256 JWT with a throwaway key: the client only reads its exp. */
function jwt(claims: Record<string, unknown>): string {
  const head = `${Buffer.from('{"alg":"HS256","typ":"JWT"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  return `${head}.${createHash('sha256').update(head).digest('base64url')}`;
}
