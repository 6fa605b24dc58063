// Every Redis client version the store is tested against, the oldest supported and
// the current major of each library (package.json installs the older ones under
// npm aliases, e.g. `ioredis-5`), with one way to connect each to a single server
// and to a Redis Cluster. The peerDependencies ranges name exactly these majors.

import { Cluster as IoRedis5Cluster, Redis as IoRedis5 } from 'ioredis-5';
import { Cluster as IoRedis6Cluster, Redis as IoRedis6 } from 'ioredis';
import { createClient as createClient6, createCluster as createCluster6 } from 'redis';
import { createClient as createClient4, createCluster as createCluster4 } from 'redis-4';
import { createClient as createClient5, createCluster as createCluster5 } from 'redis-5';
import { readFileSync } from 'node:fs';
import type { RedisClientLike } from '../../lib/stores/redis-token-store.js';

/** A connected client and how to close it. */
export interface RedisConnection {
  client: RedisClientLike;
  close(): Promise<void>;
}

export interface RedisClientVersion {
  /** e.g. 'ioredis 6.0.0', 'node-redis 4.7.1'. */
  name: string;
  library: 'ioredis' | 'node-redis';
  /** The version installed under `packageName`, read from its package.json. */
  version: string;
  /** The name it is installed under: `ioredis`, or an npm alias such as `ioredis-5`. */
  packageName: string;
  /** A client of one redis-server on loopback, connected. */
  connect(port: number): Promise<RedisConnection>;
  /**
   * False for node-redis 4 and 5: their cluster client re-reads the slots only on a MOVED or
   * ASK reply, so after a master dies it never finds the replica that took over.
   */
  followsFailover: boolean;
  /** A cluster client seeded with `rootNodes`, connected (slots discovered). */
  connectCluster(rootNodes: readonly { host: string; port: number }[]): Promise<RedisConnection>;
}

const HOST = '127.0.0.1';

function installedVersion(packageName: string): string {
  const manifest = JSON.parse(readFileSync(new URL(`../../node_modules/${packageName}/package.json`, import.meta.url), 'utf8')) as { version: string };
  return manifest.version;
}

/** The few members of every version's clients the spec needs (their own types differ per version). */
interface ConnectableClient {
  on(event: 'error', listener: (error: unknown) => void): unknown;
  connect(): Promise<unknown>;
  disconnect(): unknown;
  destroy?: () => unknown;
}

function clientVersion(
  library: RedisClientVersion['library'],
  packageName: string,
  create: (port: number) => ConnectableClient,
  createCluster: (rootNodes: readonly { host: string; port: number }[]) => ConnectableClient,
): RedisClientVersion {
  const version = installedVersion(packageName);
  const connected = async (client: ConnectableClient): Promise<RedisConnection> => {
    // Both libraries emit 'error' on a dropped connection; node-redis throws when nobody listens.
    client.on('error', () => {});
    await client.connect();
    return {
      client: client as unknown as RedisClientLike,
      // node-redis 5 and 6 have destroy() (disconnect() is deprecated there); ioredis and node-redis 4 have disconnect().
      close: async () => void (typeof client.destroy === 'function' ? client.destroy() : await client.disconnect()),
    };
  };
  return {
    name: `${library} ${version}`,
    library,
    followsFailover: library === 'ioredis' || Number(version.split('.')[0]) >= 6,
    version,
    packageName,
    connect: (port) => connected(create(port)),
    connectCluster: (rootNodes) => connected(createCluster(rootNodes)),
  };
}

const socketsOf = (rootNodes: readonly { host: string; port: number }[]): { socket: { host: string; port: number } }[] => rootNodes.map((node) => ({ socket: { ...node } }));

/** ioredis gives up on a command after one retry: a store spec must see a dead server, not wait on it. */
const ioredisOptions = { lazyConnect: true, maxRetriesPerRequest: 1 } as const;

export const redisClientVersions: readonly RedisClientVersion[] = [
  clientVersion('ioredis', 'ioredis-5', (port) => new IoRedis5(port, HOST, ioredisOptions), (rootNodes) => new IoRedis5Cluster([...rootNodes], { lazyConnect: true, redisOptions: ioredisOptions })),
  clientVersion('ioredis', 'ioredis', (port) => new IoRedis6(port, HOST, ioredisOptions), (rootNodes) => new IoRedis6Cluster([...rootNodes], { lazyConnect: true, redisOptions: ioredisOptions })),
  clientVersion('node-redis', 'redis-4', (port) => createClient4({ socket: { host: HOST, port } }), (rootNodes) => createCluster4({ rootNodes: socketsOf(rootNodes) })),
  clientVersion('node-redis', 'redis-5', (port) => createClient5({ socket: { host: HOST, port } }), (rootNodes) => createCluster5({ rootNodes: socketsOf(rootNodes) })),
  clientVersion(
    'node-redis',
    'redis',
    (port) => createClient6({ socket: { host: HOST, port } }),
    // Re-reads the slots half a second after a node stops answering (default 5 s), as docs/scaling.md advises.
    (rootNodes) => createCluster6({ rootNodes: socketsOf(rootNodes), topologyRefreshOnReconnectionAttemptStrategy: 500 }),
  ),
];
