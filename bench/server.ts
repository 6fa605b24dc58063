// The loopback token server and API the benchmark clients talk to. It runs in a
// child process of its own (bench/run.ts forks it), so the CPU it spends is not
// counted against the client under test. Knobs and counters sit behind /control.

import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** How the token endpoint answers. */
export type TokenMode = 'ok' | '500' | 'html' | 'invalid_client' | 'hang';

export interface ServerConfig {
  /** Lifetime of issued access tokens, seconds (sent as expires_in). */
  tokenTtl: number;
  tokenMode: TokenMode;
  /** Milliseconds the token endpoint waits before answering (keeps a refresh in flight). */
  tokenDelayMs: number;
  /** Each API answer waits a uniformly random 0..apiSpreadMs milliseconds. */
  apiSpreadMs: number;
  /** The API answers 401 to every token (a client whose tokens the API never accepts). */
  rejectAll: boolean;
}

export interface ServerStats {
  tokenRequests: number;
  tokenInFlight: number;
  tokenMaxInFlight: number;
  apiCalls: number;
  api200: number;
  api401: number;
  /** User requests seen (distinct x-bench-id values). */
  ids: number;
  /** API calls beyond the first for each x-bench-id: the replays. */
  replays: number;
  /** The most times one x-bench-id reached the API. */
  maxSendsPerId: number;
  /** When the first token request since the counters were reset arrived (epoch ms; 0 when none). */
  firstTokenRequestAt: number;
  /** When each token request arrived, ms after the first (the first 20). */
  tokenRequestOffsets: number[];
}

const defaults: ServerConfig = { tokenTtl: 3600, tokenMode: 'ok', tokenDelayMs: 0, apiSpreadMs: 0, rejectAll: false };

let config: ServerConfig = { ...defaults };
/** Issued access tokens and when each expires (epoch ms). Revoking clears it. */
const tokens = new Map<string, number>();
let tokenSerial = 0;
let counters = freshCounters();
let sendsById = new Map<string, number>();
const hanging = new Set<http.ServerResponse>();

function freshCounters(): Omit<ServerStats, 'ids' | 'replays' | 'maxSendsPerId' | 'tokenInFlight'> {
  return { tokenRequests: 0, tokenMaxInFlight: 0, apiCalls: 0, api200: 0, api401: 0, firstTokenRequestAt: 0, tokenRequestOffsets: [] as number[] };
}
let tokenInFlight = 0;

function stats(): ServerStats {
  let replays = 0;
  let maxSendsPerId = 0;
  for (const sends of sendsById.values()) {
    replays += sends - 1;
    if (sends > maxSendsPerId) maxSendsPerId = sends;
  }
  return { ...counters, tokenInFlight, ids: sendsById.size, replays, maxSendsPerId };
}

function json(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function releaseHanging(): void {
  for (const res of hanging) res.destroy();
  hanging.clear();
}

function answerToken(res: http.ServerResponse): void {
  switch (config.tokenMode) {
    case 'ok': {
      tokenSerial += 1;
      const accessToken = `bench-token-${process.pid}-${tokenSerial}`;
      tokens.set(accessToken, Date.now() + config.tokenTtl * 1000);
      json(res, 200, { access_token: accessToken, token_type: 'Bearer', expires_in: config.tokenTtl }, { 'cache-control': 'no-store' });
      return;
    }
    case '500':
      json(res, 500, { message: 'internal error' });
      return;
    case 'html': {
      const page = '<!doctype html><html><body><h1>Maintenance</h1></body></html>';
      res.writeHead(200, { 'content-type': 'text/html', 'content-length': Buffer.byteLength(page) });
      res.end(page);
      return;
    }
    case 'invalid_client':
      json(res, 400, { error: 'invalid_client', error_description: 'Client authentication failed' });
      return;
    case 'hang':
      return;
  }
}

async function onToken(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  await readBody(req);
  const arrivedAt = Date.now();
  if (counters.tokenRequests === 0) counters.firstTokenRequestAt = arrivedAt;
  if (counters.tokenRequestOffsets.length < 20) counters.tokenRequestOffsets.push(arrivedAt - counters.firstTokenRequestAt);
  counters.tokenRequests += 1;
  tokenInFlight += 1;
  if (tokenInFlight > counters.tokenMaxInFlight) counters.tokenMaxInFlight = tokenInFlight;
  let done = false;
  const finish = (): void => {
    if (done) return;
    done = true;
    tokenInFlight -= 1;
    hanging.delete(res);
  };
  res.on('finish', finish);
  res.on('close', finish);
  if (config.tokenMode === 'hang') {
    hanging.add(res);
    return;
  }
  const delay = config.tokenDelayMs;
  if (delay > 0) setTimeout(() => answerToken(res), delay);
  else answerToken(res);
}

function onApi(req: http.IncomingMessage, res: http.ServerResponse): void {
  counters.apiCalls += 1;
  const id = req.headers['x-bench-id'];
  if (typeof id === 'string') sendsById.set(id, (sendsById.get(id) ?? 0) + 1);
  const authorization = req.headers.authorization ?? '';
  const token = authorization.startsWith('Bearer ') ? authorization.slice(7) : '';
  const expiresAt = tokens.get(token);
  const accepted = !config.rejectAll && expiresAt !== undefined && Date.now() < expiresAt;
  const answer = (): void => {
    if (accepted) {
      counters.api200 += 1;
      json(res, 200, { ok: true });
    } else {
      counters.api401 += 1;
      json(res, 401, { error: 'invalid_token' }, { 'www-authenticate': 'Bearer error="invalid_token"' });
    }
  };
  const spread = config.apiSpreadMs;
  if (spread > 0) setTimeout(answer, Math.random() * spread);
  else answer();
}

async function onControl(req: http.IncomingMessage, res: http.ServerResponse, path: string): Promise<void> {
  const body = await readBody(req);
  switch (path) {
    case '/control/configure':
      // Any change of mode lets requests hanging on the token endpoint go.
      releaseHanging();
      config = { ...config, ...(JSON.parse(body || '{}') as Partial<ServerConfig>) };
      json(res, 200, config);
      return;
    case '/control/revoke':
      tokens.clear();
      json(res, 200, { revoked: true });
      return;
    case '/control/reset-counters':
      counters = freshCounters();
      sendsById = new Map();
      json(res, 200, stats());
      return;
    case '/control/reset':
      releaseHanging();
      config = { ...defaults };
      tokens.clear();
      counters = freshCounters();
      sendsById = new Map();
      json(res, 200, stats());
      return;
    case '/control/stats':
      json(res, 200, stats());
      return;
    default:
      json(res, 404, { error: 'not_found' });
  }
}

const server = http.createServer((req, res) => {
  const path = (req.url ?? '/').split('?')[0] ?? '/';
  if (path === '/token' && req.method === 'POST') {
    onToken(req, res).catch(() => res.destroy());
  } else if (path.startsWith('/api/')) {
    onApi(req, res);
  } else if (path.startsWith('/control/')) {
    onControl(req, res, path).catch(() => res.destroy());
  } else {
    json(res, 404, { error: 'not_found' });
  }
});
server.keepAliveTimeout = 60_000;
server.headersTimeout = 65_000;
server.requestTimeout = 0;
server.maxHeadersCount = 100;

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  if (process.send !== undefined) process.send({ port });
  else console.log(JSON.stringify({ port }));
});

// The parent going away (or asking) ends the server; it never outlives a run.
process.on('disconnect', () => process.exit(0));
process.on('message', (message: unknown) => {
  if (message === 'stop') {
    releaseHanging();
    server.close();
    server.closeAllConnections();
    process.exit(0);
  }
});
