// The loopback plumbing the provider emulators and spec/helpers/test-server.ts
// share: a node:http server on 127.0.0.1 port 0 that reads each body whole,
// stamps the `Date` header from the server's clock (so a fake clock and the
// server agree), and closes with every socket it opened.

import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type Route = (request: IncomingMessage, response: ServerResponse, url: URL, body: string) => void | Promise<void>;

export interface Loopback {
  /** `http://127.0.0.1:<port>`. */
  readonly origin: string;
  close(): Promise<void>;
}

/** Starts a loopback server that hands every request (body read) to `route`. */
export async function listen(route: Route, now: () => number): Promise<Loopback> {
  const sockets = new Set<Socket>();
  let origin = '';
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      response.setHeader('Date', new Date(now()).toUTCString());
      const url = new URL(request.url ?? '/', origin);
      Promise.resolve(route(request, response, url, Buffer.concat(chunks).toString('utf8'))).catch(() => response.destroy());
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  // A deep backlog: the suites open hundreds of connections at once.
  await new Promise<void>((resolve) => server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...headers });
  response.end(JSON.stringify(body));
}

/** An OAuth error body (RFC 6749 §5.2). */
export function sendOAuthError(response: ServerResponse, status: number, error: string, description: string): void {
  sendJson(response, status, { error, error_description: description });
}

/** The 401 a protected resource answers to a missing, unknown, expired or revoked token (RFC 6750 §3). */
export function sendInvalidToken(response: ServerResponse): void {
  sendJson(response, 401, { error: 'invalid_token' }, { 'WWW-Authenticate': 'Bearer error="invalid_token"' });
}

/** The media type of a request, lower-cased, without parameters ('' when absent). */
export function mediaType(request: IncomingMessage): string {
  return (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}

/** The token of an `Authorization: Bearer …` header (scheme case-insensitive, RFC 6750 §2.1). */
export function bearerToken(request: IncomingMessage): string | undefined {
  const match = /^bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '');
  return match?.[1];
}

/** Parameters of a form body; undefined when a name repeats (RFC 6749 §3.2: parameters must not be included more than once). */
export function formParameters(body: string): Record<string, string> | undefined {
  return uniqueParameters(new URLSearchParams(body));
}

export function uniqueParameters(search: URLSearchParams): Record<string, string> | undefined {
  const result: Record<string, string> = {};
  for (const [name, value] of search) {
    if (name in result) return undefined;
    result[name] = value;
  }
  return result;
}

/** Parameters of a JSON object body whose values are all strings; undefined otherwise. */
export function jsonParameters(body: string): Record<string, string> | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return undefined;
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(parsed)) {
    if (typeof value !== 'string') return undefined;
    result[name] = value;
  }
  return result;
}
