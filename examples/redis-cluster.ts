// Many processes, one token, on a Redis Cluster: the same RedisTokenStore takes an
// ioredis `Cluster` or a node-redis `createCluster()` client. Two "processes" (two
// handles, one on each client) fire requests together against the embedded demo
// provider and make one token request between them. Needs a running cluster:
//   REDIS_CLUSTER=127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002 npx tsx examples/redis-cluster.ts
// (one way to start one: utils/create-cluster in the Redis source tree, or
// `redis-cli --cluster create` over three `redis-server --cluster-enabled yes`).

import axios from 'axios';
import { Cluster } from 'ioredis';
import { createCluster } from 'redis';
import { attachAuth, presets, RedisTokenStore } from '../lib/index.js';
import { DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DemoProvider } from './demo-server.js';

const rootNodes = (process.env.REDIS_CLUSTER ?? '127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002').split(',').map((address) => {
  const [host = '127.0.0.1', port = '7000'] = address.trim().split(':');
  return { host, port: Number(port) };
});
const encryptionKey = process.env.TOKEN_STORE_KEY ?? 'example passphrase, not for production';

const ioredis = new Cluster(rootNodes, { lazyConnect: true, clusterRetryStrategy: () => null });
const nodeRedis = createCluster({
  rootNodes: rootNodes.map(({ host, port }) => ({ url: `redis://${host}:${port}` })),
  // Re-read the cluster's slots half a second after a node stops answering (the default waits 5 s),
  // so a replica that took over from a failed master is found soon.
  topologyRefreshOnReconnectionAttemptStrategy: 500,
});
// Both emit 'error' when a node drops; node-redis throws when nobody listens.
ioredis.on('error', () => {});
nodeRedis.on('error', () => {});
try {
  await Promise.all([ioredis.connect(), nodeRedis.connect()]);
} catch {
  console.error(`No Redis Cluster at ${rootNodes.map(({ host, port }) => `${host}:${port}`).join(', ')}: start one or set REDIS_CLUSTER.`);
  process.exit(1);
}

const provider = new DemoProvider();
const baseUrl = await provider.start();
// A fresh prefix per run, so this example never picks up a token from an earlier one.
const prefix = `axios-oauth-queue-example:${Date.now()}:`;

const processes = [
  { name: 'ioredis', store: new RedisTokenStore({ client: ioredis, prefix, encryptionKey }) },
  { name: 'node-redis', store: new RedisTokenStore({ client: nodeRedis, prefix, encryptionKey }) },
].map(({ name, store }) => {
  const api = axios.create({ baseURL: baseUrl });
  const handle = attachAuth(api, { ...presets.mvmnt({ clientId: DEMO_CLIENT_ID, clientSecret: DEMO_CLIENT_SECRET, baseUrl }), store });
  return { name, api, handle };
});

await Promise.all(processes.flatMap(({ api }) => Array.from({ length: 100 }, (_, index) => api.get(`/orders/${index}`))));
console.log(`the provider saw ${provider.counters.tokenRequests} token request(s) for 200 API requests over the cluster`);

// Every key of the token carries the same hash tag ({…}), so the token set and its lock share a slot.
const keys = (await Promise.all(ioredis.nodes('master').map((node) => node.keys(`${prefix}*`)))).flat();
console.log('keys:', keys.join(', '));

for (const { handle } of processes) handle.detach();
await Promise.all(keys.map((key) => ioredis.del(key)));
ioredis.disconnect();
nodeRedis.destroy();
await provider.close();
