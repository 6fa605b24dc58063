// One process of the multi-process spec (forked with tsx): its own axios instance,
// Redis client and RedisTokenStore, driven by the parent over IPC. Its settings
// come from the environment; it answers each command with one message.

import axios from 'axios';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { attachAuth, RedisTokenStore, type AttachAuthOptions, type RedisClientLike, type StoredTokenSet, type TokenStore, type TokenStoreLock } from '../../lib/index.js';

export type WorkerCommand =
  | { type: 'burst'; id: number; count: number }
  | { type: 'reconnected'; id: number }
  | { type: 'report'; id: number }
  | { type: 'ping'; id: number }
  | { type: 'hold-next-write-copy'; id: number }
  | { type: 'send-write-copy'; id: number };

export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'fired'; id: number }
  | { type: 'burst-done'; id: number; ok: number; failed: number; failures: string[] }
  | { type: 'reconnected'; id: number }
  | { type: 'report'; id: number; tokenRequests: number; warnings: string[]; adopted: string[] }
  | { type: 'ping'; id: number }
  | { type: 'hold-next-write-copy'; id: number }
  | { type: 'send-write-copy'; id: number; written: boolean | void; accessToken: string | undefined };

const { WORKER_ID = '?', REDIS_PORT, REDIS_CLIENT, API_URL, TOKEN_URL, REFRESH_TOKEN, SUBJECT, CLOCK_OFFSET_MS } = process.env;

function send(message: WorkerMessage): void {
  process.send?.(message);
}

/** Resolves once the client is connected to Redis again (after a restart). */
let whenReady: () => Promise<void>;

async function connect(): Promise<RedisClientLike> {
  const port = Number(REDIS_PORT);
  if (REDIS_CLIENT === 'node-redis') {
    const client = createClient({ socket: { host: '127.0.0.1', port, reconnectStrategy: () => 50 } });
    client.on('error', () => {});
    await client.connect();
    whenReady = () => (client.isReady ? Promise.resolve() : new Promise((resolve) => client.once('ready', () => resolve())));
    return client;
  }
  const client = new Redis(port, '127.0.0.1', { lazyConnect: true, retryStrategy: () => 50, maxRetriesPerRequest: 1 });
  client.on('error', () => {});
  await client.connect();
  whenReady = () => (client.status === 'ready' ? Promise.resolve() : new Promise((resolve) => client.once('ready', () => resolve())));
  return client;
}

/**
 * The worker's RedisTokenStore, able to keep a copy of its next write and send it again
 * later: a write delayed in flight (a client resending a command after a reconnect, a
 * retry) that lands after a newer one.
 */
class WorkerStore implements TokenStore {
  readonly pollInterval: number;
  readonly #inner: RedisTokenStore;
  #copyNext = false;
  #copy: { key: string; value: StoredTokenSet; ttlMs: number | undefined } | undefined;

  constructor(inner: RedisTokenStore) {
    this.#inner = inner;
    this.pollInterval = inner.pollInterval;
  }

  holdNextWriteCopy(): void {
    this.#copyNext = true;
  }

  async sendWriteCopy(): Promise<{ written: boolean | void; accessToken: string | undefined }> {
    const copy = this.#copy;
    this.#copy = undefined;
    if (copy === undefined) return { written: false, accessToken: undefined };
    return { written: await this.#inner.set(copy.key, copy.value, copy.ttlMs), accessToken: copy.value.tokenSet.accessToken };
  }

  get(key: string): Promise<StoredTokenSet | undefined> {
    return this.#inner.get(key);
  }

  set(key: string, value: StoredTokenSet, ttlMs?: number): Promise<boolean> {
    if (this.#copyNext) {
      this.#copyNext = false;
      this.#copy = { key, value, ttlMs };
    }
    return this.#inner.set(key, value, ttlMs);
  }

  delete(key: string): Promise<void> {
    return this.#inner.delete(key);
  }

  acquire(key: string, ttlMs: number): Promise<TokenStoreLock | undefined> {
    return this.#inner.acquire(key, ttlMs);
  }
}

const store = new WorkerStore(new RedisTokenStore({ client: await connect(), prefix: 'multi-process:', pollInterval: 25 }));
const api = axios.create({ baseURL: API_URL ?? '', timeout: 15_000 });
const warnings: string[] = [];
/** Access tokens this process took from the store (onToken source 'store'). */
const adopted: string[] = [];
const clockOffset = Number(CLOCK_OFFSET_MS ?? 0);
const grant: Pick<AttachAuthOptions, 'grant' | 'subject'> = REFRESH_TOKEN === undefined ? {} : { grant: { type: 'refresh_token', refreshToken: REFRESH_TOKEN }, subject: SUBJECT ?? '' };
const handle = attachAuth(api, {
  tokenUrl: TOKEN_URL ?? '',
  clientId: 'cluster-client',
  clientSecret: 'cluster-secret',
  ...grant,
  store,
  // The header tells the test server which process sent a token request. The timeout is
  // longer than the lock's TTL, so that the spec can hold a token request past it.
  tokenRequest: { timeout: 8000, headers: { 'x-worker': WORKER_ID } },
  retry: { limit: 1, baseDelay: 50, maxDelay: 200 },
  logger: { warn: (line) => warnings.push(line) },
  events: {
    onToken: (tokenSet, { source }) => {
      if (source === 'store') adopted.push(tokenSet.accessToken);
    },
  },
  // A process whose clock runs ahead sees the stored token set as expired.
  clock: { now: () => Date.now() + clockOffset },
});

process.on('message', (command: WorkerCommand) => {
  switch (command.type) {
    case 'burst': {
      const requests = Array.from({ length: command.count }, (_, index) =>
        api.get(`/api/${WORKER_ID}/${index}`).then(
          () => undefined,
          (error: unknown) => (error instanceof Error ? `${error.name}: ${error.message}` : String(error)),
        ),
      );
      send({ type: 'fired', id: command.id });
      void Promise.all(requests).then((outcomes) => {
        const failures = outcomes.filter((outcome): outcome is string => outcome !== undefined);
        send({ type: 'burst-done', id: command.id, ok: outcomes.length - failures.length, failed: failures.length, failures: failures.slice(0, 3) });
      });
      break;
    }
    case 'reconnected':
      void whenReady().then(() => send({ type: 'reconnected', id: command.id }));
      break;
    case 'report':
      send({ type: 'report', id: command.id, tokenRequests: handle.stats().tokenRequests, warnings, adopted });
      break;
    case 'ping':
      // A round trip on the store's connection: every command sent before it has run in Redis.
      void store.get('ping').then(
        () => send({ type: 'ping', id: command.id }),
        () => send({ type: 'ping', id: command.id }),
      );
      break;
    case 'hold-next-write-copy':
      store.holdNextWriteCopy();
      send({ type: 'hold-next-write-copy', id: command.id });
      break;
    case 'send-write-copy':
      void store.sendWriteCopy().then((outcome) => send({ type: 'send-write-copy', id: command.id, ...outcome }));
      break;
  }
});

// The parent going away ends this process too.
process.on('disconnect', () => process.exit(0));
send({ type: 'ready' });
