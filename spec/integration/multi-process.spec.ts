// Eight Node processes, each with its own axios instance and RedisTokenStore (half
// on ioredis, half on node-redis), against one loopback token server and API in
// this process and one real redis-server. The steps run in order, as one story:
// cold start, revocation, a lock holder killed mid-refresh, Redis stopped and back.

import { expect } from 'chai';
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ClusterTokenServer } from '../helpers/cluster-token-server.js';
import { within } from '../helpers/deferred.js';
import type { WorkerCommand, WorkerMessage } from '../helpers/multi-process-worker.js';
import { requireRedisServer, startRedisServer, type RedisServer } from '../helpers/redis-server.js';

const PROCESSES = 8;
const REQUESTS_PER_PROCESS = 200;
/** The workers' tokenRequest.timeout plus the one-second margin of the lock. */
const LOCK_TTL_MS = 3000 + 1000;
const workerPath = fileURLToPath(new URL('../helpers/multi-process-worker.ts', import.meta.url));

type Reply<T extends WorkerMessage['type']> = Extract<WorkerMessage, { type: T }>;

class Worker {
  readonly id: string;
  readonly child: ChildProcess;
  readonly ready: Promise<void>;
  readonly #waiting = new Map<string, (message: WorkerMessage) => void>();
  #nextId = 1;

  constructor(id: string, env: Record<string, string>) {
    this.id = id;
    this.child = fork(workerPath, [], { execArgv: ['--import', 'tsx'], env: { ...process.env, ...env, WORKER_ID: id }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.ready = new Promise((resolve, reject) => {
      this.child.once('exit', (code, signal) => reject(new Error(`worker ${id} exited (${code ?? signal}) before it was ready`)));
      this.#waiting.set('ready:0', () => resolve());
    });
    this.ready.catch(() => {});
    this.child.on('message', (message: WorkerMessage) => {
      const key = `${message.type}:${'id' in message ? message.id : 0}`;
      this.#waiting.get(key)?.(message);
      this.#waiting.delete(key);
    });
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Sends a burst of requests; `fired` resolves once they are all sent off, `done` with their outcome. */
  burst(count: number): { fired: Promise<Reply<'fired'>>; done: Promise<Reply<'burst-done'>> } {
    const id = this.#nextId++;
    const fired = this.#expect<'fired'>('fired', id);
    const done = this.#expect<'burst-done'>('burst-done', id);
    this.#send({ type: 'burst', id, count });
    return { fired, done };
  }

  reconnected(): Promise<Reply<'reconnected'>> {
    const id = this.#nextId++;
    const reply = this.#expect<'reconnected'>('reconnected', id);
    this.#send({ type: 'reconnected', id });
    return reply;
  }

  report(): Promise<Reply<'report'>> {
    const id = this.#nextId++;
    const reply = this.#expect<'report'>('report', id);
    this.#send({ type: 'report', id });
    return reply;
  }

  async stop(): Promise<void> {
    if (!this.alive) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGKILL');
    await exited;
  }

  #expect<T extends WorkerMessage['type']>(type: T, id: number): Promise<Reply<T>> {
    return new Promise((resolve) => {
      this.#waiting.set(`${type}:${id}`, (message) => resolve(message as Reply<T>));
    });
  }

  #send(command: WorkerCommand): void {
    this.child.send(command);
  }
}

describe('many processes, one token (RedisTokenStore, 8 processes)', function () {
  let redisServer: RedisServer;
  let tokenServer: ClusterTokenServer;
  let workers: Worker[] = [];
  const figures: Record<string, string | number> = {};

  before(async function () {
    this.timeout(40_000);
    const binary = requireRedisServer(this);
    redisServer = await startRedisServer(binary);
    tokenServer = new ClusterTokenServer();
    await tokenServer.listen();
    workers = Array.from(
      { length: PROCESSES },
      (_, index) =>
        new Worker(`w${index}`, {
          REDIS_PORT: String(redisServer.port),
          REDIS_CLIENT: index % 2 === 0 ? 'ioredis' : 'node-redis',
          API_URL: tokenServer.url,
          TOKEN_URL: tokenServer.tokenUrl,
        }),
    );
    await within(Promise.all(workers.map((worker) => worker.ready)), 30_000, 'eight workers starting');
  });

  after(async function () {
    await Promise.all(workers.map((worker) => worker.stop()));
    await tokenServer?.close();
    await redisServer?.stop();
    if (Object.keys(figures).length > 0) console.log('      figures:', JSON.stringify(figures));
  });

  const living = (): Worker[] => workers.filter((worker) => worker.alive);

  /** Every living worker sends `count` requests while the next token request is held until all of them have fired. */
  async function burstWhileHeld(count: number): Promise<{ tokenRequests: number; ok: number; failed: number; failures: string[] }> {
    const before = tokenServer.tokenRequests;
    const held = tokenServer.holdNext();
    const bursts = living().map((worker) => worker.burst(count));
    await within(Promise.all([held.arrived, ...bursts.map((burst) => burst.fired)]), 10_000, 'the token request and every burst');
    held.release();
    const results = await within(Promise.all(bursts.map((burst) => burst.done)), 15_000, 'every burst settling');
    return {
      tokenRequests: tokenServer.tokenRequests - before,
      ok: results.reduce((sum, result) => sum + result.ok, 0),
      failed: results.reduce((sum, result) => sum + result.failed, 0),
      failures: results.flatMap((result) => result.failures),
    };
  }

  it('makes one token request in total on a cold start of 8 processes with 200 concurrent requests each', async function () {
    const outcome = await burstWhileHeld(REQUESTS_PER_PROCESS);
    figures.coldStartTokenRequests = outcome.tokenRequests;
    expect(outcome.failures).to.deep.equal([]);
    expect(outcome.ok).to.equal(PROCESSES * REQUESTS_PER_PROCESS);
    expect(outcome.tokenRequests).to.equal(1);
  });

  it('makes one new token request in total when every token is revoked, presenting the rotating refresh token once', async function () {
    tokenServer.revokeAccessTokens();
    const outcome = await burstWhileHeld(REQUESTS_PER_PROCESS);
    figures.revocationTokenRequests = outcome.tokenRequests;
    expect(outcome.failures).to.deep.equal([]);
    expect(outcome.ok).to.equal(PROCESSES * REQUESTS_PER_PROCESS);
    expect(outcome.tokenRequests).to.equal(1);
    expect(tokenServer.requests.at(-1)?.grantType).to.equal('refresh_token');
    expect(tokenServer.reusedRefreshTokens, 'refresh tokens presented twice').to.equal(0);
  });

  it('recovers within the lock TTL when the process holding the lock is killed mid-refresh', async function () {
    tokenServer.revokeAccessTokens();
    const before = tokenServer.tokenRequests;
    const held = tokenServer.holdNext();
    const bursts = workers.map((worker) => ({ worker, burst: worker.burst(50) }));
    const holderRequest = await within(held.arrived, 10_000, 'the token request of the lock holder');
    const holder = workers.find((worker) => worker.id === holderRequest.worker);
    expect(holder, 'the token request names its process').not.to.equal(undefined);
    const killedAt = performance.now();
    await holder?.stop();
    // The server must see the dead connection before it may answer: a token request whose
    // client is gone would otherwise still spend the refresh token (a race of the harness).
    await within(held.closed, 5000, 'the server seeing the killed process disconnect');
    held.release();

    const survivors = bursts.filter(({ worker }) => worker !== holder);
    const results = await within(Promise.all(survivors.map(({ burst }) => burst.done)), 2 * LOCK_TTL_MS + 5000, 'the other processes recovering');
    const recoveredAt = performance.now();
    const takeover = tokenServer.requests.slice(before).find((request) => request.worker !== holder?.id);

    figures.killedHolderTokenRequests = tokenServer.tokenRequests - before;
    figures.takeoverTokenRequestAfterKillMs = takeover === undefined ? 'none' : Math.round(takeover.at - killedAt);
    figures.recoveryAfterKillMs = Math.round(recoveredAt - killedAt);
    figures.lockTtlMs = LOCK_TTL_MS;
    expect(results.flatMap((result) => result.failures)).to.deep.equal([]);
    expect(results.reduce((sum, result) => sum + result.ok, 0)).to.equal(survivors.length * 50);
    expect(tokenServer.tokenRequests - before, `the held request and one takeover: ${JSON.stringify(tokenServer.requests.slice(before).map((request) => ({ ...request, at: Math.round(request.at - killedAt) })))}`).to.equal(2);
    expect(takeover?.grantType).to.equal('refresh_token');
    expect(tokenServer.reusedRefreshTokens, 'refresh tokens presented twice').to.equal(0);
  });

  it('still answers every request when Redis stops, each process warning once', async function () {
    // Without the shared store each process refreshes on its own: the spent refresh token is refused, not the grant revoked.
    tokenServer.revokeGrantOnReuse = false;
    await redisServer.stop();
    tokenServer.revokeAccessTokens();
    const before = tokenServer.tokenRequests;
    const bursts = living().map((worker) => worker.burst(50));
    const results = await within(Promise.all(bursts.map((burst) => burst.done)), 15_000, 'every burst settling');
    figures.redisDownTokenRequests = tokenServer.tokenRequests - before;
    expect(results.flatMap((result) => result.failures)).to.deep.equal([]);
    expect(results.reduce((sum, result) => sum + result.ok, 0)).to.equal(living().length * 50);

    const reports = await within(Promise.all(living().map((worker) => worker.report())), 5000, 'the reports');
    for (const report of reports) {
      const storeWarnings = report.warnings.filter((line) => line.includes('token store unavailable'));
      expect(storeWarnings).to.have.length(1);
      expect(storeWarnings[0]).not.to.match(/access-|refresh-|cluster-secret/);
    }
  });

  it('shares one token again once Redis is back', async function () {
    await redisServer.restart();
    await within(Promise.all(living().map((worker) => worker.reconnected())), 10_000, 'the clients reconnecting');
    tokenServer.revokeAccessTokens();
    const outcome = await burstWhileHeld(50);
    figures.afterRedisBackTokenRequests = outcome.tokenRequests;
    expect(outcome.failures).to.deep.equal([]);
    expect(outcome.tokenRequests).to.equal(1);
  });
});
