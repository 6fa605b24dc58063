// A loopback token endpoint and API for the fault matrix: each answer can be
// replaced by a fault (a status, a body, a reset, a hang), every token request
// and every API hit is counted (per `x-request-id`), and a deferred "gate" holds
// the token endpoint open so a test can act while requests are held.

import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** What a handler may do with a request: answer it, or fault it. */
export type Handler = (request: IncomingMessage, response: ServerResponse, body: string) => void | Promise<void>;

/** A promise with its resolve exposed, to hold a server answer until the test releases it. */
export interface Gate {
  readonly promise: Promise<void>;
  open(): void;
}

export function gate(): Gate {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

export interface FaultServer {
  /** `http://127.0.0.1:<port>`. */
  readonly origin: string;
  readonly tokenUrl: string;
  /** Token requests received (whatever the answer). */
  tokenRequests: number;
  /** Parsed parameters of every token request, in order. */
  readonly tokenParameters: URLSearchParams[];
  /** Every access and refresh token the server issued, for the secret sweeps. */
  readonly issued: string[];
  /** Tokens the API accepts. Clear it to revoke everything. */
  readonly validTokens: Set<string>;
  /** API hits per `x-request-id` header. */
  readonly apiHits: Map<string, number>;
  /** `Authorization` headers the API saw, per request id, in order. */
  readonly apiAuthorizations: Map<string, (string | undefined)[]>;
  /** Replaces the token endpoint's behaviour; `issueToken` is the default. */
  token: Handler;
  /** Replaces the API's behaviour; `acceptValidToken` is the default. */
  api: Handler;
  /** Issues an access token (and optionally a refresh token) and answers with it. */
  issueToken(response: ServerResponse, extra?: Record<string, unknown>): string;
  /** Answers JSON with a status and optional headers. */
  json(response: ServerResponse, status: number, body: unknown, headers?: Record<string, string>): void;
  close(): Promise<void>;
}

export async function startFaultServer(): Promise<FaultServer> {
  const sockets = new Set<Socket>();
  let counter = 0;
  const fault: FaultServer = {
    origin: '',
    tokenUrl: '',
    tokenRequests: 0,
    tokenParameters: [],
    issued: [],
    validTokens: new Set(),
    apiHits: new Map(),
    apiAuthorizations: new Map(),
    token: (_request, response) => {
      fault.issueToken(response);
    },
    api: (request, response) => {
      const authorization = request.headers.authorization;
      const token = authorization?.startsWith('Bearer ') ? authorization.slice(7) : undefined;
      if (token !== undefined && fault.validTokens.has(token)) fault.json(response, 200, { ok: true, path: request.url });
      else fault.json(response, 401, { error: 'invalid_token' }, { 'WWW-Authenticate': 'Bearer error="invalid_token"' });
    },
    issueToken(response, extra = {}) {
      counter += 1;
      const accessToken = `access-${counter}-${Math.random().toString(36).slice(2)}`;
      fault.issued.push(accessToken);
      fault.validTokens.add(accessToken);
      if (typeof extra['refresh_token'] === 'string') fault.issued.push(extra['refresh_token']);
      fault.json(response, 200, { access_token: accessToken, token_type: 'Bearer', expires_in: 3600, ...extra });
      return accessToken;
    },
    json(response, status, body, headers = {}) {
      response.writeHead(status, { 'Content-Type': 'application/json', ...headers });
      response.end(JSON.stringify(body));
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const url = new URL(request.url ?? '/', fault.origin);
      let handler: Handler;
      if (url.pathname === '/token') {
        fault.tokenRequests += 1;
        fault.tokenParameters.push(new URLSearchParams(body === '' ? url.search : body));
        handler = fault.token;
      } else {
        const id = String(request.headers['x-request-id'] ?? '');
        fault.apiHits.set(id, (fault.apiHits.get(id) ?? 0) + 1);
        const seen = fault.apiAuthorizations.get(id) ?? [];
        seen.push(request.headers.authorization);
        fault.apiAuthorizations.set(id, seen);
        handler = fault.api;
      }
      Promise.resolve(handler(request, response, body)).catch(() => response.destroy());
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  Object.assign(fault, { origin, tokenUrl: `${origin}/token` });
  return fault;
}
