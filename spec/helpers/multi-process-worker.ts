// One process of the multi-process spec (forked with tsx): its own axios instance,
// Redis client and RedisTokenStore, driven by the parent over IPC. Its settings
// come from the environment; it answers each command with one message.

import axios from 'axios';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { attachAuth, RedisTokenStore, type RedisClientLike } from '../../lib/index.js';

export type WorkerCommand = { type: 'burst'; id: number; count: number } | { type: 'reconnected'; id: number } | { type: 'report'; id: number };

export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'fired'; id: number }
  | { type: 'burst-done'; id: number; ok: number; failed: number; failures: string[] }
  | { type: 'reconnected'; id: number }
  | { type: 'report'; id: number; tokenRequests: number; warnings: string[] };

const { WORKER_ID = '?', REDIS_PORT, REDIS_CLIENT, API_URL, TOKEN_URL } = process.env;

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

const store = new RedisTokenStore({ client: await connect(), prefix: 'multi-process:', pollInterval: 25 });
const api = axios.create({ baseURL: API_URL ?? '', timeout: 15_000 });
const warnings: string[] = [];
const handle = attachAuth(api, {
  tokenUrl: TOKEN_URL ?? '',
  clientId: 'cluster-client',
  clientSecret: 'cluster-secret',
  store,
  // The header tells the test server which process sent a token request.
  tokenRequest: { timeout: 3000, headers: { 'x-worker': WORKER_ID } },
  retry: { limit: 1, baseDelay: 50, maxDelay: 200 },
  logger: { warn: (line) => warnings.push(line) },
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
      send({ type: 'report', id: command.id, tokenRequests: handle.stats().tokenRequests, warnings });
      break;
  }
});

// The parent going away ends this process too.
process.on('disconnect', () => process.exit(0));
send({ type: 'ready' });
