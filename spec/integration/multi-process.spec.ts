// Eight Node processes, each with its own axios instance and RedisTokenStore (half
// on ioredis, half on node-redis), against one loopback token server and API in
// this process and one real redis-server. The steps run in order, as one story:
// cold start, revocation, a lock holder killed mid-refresh, a token request slower
// than the lock's TTL, a write landing late, Redis frozen, Redis stopped and back.
// A second story: processes renewing one refresh_token grant, one of them starting
// from a refresh token another has spent.

import { expect } from 'chai';
import { Redis } from 'ioredis';
import { setTimeout as delay } from 'node:timers/promises';
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ClusterTokenServer } from '../helpers/cluster-token-server.js';
import { within } from '../helpers/deferred.js';
import { LOCK_TTL_MS } from '../../lib/cluster-refresh.js';
import type { WorkerCommand, WorkerMessage } from '../helpers/multi-process-worker.js';
import { requireRedisServer, startRedisServer, type RedisServer } from '../helpers/redis-server.js';

const PROCESSES = 8;
const REQUESTS_PER_PROCESS = 200;
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
    return this.command('reconnected');
  }

  report(): Promise<Reply<'report'>> {
    return this.command('report');
  }

  /** Sends a command that takes no argument and resolves with its reply. */
  command<T extends Exclude<WorkerCommand['type'], 'burst'>>(type: T): Promise<Reply<T>> {
    const id = this.#nextId++;
    const reply = this.#expect<T>(type, id);
    this.#send({ type, id } as WorkerCommand);
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

interface BurstOutcome {
  tokenRequests: number;
  ok: number;
  failed: number;
  failures: string[];
}

/** The processes of one story, the servers they talk to, and the ways the spec drives them. */
function cluster(count: number, extraEnv: (index: number) => Record<string, string> = () => ({})) {
  const state = {
    redisServer: undefined as unknown as RedisServer,
    tokenServer: undefined as unknown as ClusterTokenServer,
    raw: undefined as unknown as Redis,
    workers: [] as Worker[],
    /** Env every worker of this story gets; set in `before`. */
    env: {} as Record<string, string>,
  };

  before(async function () {
    // Eight processes each compiling the library with tsx: minutes on a two-core host shared with other jobs.
    this.timeout(100_000);
    const binary = requireRedisServer(this);
    state.redisServer = await startRedisServer(binary);
    state.tokenServer = new ClusterTokenServer();
    await state.tokenServer.listen();
    state.raw = new Redis(state.redisServer.port, '127.0.0.1', { lazyConnect: true, retryStrategy: () => 50, maxRetriesPerRequest: 1 });
    state.raw.on('error', () => {});
    await state.raw.connect();
    state.env = { REDIS_PORT: String(state.redisServer.port), API_URL: state.tokenServer.url, TOKEN_URL: state.tokenServer.tokenUrl };
    state.workers = Array.from({ length: count }, (_, index) => new Worker(`w${index}`, { ...state.env, REDIS_CLIENT: index % 2 === 0 ? 'ioredis' : 'node-redis', ...extraEnv(index) }));
    await within(Promise.all(state.workers.map((worker) => worker.ready)), 90_000, `${count} workers starting`);
  });

  after(async function () {
    await Promise.all(state.workers.map((worker) => worker.stop()));
    state.raw?.disconnect();
    await state.tokenServer?.close();
    await state.redisServer?.stop();
  });

  const living = (): Worker[] => state.workers.filter((worker) => worker.alive);

  async function settle(bursts: { done: Promise<Reply<'burst-done'>> }[], before: number, limit = 15_000): Promise<BurstOutcome> {
    const results = await within(Promise.all(bursts.map((burst) => burst.done)), limit, 'every burst settling');
    return {
      tokenRequests: state.tokenServer.tokenRequests - before,
      ok: results.reduce((sum, result) => sum + result.ok, 0),
      failed: results.reduce((sum, result) => sum + result.failed, 0),
      failures: results.flatMap((result) => result.failures),
    };
  }

  /** `from` (default: every living worker) sends `count` requests each while the next token request is held until all of them have fired. */
  async function burstWhileHeld(count: number, from: Worker[] = living()): Promise<BurstOutcome> {
    const before = state.tokenServer.tokenRequests;
    const held = state.tokenServer.holdNext();
    const bursts = from.map((worker) => worker.burst(count));
    await within(Promise.all([held.arrived, ...bursts.map((burst) => burst.fired)]), 10_000, 'the token request and every burst');
    held.release();
    return settle(bursts, before);
  }

  /** `from` sends `count` requests each, no token request held. */
  async function burst(count: number, from: Worker[] = living()): Promise<BurstOutcome> {
    const before = state.tokenServer.tokenRequests;
    return settle(
      from.map((worker) => worker.burst(count)),
      before,
    );
  }

  return { state, living, burst, burstWhileHeld, settle };
}

describe('many processes, one token (RedisTokenStore, 8 processes)', function () {
  // Each step bounds its own waits; this only keeps mocha's default from cutting them short on a loaded host.
  this.timeout(60_000);
  const { state, living, burst, burstWhileHeld, settle } = cluster(PROCESSES);
  const figures: Record<string, string | number> = {};
  const tokenRequestsAt = (): number => state.tokenServer.tokenRequests;

  after(function () {
    if (Object.keys(figures).length > 0) console.log('      figures:', JSON.stringify(figures));
  });

  it('makes one token request in total on a cold start of 8 processes with 200 concurrent requests each', async function () {
    const outcome = await burstWhileHeld(REQUESTS_PER_PROCESS);
    figures.coldStartTokenRequests = outcome.tokenRequests;
    expect(outcome.failures).to.deep.equal([]);
    expect(outcome.ok).to.equal(PROCESSES * REQUESTS_PER_PROCESS);
    expect(outcome.tokenRequests).to.equal(1);
  });

  it('makes one new token request in total when every token is revoked, presenting the rotating refresh token once', async function () {
    state.tokenServer.revokeAccessTokens();
    const outcome = await burstWhileHeld(REQUESTS_PER_PROCESS);
    figures.revocationTokenRequests = outcome.tokenRequests;
    expect(outcome.failures).to.deep.equal([]);
    expect(outcome.ok).to.equal(PROCESSES * REQUESTS_PER_PROCESS);
    expect(outcome.tokenRequests).to.equal(1);
    expect(state.tokenServer.requests.at(-1)?.grantType).to.equal('refresh_token');
    expect(state.tokenServer.reusedRefreshTokens, 'refresh tokens presented twice').to.equal(0);
  });

  it('recovers within the lock TTL when the process holding the lock is killed mid-refresh', async function () {
    state.tokenServer.revokeAccessTokens();
    const before = state.tokenServer.tokenRequests;
    const held = state.tokenServer.holdNext();
    const bursts = state.workers.map((worker) => ({ worker, burst: worker.burst(50) }));
    const holderRequest = await within(held.arrived, 10_000, 'the token request of the lock holder');
    const holder = state.workers.find((worker) => worker.id === holderRequest.worker);
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
    const takeover = state.tokenServer.requests.slice(before).find((request) => request.worker !== holder?.id);

    figures.killedHolderTokenRequests = state.tokenServer.tokenRequests - before;
    figures.takeoverTokenRequestAfterKillMs = takeover === undefined ? 'none' : Math.round(takeover.at - killedAt);
    figures.recoveryAfterKillMs = Math.round(recoveredAt - killedAt);
    figures.lockTtlMs = LOCK_TTL_MS;
    expect(results.flatMap((result) => result.failures)).to.deep.equal([]);
    expect(results.reduce((sum, result) => sum + result.ok, 0)).to.equal(survivors.length * 50);
    expect(state.tokenServer.tokenRequests - before, `the held request and one takeover: ${JSON.stringify(state.tokenServer.requests.slice(before).map((request) => ({ ...request, at: Math.round(request.at - killedAt) })))}`).to.equal(2);
    expect(takeover?.grantType).to.equal('refresh_token');
    expect(state.tokenServer.reusedRefreshTokens, 'refresh tokens presented twice').to.equal(0);
  });

  it('keeps the lock while its holder lives: a token request slower than the lock TTL is still the only one', async function () {
    state.tokenServer.revokeAccessTokens();
    const before = tokenRequestsAt();
    const held = state.tokenServer.holdNext();
    const bursts = living().map((worker) => worker.burst(50));
    await within(Promise.all([held.arrived, ...bursts.map((each) => each.fired)]), 10_000, 'the token request and every burst');
    const [lockKey] = await state.raw.keys('multi-process:*:lock');
    expect(lockKey, 'the holder has the lock').to.be.a('string');
    const owner = await state.raw.get(lockKey ?? '');
    // The token request stays open for one and a half lock TTLs: the lock must outlive its TTL,
    // still the holder's, renewed every third of it, while the others keep waiting for it.
    const heldSince = performance.now();
    while (performance.now() - heldSince < 1.5 * LOCK_TTL_MS) {
      await delay(LOCK_TTL_MS / 6);
      expect(await state.raw.get(lockKey ?? ''), 'the lock, still its holder\'s').to.equal(owner);
    }
    held.release();
    const outcome = await settle(bursts, before);
    figures.slowTokenRequestTokenRequests = outcome.tokenRequests;
    expect(outcome.failures).to.deep.equal([]);
    expect(outcome.ok).to.equal(living().length * 50);
    expect(outcome.tokenRequests).to.equal(1);
    expect(state.tokenServer.reusedRefreshTokens, 'refresh tokens presented twice').to.equal(0);
  });

  it('never takes back a token set whose write landed late, after a newer one', async function () {
    const [writer, other] = living() as [Worker, Worker];
    const marks = await Promise.all(living().map(async (worker) => (await worker.report()).adopted.length));
    // The writer refreshes alone, and a copy of its write is held back in flight.
    await writer.command('hold-next-write-copy');
    state.tokenServer.revokeAccessTokens();
    expect((await burst(5, [writer])).tokenRequests).to.equal(1);
    // Every process takes that token set...
    expect((await burst(5)).failures).to.deep.equal([]);
    // ...until it is revoked and another process replaces it with a newer one.
    state.tokenServer.revokeAccessTokens();
    const replaced = await burst(5, [other]);
    expect(replaced.failures).to.deep.equal([]);
    expect(replaced.tokenRequests).to.equal(1);
    // Now the held copy of the older write lands.
    const late = await within(writer.command('send-write-copy'), 5000, 'the late write');

    // The processes that hold the refused older set take the newer one, not the late write.
    const reusedBefore = state.tokenServer.reusedRefreshTokens;
    const outcome = await burst(50);
    figures.lateWriteTokenRequests = outcome.tokenRequests;
    expect(outcome.failures).to.deep.equal([]);
    expect(outcome.ok).to.equal(living().length * 50);
    expect(outcome.tokenRequests).to.equal(0);
    expect(state.tokenServer.reusedRefreshTokens - reusedBefore, 'refresh tokens presented twice').to.equal(0);
    const reports = await Promise.all(living().map((worker) => worker.report()));
    const lateAdoptions = reports.flatMap((report, index) => report.adopted.slice(marks[index]).filter((token) => token === late.accessToken));
    // Adopted once, by the processes that synced before the revocation; never after the late write.
    expect(lateAdoptions.length).to.be.at.most(living().length - 1);
    const stored = await state.raw.keys('multi-process:*');
    const values = await Promise.all(stored.filter((key) => !key.endsWith(':lock')).map((key) => state.raw.get(key)));
    expect(values.join(' ')).not.to.include(late.accessToken);
    expect(late.written, 'the store refuses a write older than the set it holds').to.equal(false);
  });

  it('recovers from Redis frozen for 3 s mid-traffic: no lock is left behind, and a revocation then costs one token request', async function () {
    const reusedBefore = state.tokenServer.reusedRefreshTokens;
    const before = tokenRequestsAt();
    // Mid-traffic: the tokens are revoked as Redis freezes, so every process needs a new one during the stall.
    state.redisServer.pause();
    state.tokenServer.revokeAccessTokens();
    const bursts = living().map((worker) => worker.burst(50));
    try {
      await delay(3000);
    } finally {
      state.redisServer.resume();
    }
    const resumedAt = performance.now();
    const during = await settle(bursts, before, 30_000);
    figures.stallTokenRequests = during.tokenRequests;
    figures.stallSettledAfterResumeMs = Math.round(performance.now() - resumedAt);
    expect(during.failures).to.deep.equal([]);
    expect(during.ok).to.equal(living().length * 50);

    // A round trip on each process's connection: every command it sent during the stall has run.
    await within(Promise.all(living().map((worker) => worker.command('ping'))), 10_000, 'a store round trip from every process');
    expect(await state.raw.keys('multi-process:*:lock'), 'locks nobody holds').to.deep.equal([]);

    state.tokenServer.revokeAccessTokens();
    const outcome = await burstWhileHeld(50);
    figures.afterStallRevocationTokenRequests = outcome.tokenRequests;
    figures.recoveryAfterStallMs = Math.round(performance.now() - resumedAt);
    expect(outcome.failures).to.deep.equal([]);
    expect(outcome.ok).to.equal(living().length * 50);
    expect(outcome.tokenRequests).to.equal(1);
    expect(state.tokenServer.reusedRefreshTokens - reusedBefore, 'refresh tokens presented twice').to.equal(0);
  });

  it('still answers every request when Redis stops, each process warning once', async function () {
    // Without the shared store each process refreshes on its own: the spent refresh token is refused, not the grant revoked.
    state.tokenServer.revokeGrantOnReuse = false;
    // Warnings of earlier outages (the stall, a slow answer on a loaded host) are not this one's.
    const marks = await within(Promise.all(living().map(async (worker) => (await worker.report()).warnings.length)), 5000, 'the reports before');
    await state.redisServer.stop();
    state.tokenServer.revokeAccessTokens();
    const before = state.tokenServer.tokenRequests;
    const bursts = living().map((worker) => worker.burst(50));
    const results = await within(Promise.all(bursts.map((burst) => burst.done)), 15_000, 'every burst settling');
    figures.redisDownTokenRequests = state.tokenServer.tokenRequests - before;
    expect(results.flatMap((result) => result.failures)).to.deep.equal([]);
    expect(results.reduce((sum, result) => sum + result.ok, 0)).to.equal(living().length * 50);

    const reports = await within(Promise.all(living().map((worker) => worker.report())), 5000, 'the reports');
    for (const [index, report] of reports.entries()) {
      const storeWarnings = report.warnings.slice(marks[index]).filter((line) => line.includes('token store unavailable'));
      expect(storeWarnings).to.have.length(1);
      expect(storeWarnings[0]).not.to.match(/access-|refresh-|cluster-secret/);
    }
  });

  it('shares one token again once Redis is back', async function () {
    await state.redisServer.restart();
    await within(Promise.all(living().map((worker) => worker.reconnected())), 10_000, 'the clients reconnecting');
    state.tokenServer.revokeAccessTokens();
    const outcome = await burstWhileHeld(50);
    figures.afterRedisBackTokenRequests = outcome.tokenRequests;
    expect(outcome.failures).to.deep.equal([]);
    expect(outcome.tokenRequests).to.equal(1);
  });
});

describe('many processes renewing one refresh_token grant (RedisTokenStore, subject)', function () {
  // A worker starts inside the test; each wait is bounded on its own.
  this.timeout(90_000);
  // The grant the processes start from: issued by a login, once the token server runs.
  const grant = { refreshToken: '' };
  const story = cluster(2, () => ({ REFRESH_TOKEN: (grant.refreshToken ||= story.state.tokenServer.issueGrant()), SUBJECT: 'user-1' }));
  const { state, burst, burstWhileHeld } = story;
  let late: Worker | undefined;

  after(async function () {
    await late?.stop();
  });

  it('lets a process that starts from a spent refresh token, after the shared access token expired, renew with the stored one: the grant survives', async function () {
    const first = await burstWhileHeld(20);
    expect(first.failures).to.deep.equal([]);
    expect(first.tokenRequests).to.equal(1);
    expect(state.tokenServer.requests.at(-1)?.grantType).to.equal('refresh_token');

    // A process started from the login's refresh token, spent by now; its clock is past the
    // expiry of the access token in the store, so it must refresh, with the store's refresh token.
    late = new Worker('late', { ...state.env, REDIS_CLIENT: 'node-redis', REFRESH_TOKEN: grant.refreshToken, SUBJECT: 'user-1', CLOCK_OFFSET_MS: String(2 * 3600_000) });
    await within(late.ready, 60_000, 'the late worker starting');
    const renewed = await burst(20, [late]);
    expect(renewed.failures).to.deep.equal([]);
    expect(renewed.tokenRequests).to.equal(1);
    expect(state.tokenServer.reusedRefreshTokens, 'refresh tokens presented twice').to.equal(0);

    // The grant lives on: after a revocation the late process renews it once more, from the
    // refresh token it wrote, and the first two take that newer token set from the store.
    state.tokenServer.revokeAccessTokens();
    const again = await burst(20, [late]);
    expect(again.failures).to.deep.equal([]);
    expect(again.tokenRequests).to.equal(1);
    const rest = await burst(20, state.workers);
    expect(rest.failures).to.deep.equal([]);
    expect(rest.tokenRequests).to.equal(0);
    expect(state.tokenServer.reusedRefreshTokens, 'refresh tokens presented twice').to.equal(0);
  });
});
