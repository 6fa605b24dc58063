// RedisTokenStore on a real Redis Cluster (three masters, three replicas, started by
// the suite on loopback): every client version's cluster client drives the store, the
// keys of one token share a slot, handles on separate cluster connections (as separate
// processes would be) share one token, and the master holding it can die.

import axios, { type AxiosInstance } from 'axios';
import { expect } from 'chai';
import { Cluster } from 'ioredis';
import { attachAuth, RedisTokenStore, TokenStoreUnavailableError, type AuthHandle } from '../../lib/index.js';
import type { StoredTokenSet } from '../../lib/index.js';
import { tokenKey } from '../../lib/token-identity.js';
import { ClusterTokenServer } from '../helpers/cluster-token-server.js';
import { until, within } from '../helpers/deferred.js';
import { redisClientVersions, type RedisClientVersion, type RedisConnection } from '../helpers/redis-clients.js';
import { requireRedisCluster, startRedisCluster, type RedisCluster } from '../helpers/redis-cluster.js';

function storedTokenSet(accessToken: string): StoredTokenSet {
  return {
    tokenSet: { accessToken, tokenType: 'Bearer', expiresAt: 1_900_000_000_000, refreshToken: `refresh-of-${accessToken}`, raw: { access_token: accessToken } },
    receivedAt: 1_899_999_000_000,
  };
}

/** Token keys as attachAuth makes them, for clients whose hashes land on different masters. */
const identityKeys = Array.from({ length: 12 }, (_, index) =>
  tokenKey({ tokenUrl: 'https://auth.example.com/token', clientId: `cluster-client-${index}`, grant: { type: 'client_credentials' }, scope: undefined, params: {} }),
);

describe('RedisTokenStore on a Redis Cluster (3 masters, 3 replicas)', function () {
  let cluster: RedisCluster;
  /** A client of this spec's own, to look at the keys the stores write. */
  let raw: Cluster;
  let prefixCount = 0;
  const freshPrefix = (): string => `cluster-spec-${process.pid}-${(prefixCount += 1)}:`;
  const figures: Record<string, number | string> = {};

  before(async function () {
    this.timeout(30_000);
    const binaries = requireRedisCluster(this);
    cluster = await startRedisCluster(binaries);
    raw = new Cluster([...cluster.rootNodes], { lazyConnect: true });
    await raw.connect();
  });

  after(async function () {
    raw?.disconnect();
    await cluster?.stop();
    if (Object.keys(figures).length > 0) console.log('      figures:', JSON.stringify(figures));
  });

  /** Every key in the cluster under `prefix`, read from each master. */
  async function keysUnder(prefix: string): Promise<string[]> {
    const keys = await Promise.all(raw.nodes('master').map((node) => node.keys(`${prefix}*`)));
    return keys.flat().sort();
  }

  /** The port of the master serving `key`, as the cluster answers it now. */
  async function masterPortOf(key: string): Promise<number> {
    const slot = Number(await raw.cluster('KEYSLOT', key));
    const range = (await raw.cluster('SLOTS')).find(([from, to]) => slot >= from && slot <= to);
    return range?.[2]?.[1] ?? 0;
  }

  it('spreads the token keys of these specs over all three masters', async function () {
    const store = new RedisTokenStore({ client: raw, prefix: 'spread:' });
    for (const key of identityKeys) await store.set(key, storedTokenSet('access-spread'));
    const masters = new Set(await Promise.all((await keysUnder('spread:')).map((key) => masterPortOf(key))));
    expect(masters.size).to.equal(3);
  });

  for (const kind of redisClientVersions) {
    describe(`with the ${kind.name} cluster client`, function () {
      let connection: RedisConnection;

      before(async function () {
        connection = await kind.connectCluster(cluster.rootNodes);
      });

      after(async function () {
        await connection?.close();
      });

      it('stores, reads and locks token sets whose keys live on every master', async function () {
        const store = new RedisTokenStore({ client: connection.client, prefix: freshPrefix() });
        for (const [index, key] of identityKeys.entries()) {
          await store.set(key, storedTokenSet(`access-${index}`));
          expect(await store.get(key)).to.deep.equal(storedTokenSet(`access-${index}`));
          // Several rounds: a script sent to the wrong node fails only now and then (node-redis 4 did).
          for (let round = 0; round < 5; round += 1) {
            const lock = await store.acquire(key, 5000);
            expect(lock, 'the first holder gets the lock').not.to.equal(undefined);
            expect(await store.acquire(key, 5000), 'a second holder is told it is held').to.equal(undefined);
            await lock?.release();
          }
          const next = await store.acquire(key, 5000);
          expect(next, "the lock is free again after release (the release script ran on the key's node)").not.to.equal(undefined);
          await next?.release();
        }
      });

      it('keeps the token set and its lock in one slot, so a script may touch both', async function () {
        const prefix = freshPrefix();
        const store = new RedisTokenStore({ client: connection.client, prefix });
        const locks = [];
        for (const key of identityKeys) {
          await store.set(key, storedTokenSet('access-slot'));
          locks.push(await store.acquire(key, 5000));
        }
        const keys = await keysUnder(prefix);
        await Promise.all(locks.map((lock) => lock?.release()));
        const tokenSetKeys = keys.filter((key) => !key.endsWith(':lock'));
        expect(tokenSetKeys).to.have.length(identityKeys.length);
        for (const tokenSetKey of tokenSetKeys) {
          expect(keys, 'its lock key').to.include(`${tokenSetKey}:lock`);
          const [setSlot, lockSlot] = await Promise.all([raw.cluster('KEYSLOT', tokenSetKey), raw.cluster('KEYSLOT', `${tokenSetKey}:lock`)]);
          expect(lockSlot, `the slot of ${tokenSetKey}:lock`).to.equal(setSlot);
        }
      });

      it('rejects at once with TokenStoreUnavailableError once the cluster client is closed', async function () {
        const closed = await kind.connectCluster(cluster.rootNodes);
        const store = new RedisTokenStore({ client: closed.client, prefix: freshPrefix() });
        await closed.close();
        const error = await store.get(identityKeys[0] ?? '').then(
          () => undefined,
          (failure: unknown) => failure,
        );
        expect(error).to.be.instanceOf(TokenStoreUnavailableError);
        expect((error as TokenStoreUnavailableError).code).to.equal('ENOTCONNECTED');
      });
    });
  }

  describe('handles on separate cluster connections, two per client version', function () {
    let tokenServer: ClusterTokenServer;
    const connections: RedisConnection[] = [];
    const handles: Handle[] = [];
    const prefix = `cluster-handles-${process.pid}:`;

    before(async function () {
      this.timeout(20_000);
      tokenServer = new ClusterTokenServer();
      await tokenServer.listen();
      for (const kind of redisClientVersions) {
        for (const copy of [1, 2]) {
          // A connection each, as separate processes have: only the store links them.
          const connection = await kind.connectCluster(cluster.rootNodes);
          connections.push(connection);
          const store = new RedisTokenStore({ client: connection.client, prefix, pollInterval: 25 });
          const api = axios.create({ baseURL: tokenServer.url, timeout: 15_000 });
          const name = `${kind.name} #${copy}`;
          const warnings: string[] = [];
          const handle = attachAuth(api, {
            tokenUrl: tokenServer.tokenUrl,
            clientId: 'cluster-client',
            clientSecret: 'cluster-secret',
            store,
            tokenRequest: { timeout: 3000, headers: { 'x-worker': name } },
            retry: { limit: 1, baseDelay: 50, maxDelay: 200 },
            logger: { warn: (line) => warnings.push(line) },
          });
          handles.push({ name, kind, store, api, handle, warnings, detached: false });
        }
      }
    });

    after(async function () {
      for (const entry of handles) if (!entry.detached) entry.handle.detach();
      await Promise.all(connections.map((connection) => connection.close()));
      await tokenServer?.close();
    });

    const attached = (): Handle[] => handles.filter((entry) => !entry.detached);

    /** Every attached handle sends `count` requests; the next token request is held until each handle holds its requests. */
    async function burstWhileHeld(count: number): Promise<{ tokenRequests: number; failures: string[]; ok: number }> {
      const before = tokenServer.tokenRequests;
      const held = tokenServer.holdNext();
      const outcomes = send(attached(), count);
      await within(held.arrived, 10_000, 'the token request of the lock holder');
      await until(() => attached().every(({ handle }) => handle.stats().held === count), 'every handle holds its requests', 10_000);
      held.release();
      const failures = await within(outcomes, 15_000, 'every request settling');
      return { tokenRequests: tokenServer.tokenRequests - before, failures, ok: attached().length * count - failures.length };
    }

    it('makes one token request for all of them on a cold start', async function () {
      const outcome = await burstWhileHeld(50);
      figures.coldStartTokenRequests = outcome.tokenRequests;
      expect(outcome.failures).to.deep.equal([]);
      expect(outcome.ok).to.equal(handles.length * 50);
      expect(outcome.tokenRequests).to.equal(1);
    });

    it('makes one new token request for all of them when every token is revoked, presenting the rotating refresh token once', async function () {
      tokenServer.revokeAccessTokens();
      const outcome = await burstWhileHeld(50);
      figures.revocationTokenRequests = outcome.tokenRequests;
      expect(outcome.failures).to.deep.equal([]);
      expect(outcome.tokenRequests).to.equal(1);
      expect(tokenServer.requests.at(-1)?.grantType).to.equal('refresh_token');
      expect(tokenServer.reusedRefreshTokens, 'refresh tokens presented twice').to.equal(0);
    });

    it('answers every request, with at most one extra token request, when the master holding the token dies and its replica takes over', async function () {
      this.timeout(30_000);
      // node-redis 4 and 5 never find the promoted replica (docs/scaling.md): their processes would fall back to their own tokens.
      for (const entry of handles.filter(({ kind }) => !kind.followsFailover)) {
        entry.handle.detach();
        entry.detached = true;
      }
      const [tokenSetKey] = (await keysUnder(prefix)).filter((key) => !key.endsWith(':lock'));
      expect(tokenSetKey, 'the shared token set is in the cluster').to.be.a('string');
      const before = tokenServer.tokenRequests;

      // Traffic while the master is down and no replica has taken over yet: the tokens held serve it.
      const killedAt = performance.now();
      const failover = cluster.killMasterOf(tokenSetKey ?? '');
      const duringFailover = await within(send(attached(), 50), 15_000, 'the requests sent during the failover');
      const { killed, promoted } = await failover;
      figures.failoverMs = Math.round(performance.now() - killedAt);
      expect(promoted).not.to.equal(killed);
      expect(duringFailover).to.deep.equal([]);

      // Each client library finds the new master on its own schedule; wait for it (bounded), then revoke.
      const storeKey = `axios-oauth-queue:${(tokenSetKey ?? '').slice(prefix.length + 1, -1)}`;
      await Promise.all(
        attached().map(async ({ kind, store }) => {
          await eventually(() => store.get(storeKey).then((stored) => stored !== undefined, () => false), 10_000, `the ${kind.name} client finding the promoted replica`);
          figures[`${kind.name} reads the token set again after ms`] = Math.round(performance.now() - killedAt);
        }),
      );

      tokenServer.revokeAccessTokens();
      const outcome = await burstWhileHeld(50);
      figures.failoverRevocationTokenRequests = tokenServer.tokenRequests - before;
      expect(outcome.failures).to.deep.equal([]);
      expect(tokenServer.tokenRequests - before, `token requests after the kill: ${JSON.stringify(tokenServer.requests.slice(before))}`).to.be.at.most(2);
      expect(tokenServer.reusedRefreshTokens, 'refresh tokens presented twice').to.equal(0);
      for (const { name, warnings } of attached()) expect(warnings, name).to.deep.equal([]);
    });
  });
});

interface Handle {
  name: string;
  kind: RedisClientVersion;
  store: RedisTokenStore;
  api: AxiosInstance;
  handle: AuthHandle;
  warnings: string[];
  detached: boolean;
}

/** Sends `count` requests through each handle; resolves with the failures, named by handle. */
async function send(handles: readonly Handle[], count: number): Promise<string[]> {
  const outcomes = await Promise.all(
    handles.flatMap(({ name, api }) =>
      Array.from({ length: count }, (_, index) =>
        api.get(`/api/${index}`).then(
          () => undefined,
          (error: unknown) => `${name}: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`,
        ),
      ),
    ),
  );
  return outcomes.filter((outcome): outcome is string => outcome !== undefined);
}

/** Resolves once `check()` answers true, trying every 50 ms; fails after `ms`. */
async function eventually(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = performance.now() + ms;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
