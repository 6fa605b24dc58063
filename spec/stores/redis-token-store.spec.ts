import { expect } from 'chai';
import { Redis } from 'ioredis';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createClient } from 'redis';
import { createClient as createClient4 } from 'redis-4';
import { ConfigurationError, RedisTokenStore, TokenStoreUnavailableError } from '../../lib/index.js';
import type { StoredTokenSet } from '../../lib/index.js';
import type { RedisClientLike } from '../../lib/stores/redis-token-store.js';
import { tokenKey } from '../../lib/token-identity.js';
import { within } from '../helpers/deferred.js';
import { redisClientVersions, type RedisConnection } from '../helpers/redis-clients.js';
import { freePort, requireRedisServer, startRedisServer, type RedisServer } from '../helpers/redis-server.js';

const REFRESH_SECRET = 'refresh-secret-that-starts-the-grant';

/** A token key as attachAuth makes it, for a grant whose refresh token is a secret. */
const identityKey = tokenKey({
  tokenUrl: 'https://auth.example.com/token',
  clientId: 'store-client',
  grant: { type: 'refresh_token', refreshToken: REFRESH_SECRET },
  scope: 'read',
  params: {},
});

function storedTokenSet(accessToken: string, refreshToken = `refresh-of-${accessToken}`): StoredTokenSet {
  return {
    tokenSet: { accessToken, tokenType: 'Bearer', expiresAt: 1_900_000_000_000, refreshToken, scope: 'read', raw: { access_token: accessToken, refresh_token: refreshToken } },
    receivedAt: 1_899_999_000_000,
  };
}

describe('RedisTokenStore', function () {
  let server: RedisServer;
  let raw: Redis;
  let prefixCount = 0;
  /** A prefix per test, so tests never see each other's keys. */
  const freshPrefix = (): string => `spec-${process.pid}-${(prefixCount += 1)}:`;

  before(async function () {
    const binary = requireRedisServer(this);
    server = await startRedisServer(binary);
    raw = new Redis(server.port, '127.0.0.1', { lazyConnect: true });
    await raw.connect();
  });

  after(async function () {
    await raw?.quit();
    await server?.stop();
  });

  for (const kind of redisClientVersions) {
    describe(`with ${kind.name}`, function () {
      let connection: RedisConnection;

      before(async function () {
        connection = await kind.connect(server.port);
      });

      after(async function () {
        await connection?.close();
      });

      const newStore = (options: { prefix?: string; encryptionKey?: string | Uint8Array; commandTimeout?: number; onWarning?: (message: string) => void } = {}): RedisTokenStore =>
        new RedisTokenStore({
          client: connection.client,
          prefix: options.prefix ?? freshPrefix(),
          ...(options.encryptionKey === undefined ? {} : { encryptionKey: options.encryptionKey }),
          ...(options.commandTimeout === undefined ? {} : { commandTimeout: options.commandTimeout }),
          // Unreadable values warn through here; a spec that expects none fails on one.
          onWarning: options.onWarning ?? ((message) => expect.fail(`unexpected store warning: ${message}`)),
        });

      it('answers undefined for a token key it never stored', async function () {
        expect(await newStore().get(identityKey)).to.equal(undefined);
      });

      it('gives back the token set it stored, as it was stored', async function () {
        const store = newStore();
        await store.set(identityKey, storedTokenSet('access-1'));
        expect(await store.get(identityKey)).to.deep.equal(storedTokenSet('access-1'));
      });

      it('lets a token set lapse after the TTL it was given, and keeps one without a TTL until it is deleted', async function () {
        const prefix = freshPrefix();
        const store = newStore({ prefix });
        await store.set(identityKey, storedTokenSet('access-ttl'), 60_000);
        const [key] = await raw.keys(`${prefix}*`);
        expect(key).to.be.a('string');
        const ttl = await raw.pttl(key as string);
        expect(ttl).to.be.greaterThan(0).and.at.most(60_000);

        await store.set(identityKey, storedTokenSet('access-forever'));
        expect(await raw.pttl(key as string)).to.equal(-1);
        await store.delete(identityKey);
        expect(await store.get(identityKey)).to.equal(undefined);
        expect(await raw.exists(key as string)).to.equal(0);
      });

      it('names its keys with its prefix and the hashed token identity, never with a secret', async function () {
        const prefix = freshPrefix();
        const store = newStore({ prefix });
        await store.set(identityKey, storedTokenSet('access-named'));
        const lock = await store.acquire(identityKey, 5000);
        const keys = await raw.keys(`${prefix}*`);
        await lock?.release();
        const hash = identityKey.slice('axios-oauth-queue:'.length);
        // The braces are a Redis Cluster hash tag: the token set and its lock live in one slot.
        expect(keys.sort()).to.deep.equal([`${prefix}{${hash}}`, `${prefix}{${hash}}:lock`]);
        for (const key of keys) {
          expect(key).not.to.include(REFRESH_SECRET);
          expect(key).not.to.include('access-named');
        }
      });

      it('lets one holder take the lock at a time, and the next one once it is released', async function () {
        const store = newStore();
        const first = await store.acquire(identityKey, 5000);
        expect(first, 'the first holder gets the lock').not.to.equal(undefined);
        expect(await store.acquire(identityKey, 5000), 'a second holder is told it is held').to.equal(undefined);
        await first?.release();
        const next = await store.acquire(identityKey, 5000);
        expect(next, 'the lock is free again after release').not.to.equal(undefined);
        await next?.release();
      });

      it('sets the lock to lapse after its TTL, so a holder that dies does not block the others', async function () {
        const prefix = freshPrefix();
        const store = newStore({ prefix });
        const lock = await store.acquire(identityKey, 4000);
        const [lockKey] = await raw.keys(`${prefix}*:lock`);
        const ttl = await raw.pttl(lockKey as string);
        await lock?.release();
        expect(ttl).to.be.greaterThan(0).and.at.most(4000);
      });

      it('never releases a lock that has passed to another holder', async function () {
        const prefix = freshPrefix();
        const store = newStore({ prefix });
        const stale = await store.acquire(identityKey, 5000);
        // As if it lapsed while its holder was stalled: the key goes, another process takes the lock.
        await raw.del(...(await raw.keys(`${prefix}*:lock`)));
        const current = await store.acquire(identityKey, 5000);
        expect(current).not.to.equal(undefined);
        await stale?.release();
        expect(await store.acquire(identityKey, 5000), 'the new holder still has it').to.equal(undefined);
        await current?.release();
      });

      it('stores token sets encrypted when given an encryptionKey: a raw GET shows no token', async function () {
        const prefix = freshPrefix();
        const store = newStore({ prefix, encryptionKey: 'a passphrase of the deployment, 32+ chars' });
        await store.set(identityKey, storedTokenSet('access-secret-value', 'refresh-secret-value'));
        const [key] = await raw.keys(`${prefix}*`);
        const value = await raw.get(key as string);
        expect(value).to.be.a('string');
        expect(value).not.to.include('access-secret-value');
        expect(value).not.to.include('refresh-secret-value');
        expect(value).not.to.include('accessToken');
        expect(await store.get(identityKey)).to.deep.equal(storedTokenSet('access-secret-value', 'refresh-secret-value'));
      });

      it('reads a token set encrypted with another key as absent, warning once with both key ids and neither key nor token', async function () {
        const prefix = freshPrefix();
        const writerKey = Buffer.alloc(32, 1);
        const readerKey = Buffer.alloc(32, 2);
        await newStore({ prefix, encryptionKey: writerKey }).set(identityKey, storedTokenSet('access-other-key', 'refresh-other-key'));
        const warnings: string[] = [];
        const reader = newStore({ prefix, encryptionKey: readerKey, onWarning: (message) => warnings.push(message) });
        expect(await reader.get(identityKey)).to.equal(undefined);
        expect(await reader.get(identityKey)).to.equal(undefined);
        expect(warnings).to.have.length(1);
        const [keyIdOfReader, keyIdOfWriter] = [readerKey, writerKey].map((key) => createHash('sha256').update('axios-oauth-queue/key-id').update(key).digest('hex').slice(0, 8));
        expect(warnings[0]).to.include(`encryptionKey ${keyIdOfReader}`).and.include(`encryptionKey ${keyIdOfWriter}`);
        for (const secret of ['access-other-key', 'refresh-other-key', writerKey.toString('hex'), readerKey.toString('hex'), writerKey.toString('base64'), prefix]) {
          expect(warnings[0]).not.to.include(secret);
        }
        expect(await newStore({ prefix, encryptionKey: writerKey }).get(identityKey)).to.deep.equal(storedTokenSet('access-other-key', 'refresh-other-key'));
      });

      it('warns once when a value is not encrypted although the store has a key, or cannot be read at all', async function () {
        const prefix = freshPrefix();
        await newStore({ prefix }).set(identityKey, storedTokenSet('access-in-clear'));
        const warnings: string[] = [];
        expect(await newStore({ prefix, encryptionKey: Buffer.alloc(32, 3), onWarning: (message) => warnings.push(message) }).get(identityKey)).to.equal(undefined);
        const [key] = await raw.keys(`${prefix}*`);
        await raw.set(key as string, 'corrupted, not a token set');
        expect(await newStore({ prefix, onWarning: (message) => warnings.push(message) }).get(identityKey)).to.equal(undefined);
        expect(warnings).to.have.length(2);
        expect(warnings.join(' ')).not.to.include('access-in-clear');
      });

      it('keeps the order of token sets: a write of an older or equal generation is refused and leaves the newer set', async function () {
        for (const encryptionKey of [undefined, Buffer.alloc(32, 4)]) {
          const store = newStore(encryptionKey === undefined ? {} : { encryptionKey });
          const at = (generation: number, accessToken: string): StoredTokenSet => ({ ...storedTokenSet(accessToken), generation });
          expect(await store.set(identityKey, at(2, 'access-gen-2'))).to.equal(true);
          expect(await store.set(identityKey, at(1, 'access-gen-1-late')), 'an older write landing late').to.equal(false);
          expect(await store.set(identityKey, at(2, 'access-gen-2-other')), 'a second writer based on the same set').to.equal(false);
          expect(await store.get(identityKey)).to.deep.equal(at(2, 'access-gen-2'));
          expect(await store.set(identityKey, at(3, 'access-gen-3'), 60_000)).to.equal(true);
          expect(await store.get(identityKey)).to.deep.equal(at(3, 'access-gen-3'));
        }
      });

      it('leaves no lock behind when a lock request times out while Redis is frozen and Redis runs it on waking', async function () {
        const prefix = freshPrefix();
        const store = newStore({ prefix, commandTimeout: 200 });
        server.pause();
        let outcome: unknown;
        try {
          outcome = await store.acquire(identityKey, 60_000).then(
            () => 'a lock',
            (error: { code?: string }) => error.code,
          );
        } finally {
          server.resume();
        }
        expect(outcome).to.equal('ETIMEDOUT');
        // A round trip on the same connection: the lock request sent during the freeze has run.
        await store.get(identityKey);
        expect(await raw.keys(`${prefix}*:lock`)).to.deep.equal([]);
      });

      it('tells its holder once the lock could not be renewed (it lapsed, or another process took it)', async function () {
        const prefix = freshPrefix();
        const store = newStore({ prefix });
        const lock = await store.acquire(identityKey, 300);
        expect(lock?.lost).to.equal(false);
        await raw.del(...(await raw.keys(`${prefix}*:lock`)));
        await within(
          (async () => {
            while (lock?.lost !== true) await new Promise((resolve) => setTimeout(resolve, 20));
          })(),
          2000,
          'the next renewal',
        );
        await lock?.release();
      });
    });
  }

  it('shares token sets and the lock between processes on every client version', async function () {
    const connections = await Promise.all(redisClientVersions.map((kind) => kind.connect(server.port)));
    try {
      const prefix = freshPrefix();
      const key = Buffer.alloc(32, 7);
      const stores = connections.map(({ client }) => new RedisTokenStore({ client, prefix, encryptionKey: key }));
      for (const [index, writer] of stores.entries()) {
        await writer.set(identityKey, storedTokenSet(`access-shared-${index}`));
        const lock = await writer.acquire(identityKey, 5000);
        for (const [readerIndex, reader] of stores.entries()) {
          const names = `${redisClientVersions[index]?.name} → ${redisClientVersions[readerIndex]?.name}`;
          expect(await reader.get(identityKey), names).to.deep.equal(storedTokenSet(`access-shared-${index}`));
          expect(await reader.acquire(identityKey, 5000), names).to.equal(undefined);
        }
        await lock?.release();
      }
    } finally {
      await Promise.all(connections.map((connection) => connection.close()));
    }
  });

  it('drives a node-redis 4 client in legacyMode through its promise commands', async function () {
    const client = createClient4({ socket: { host: '127.0.0.1', port: server.port }, legacyMode: true });
    client.on('error', () => {});
    await client.connect();
    try {
      const store = new RedisTokenStore({ client: client as unknown as RedisClientLike, prefix: freshPrefix() });
      await store.set(identityKey, storedTokenSet('access-legacy'));
      expect(await store.get(identityKey)).to.deep.equal(storedTokenSet('access-legacy'));
      const lock = await store.acquire(identityKey, 5000);
      expect(lock).not.to.equal(undefined);
      expect(await store.acquire(identityKey, 5000)).to.equal(undefined);
      await lock?.release();
    } finally {
      await client.disconnect();
    }
  });

  it('refuses a prefix with a brace, which would break the hash tag that keeps a token in one cluster slot', function () {
    const client = new Redis({ lazyConnect: true });
    expect(() => new RedisTokenStore({ client, prefix: 'tokens:{app}:' })).to.throw(ConfigurationError, /RedisTokenStore prefix.*\{/);
    client.disconnect();
  });

  it('rejects at once with TokenStoreUnavailableError when the client is not connected', async function () {
    const client = createClient({ socket: { host: '127.0.0.1', port: server.port } });
    const store = new RedisTokenStore({ client });
    const error: unknown = await store.get(identityKey).then(
      () => undefined,
      (failure: unknown) => failure,
    );
    expect(error).to.be.instanceOf(TokenStoreUnavailableError);
    expect((error as TokenStoreUnavailableError).code).to.equal('ENOTCONNECTED');
  });

  it('gives up on a Redis that does not answer after commandTimeout', async function () {
    const port = await freePort();
    const client = new Redis(port, '127.0.0.1', { lazyConnect: true, retryStrategy: () => 60_000, maxRetriesPerRequest: null });
    client.on('error', () => {});
    const store = new RedisTokenStore({ client, commandTimeout: 100 });
    try {
      const error: unknown = await store.set(identityKey, storedTokenSet('access-nowhere')).then(
        () => undefined,
        (failure: unknown) => failure,
      );
      expect(error).to.be.instanceOf(TokenStoreUnavailableError);
      expect(String((error as Error).message)).not.to.include('access-nowhere');
    } finally {
      client.disconnect();
    }
  });

  it('declares peer ranges that span exactly the client majors this spec runs against', function () {
    const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { peerDependencies: Record<string, string> };
    for (const [library, peer] of [
      ['ioredis', 'ioredis'],
      ['node-redis', 'redis'],
    ] as const) {
      const majors = redisClientVersions.filter((kind) => kind.library === library).map((kind) => Number(kind.version.split('.')[0]));
      expect(manifest.peerDependencies[peer], `the ${peer} peer range`).to.equal(`>=${Math.min(...majors)} <${Math.max(...majors) + 1}`);
    }
  });

  it('refuses a client that is neither ioredis nor node-redis, naming the option', function () {
    expect(() => new RedisTokenStore({ client: { get: async () => null, set: async () => 'OK', del: async () => 0, eval: async () => 0 } })).to.throw(
      ConfigurationError,
      /RedisTokenStore client/,
    );
  });
});
