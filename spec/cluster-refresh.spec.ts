// The cross-process single flight, with several handles in this process standing
// for several processes: each has its own token manager and single flight, and
// only the Redis store (and its lock) is shared between them.

import axios, { type AxiosInstance } from 'axios';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { attachAuth, RedisTokenStore, type AuthHandle, type StoredTokenSet, type TokenStore, type TokenStoreLock } from '../lib/index.js';
import { LOCK_TTL_MS } from '../lib/cluster-refresh.js';
import { tokenKey } from '../lib/token-identity.js';
import { ClusterTokenServer } from './helpers/cluster-token-server.js';
import { within } from './helpers/deferred.js';
import { requireRedisServer, startRedisServer, type RedisServer } from './helpers/redis-server.js';

interface Process {
  api: AxiosInstance;
  handle: AuthHandle;
  warnings: string[];
  debugLines: string[];
}

/** A store whose acquire() waits at a gate: it stops a process between its read of the store and taking the lock. */
class GatedStore implements TokenStore {
  readonly pollInterval = 20;
  readonly reachedGate: Promise<void>;
  readonly #inner: RedisTokenStore;
  readonly #gate: Promise<void>;
  #reached!: () => void;
  #gated = true;

  constructor(inner: RedisTokenStore, gate: Promise<void>) {
    this.#inner = inner;
    this.#gate = gate;
    this.reachedGate = new Promise((resolve) => {
      this.#reached = resolve;
    });
  }

  get(key: string): Promise<StoredTokenSet | undefined> {
    return this.#inner.get(key);
  }

  set(key: string, value: StoredTokenSet, ttlMs?: number): Promise<boolean> {
    return this.#inner.set(key, value, ttlMs);
  }

  delete(key: string): Promise<void> {
    return this.#inner.delete(key);
  }

  async acquire(key: string, ttlMs: number): Promise<TokenStoreLock | undefined> {
    if (this.#gated) {
      this.#gated = false;
      this.#reached();
      await this.#gate;
    }
    return this.#inner.acquire(key, ttlMs);
  }
}

describe('cluster refresh (handles sharing a RedisTokenStore)', function () {
  let redisServer: RedisServer;
  let tokenServer: ClusterTokenServer;
  const clients: Redis[] = [];
  let prefixCount = 0;

  before(async function () {
    const binary = requireRedisServer(this);
    redisServer = await startRedisServer(binary);
    tokenServer = new ClusterTokenServer();
    await tokenServer.listen();
  });

  after(async function () {
    for (const client of clients) client.disconnect();
    await tokenServer?.close();
    await redisServer?.stop();
  });

  async function connect(): Promise<Redis> {
    const client = new Redis(redisServer.port, '127.0.0.1', { lazyConnect: true, retryStrategy: () => 20, maxRetriesPerRequest: 1 });
    client.on('error', () => {});
    clients.push(client);
    await client.connect();
    return client;
  }

  /** `count` processes, each with its own client, store and handle, under one fresh prefix. */
  async function startProcesses(count: number): Promise<{ processes: Process[]; prefix: string }> {
    const prefix = `cluster-spec-${(prefixCount += 1)}:`;
    const processes: Process[] = [];
    for (let index = 0; index < count; index += 1) {
      const store = new RedisTokenStore({ client: await connect(), prefix, pollInterval: 20 });
      const api = axios.create({ baseURL: tokenServer.url });
      const warnings: string[] = [];
      const debugLines: string[] = [];
      const handle = attachAuth(api, {
        tokenUrl: tokenServer.tokenUrl,
        clientId: 'cluster-client',
        clientSecret: 'cluster-secret',
        store,
        tokenRequest: { timeout: 1000 },
        logger: { warn: (line) => warnings.push(line), debug: (line) => debugLines.push(line) },
      });
      processes.push({ api, handle, warnings, debugLines });
    }
    return { processes, prefix };
  }

  function detachAll(processes: Process[]): void {
    for (const process of processes) process.handle.detach();
  }

  /** Fires `count` requests from every process while the next token request is held open, then lets it answer. */
  async function burstWhileHeld(processes: Process[], count: number): Promise<number[]> {
    const held = tokenServer.holdNext();
    const bursts = processes.map((process) => Promise.all(Array.from({ length: count }, (_, index) => process.api.get(`/api/${index}`).then((response) => response.status))));
    await within(held.arrived, 5000, 'the token request');
    held.release();
    return (await within(Promise.all(bursts), 10_000, 'the bursts')).flat();
  }

  it('makes one token request between processes, however many requests each sends', async function () {
    const { processes } = await startProcesses(4);
    try {
      const before = tokenServer.tokenRequests;
      const statuses = await burstWhileHeld(processes, 100);
      expect(statuses.every((status) => status === 200)).to.equal(true);
      expect(tokenServer.tokenRequests - before).to.equal(1);
      expect(processes.map((process) => process.handle.stats().tokenRequests).sort()).to.deep.equal([0, 0, 0, 1]);
    } finally {
      detachAll(processes);
    }
  });

  it('does not take back a token the API refused; one refresh replaces it for every process, presenting the refresh token once', async function () {
    const { processes } = await startProcesses(3);
    try {
      await burstWhileHeld(processes, 10);
      tokenServer.revokeAccessTokens();
      const before = tokenServer.tokenRequests;
      const reusedBefore = tokenServer.reusedRefreshTokens;
      const statuses = await burstWhileHeld(processes, 50);
      expect(statuses.every((status) => status === 200)).to.equal(true);
      expect(tokenServer.tokenRequests - before).to.equal(1);
      expect(tokenServer.requests.at(-1)?.grantType).to.equal('refresh_token');
      expect(tokenServer.reusedRefreshTokens - reusedBefore).to.equal(0);
    } finally {
      detachAll(processes);
    }
  });

  it('re-reads the store after taking the lock, so it never presents a refresh token another process has just spent', async function () {
    const { processes, prefix } = await startProcesses(1);
    let openGate!: () => void;
    const gate = new Promise<void>((resolve) => {
      openGate = resolve;
    });
    const gated = new GatedStore(new RedisTokenStore({ client: await connect(), prefix }), gate);
    const late = attachAuth(axios.create({ baseURL: tokenServer.url }), { tokenUrl: tokenServer.tokenUrl, clientId: 'cluster-client', clientSecret: 'cluster-secret', store: gated });
    const [early] = processes as [Process];
    try {
      // Both hold the same token set (and refresh token) before the API stops taking it.
      await early.handle.getToken();
      const shared = await late.getToken();
      tokenServer.revokeAccessTokens();
      const before = tokenServer.tokenRequests;
      const reusedBefore = tokenServer.reusedRefreshTokens;

      // The late process has read the store (nothing newer there) and stops before the lock...
      const lateRefresh = late.refresh();
      await within(gated.reachedGate, 5000, 'the late process reaching the lock');
      // ...while the early one refreshes, rotating the refresh token, and lets go of the lock.
      const renewed = await within(early.handle.refresh(), 5000, 'the early refresh');
      openGate();
      const adopted = await within(lateRefresh, 5000, 'the late refresh');

      expect(adopted.accessToken).to.equal(renewed.accessToken).and.not.equal(shared.accessToken);
      expect(adopted.refreshToken).to.equal(renewed.refreshToken);
      expect(tokenServer.tokenRequests - before).to.equal(1);
      expect(tokenServer.reusedRefreshTokens - reusedBefore).to.equal(0);
    } finally {
      late.detach();
      detachAll(processes);
    }
  });

  it('takes over the lock of a process that died holding it, once the lock lapses', async function () {
    const { processes, prefix } = await startProcesses(1);
    try {
      const identity = tokenKey({ tokenUrl: tokenServer.tokenUrl, clientId: 'cluster-client', grant: { type: 'client_credentials' }, scope: undefined, params: {} });
      const lockKey = `${prefix}{${identity.slice('axios-oauth-queue:'.length)}}:lock`;
      // What a process killed mid-refresh leaves behind.
      await (await connect()).set(lockKey, 'owner-that-died', 'PX', 300);
      const before = tokenServer.tokenRequests;
      const response = await within(processes[0]!.api.get('/api/after-lapse'), 5000, 'the request');
      expect(response.status).to.equal(200);
      expect(tokenServer.tokenRequests - before).to.equal(1);
    } finally {
      detachAll(processes);
    }
  });

  it("lets a handle started from a spent refresh token renew with the store's one after the stored access token expired: the grant survives", async function () {
    const prefix = `cluster-spec-${(prefixCount += 1)}:`;
    const refreshToken = tokenServer.issueGrant();
    const start = async (clockOffset: number): Promise<AuthHandle> =>
      attachAuth(axios.create({ baseURL: tokenServer.url }), {
        tokenUrl: tokenServer.tokenUrl,
        clientId: 'cluster-client',
        clientSecret: 'cluster-secret',
        grant: { type: 'refresh_token', refreshToken },
        subject: 'user-9',
        store: new RedisTokenStore({ client: await connect(), prefix, pollInterval: 20 }),
        clock: { now: () => Date.now() + clockOffset },
      });
    const first = await start(0);
    // Started later from the same (by then spent) refresh token, with a clock past the stored token's expiry.
    const later = await start(2 * 3600_000);
    try {
      const reusedBefore = tokenServer.reusedRefreshTokens;
      const before = tokenServer.tokenRequests;
      const firstSet = await first.getToken();
      const laterSet = await within(later.getToken(), 5000, 'the later handle renewing');
      expect(laterSet.accessToken).not.to.equal(firstSet.accessToken);
      expect(tokenServer.tokenRequests - before).to.equal(2);
      expect(tokenServer.reusedRefreshTokens - reusedBefore, 'refresh tokens presented twice').to.equal(0);
      // The first handle takes the newer set the later one wrote, then renews from its refresh token.
      expect((await within(first.refresh(), 5000, 'the first handle taking the newer set')).accessToken).to.equal(laterSet.accessToken);
      const renewed = await within(first.refresh(), 5000, 'the first handle renewing');
      expect(renewed.refreshToken).not.to.equal(laterSet.refreshToken);
      expect(tokenServer.tokenRequests - before).to.equal(3);
      expect(tokenServer.reusedRefreshTokens - reusedBefore, 'refresh tokens presented twice').to.equal(0);
    } finally {
      first.detach();
      later.detach();
    }
  });

  it('asks for a short lock, renewed while held, whatever tokenRequest.timeout says, so that a lock nobody renews lapses soon', async function () {
    const prefix = `cluster-spec-${(prefixCount += 1)}:`;
    const inner = new RedisTokenStore({ client: await connect(), prefix });
    const asked: number[] = [];
    const store: TokenStore = {
      get: (key) => inner.get(key),
      set: (key, value, ttlMs) => inner.set(key, value, ttlMs),
      delete: (key) => inner.delete(key),
      acquire: (key, ttlMs) => {
        asked.push(ttlMs);
        return inner.acquire(key, ttlMs);
      },
    };
    const handle = attachAuth(axios.create({ baseURL: tokenServer.url }), { tokenUrl: tokenServer.tokenUrl, clientId: 'cluster-client', clientSecret: 'cluster-secret', store, tokenRequest: { timeout: 60_000 } });
    try {
      await handle.getToken();
      expect(asked).to.deep.equal([LOCK_TTL_MS]);
      expect(LOCK_TTL_MS).to.be.at.most(3000);
    } finally {
      handle.detach();
    }
  });

  it('stops waiting for another process when the handle is detached', async function () {
    const { processes, prefix } = await startProcesses(1);
    const identity = tokenKey({ tokenUrl: tokenServer.tokenUrl, clientId: 'cluster-client', grant: { type: 'client_credentials' }, scope: undefined, params: {} });
    const lockKey = `${prefix}{${identity.slice('axios-oauth-queue:'.length)}}:lock`;
    const raw = await connect();
    // Another process holds the lock for longer than this test runs.
    await raw.set(lockKey, 'owner-elsewhere', 'PX', 60_000);
    try {
      const [waiting] = processes as [Process];
      const before = tokenServer.tokenRequests;
      const token = waiting.handle.getToken();
      const outcome = token.then(
        () => 'resolved',
        (error: { code?: string }) => error.code,
      );
      waiting.handle.detach();
      expect(await within(outcome, 2000, 'the waiting getToken()')).to.equal('ERR_OAUTH_QUEUE_DETACHED');
      expect(tokenServer.tokenRequests - before).to.equal(0);
    } finally {
      await raw.del(lockKey);
      detachAll(processes);
    }
  });

  it('falls back to its own token requests while Redis is away, warning once without a secret, and shares again once it answers', async function () {
    const binary = requireRedisServer(this);
    const ownRedis = await startRedisServer(binary);
    const processes: Process[] = [];
    try {
      for (let index = 0; index < 2; index += 1) {
        const client = new Redis(ownRedis.port, '127.0.0.1', { lazyConnect: true, retryStrategy: () => 20, maxRetriesPerRequest: 1 });
        client.on('error', () => {});
        clients.push(client);
        await client.connect();
        const api = axios.create({ baseURL: tokenServer.url });
        const warnings: string[] = [];
        const debugLines: string[] = [];
        const store = new RedisTokenStore({ client, pollInterval: 20, commandTimeout: 200 });
        const handle = attachAuth(api, {
          tokenUrl: tokenServer.tokenUrl,
          clientId: 'cluster-client',
          clientSecret: 'cluster-secret',
          store,
          logger: { warn: (line) => warnings.push(line), debug: (line) => debugLines.push(line) },
        });
        processes.push({ api, handle, warnings, debugLines });
      }
      const [first, second] = processes as [Process, Process];
      await ownRedis.stop();
      for (let round = 0; round < 3; round += 1) {
        tokenServer.revokeAccessTokens();
        const statuses = await within(Promise.all(processes.map((process) => process.api.get('/api/outage').then((response) => response.status))), 5000, 'requests during the outage');
        expect(statuses).to.deep.equal([200, 200]);
      }
      for (const process of processes) {
        const storeWarnings = process.warnings.filter((line) => line.includes('token store unavailable'));
        expect(storeWarnings).to.have.length(1);
        expect(storeWarnings[0]).not.to.match(/access-|refresh-|cluster-secret/);
      }

      await ownRedis.restart();
      await within(
        Promise.all(clients.slice(-2).map((client) => (client.status === 'ready' ? undefined : new Promise((resolve) => client.once('ready', resolve))))),
        5000,
        'the clients reconnecting',
      );
      tokenServer.revokeAccessTokens();
      await first.handle.refresh();
      const before = second.handle.stats().tokenRequests;
      expect((await within(second.api.get('/api/after-outage'), 5000, 'the request')).status).to.equal(200);
      expect(second.handle.stats().tokenRequests, 'the second process took the token from the store').to.equal(before);
      expect(second.debugLines.some((line) => line.includes('token store answers again'))).to.equal(true);
    } finally {
      detachAll(processes);
      await ownRedis.stop();
    }
  });
});
