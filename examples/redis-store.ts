// Many processes, one token: RedisTokenStore shares the token set and the token
// request between every process that uses the same Redis. Here two "processes"
// (two handles, one on ioredis, one on node-redis, each with its own client)
// fire requests together against the embedded demo provider and make one token
// request between them. Needs a redis-server:
//   redis-server --port 6379 &   then   npx tsx examples/redis-store.ts
// (REDIS_URL picks another server; the example writes under its own key prefix.)

import axios from 'axios';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { attachAuth, presets, RedisTokenStore } from '../lib/index.js';
import { DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DemoProvider } from './demo-server.js';

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
// The same key in every process; in production, read it from your secret store.
const encryptionKey = process.env.TOKEN_STORE_KEY ?? 'example passphrase, not for production';

const ioredis = new Redis(redisUrl, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 1 });
const nodeRedis = createClient({ url: redisUrl, socket: { reconnectStrategy: false } });
// node-redis throws on an 'error' event nobody listens to: always give it a listener.
nodeRedis.on('error', () => {});
ioredis.on('error', () => {});
try {
  await Promise.all([ioredis.connect(), nodeRedis.connect()]);
} catch {
  console.error(`No Redis at ${redisUrl}: start one (redis-server --port 6379) or set REDIS_URL.`);
  process.exit(1);
}

const provider = new DemoProvider();
const baseUrl = await provider.start();
// A fresh prefix per run, so this example never picks up a token from an earlier one.
const prefix = `axios-oauth-queue-example:${Date.now()}:`;

function startProcess(name: string, store: RedisTokenStore) {
  const api = axios.create({ baseURL: baseUrl });
  const handle = attachAuth(api, {
    ...presets.mvmnt({ clientId: DEMO_CLIENT_ID, clientSecret: DEMO_CLIENT_SECRET, baseUrl }),
    store,
    logger: { warn: (line) => console.warn(`[${name}] ${line}`) },
  });
  return { name, api, handle };
}

const processes = [
  startProcess('ioredis', new RedisTokenStore({ client: ioredis, prefix, encryptionKey })),
  startProcess('node-redis', new RedisTokenStore({ client: nodeRedis, prefix, encryptionKey })),
];

// 100 requests from each at once: one process takes the lock and fetches, the other waits for its token set.
await Promise.all(processes.flatMap(({ api }) => Array.from({ length: 100 }, (_, index) => api.get(`/orders/${index}`))));
for (const { name, handle } of processes) console.log(`${name.padEnd(10)} token requests: ${handle.stats().tokenRequests}`);
console.log(`the provider saw ${provider.counters.tokenRequests} token request(s) for 200 API requests`);

const keys = await ioredis.keys(`${prefix}*`);
console.log(`Redis holds ${keys.length} key(s) under the prefix; the token set is encrypted:`, (await ioredis.get(keys[0] ?? ''))?.slice(0, 40), '…');

for (const { handle } of processes) handle.detach();
await ioredis.del(...keys);
ioredis.disconnect();
nodeRedis.destroy();
await provider.close();
