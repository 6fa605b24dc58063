// Four BFF worker processes share one RedisTokenStore and serve the same users
// against a provider that rotates refresh tokens and revokes a grant whose spent
// refresh token comes back. Every round the provider refuses every access token and
// every worker sends requests for every user at once: each user costs one refresh in
// the whole cluster, and no spent refresh token is ever presented.

import { expect } from 'chai';
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { BFF_CLIENT_ID, BFF_CLIENT_SECRET, BffProvider } from '../../examples/bff-provider.js';
import { within } from '../helpers/deferred.js';
import type { BffWorkerCommand, BffWorkerMessage } from '../helpers/bff-worker.js';
import { requireRedisServer, startRedisServer, type RedisServer } from '../helpers/redis-server.js';

/** A command as the test writes it: the id is added on sending. */
type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

const WORKERS = 4;
const USERS = ['ann', 'ben', 'cat', 'dan', 'eve', 'fay'];
const workerPath = fileURLToPath(new URL('../helpers/bff-worker.ts', import.meta.url));

class Worker {
  readonly child: ChildProcess;
  readonly #waiting = new Map<number, (message: BffWorkerMessage) => void>();
  readonly ready: Promise<void>;
  #next = 1;

  constructor(env: Record<string, string>) {
    this.child = fork(workerPath, [], { execArgv: ['--import', 'tsx'], env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.ready = new Promise((resolve) => {
      this.child.on('message', (message: BffWorkerMessage) => {
        if (message.type === 'ready') resolve();
        else this.#waiting.get(message.id)?.(message);
      });
    });
  }

  ask(command: WithoutId<BffWorkerCommand>): Promise<BffWorkerMessage> {
    const id = this.#next++;
    return within(
      new Promise((resolve) => {
        this.#waiting.set(id, resolve);
        this.child.send({ ...command, id });
      }),
      30_000,
      `worker command ${command.type}`,
    );
  }
}

describe('attachUserAuth across worker processes (RedisTokenStore)', function () {
  this.timeout(120_000);
  let redis: RedisServer;
  let provider: BffProvider;
  const workers: Worker[] = [];

  before(async function () {
    redis = await startRedisServer(requireRedisServer(this));
    provider = await new BffProvider().start();
    const env = { REDIS_PORT: String(redis.port), API_URL: provider.origin, TOKEN_URL: provider.tokenUrl, CLIENT_ID: BFF_CLIENT_ID, CLIENT_SECRET: BFF_CLIENT_SECRET };
    for (let index = 0; index < WORKERS; index += 1) workers.push(new Worker(env));
    await within(Promise.all(workers.map((worker) => worker.ready)), 60_000, 'the workers start');
  });
  after(async () => {
    for (const worker of workers) worker.child.disconnect();
    await Promise.all(workers.map((worker) => (worker.child.exitCode === null ? new Promise((resolve) => worker.child.once('exit', resolve)) : undefined)));
    await provider.close();
    await redis?.stop();
  });

  it('costs one refresh per user per round in the whole cluster, and never presents a spent refresh token', async () => {
    // Each user signs in on one worker; the others find the token set in Redis.
    await Promise.all(USERS.map((user, index) => workers[index % WORKERS]!.ask({ type: 'sign-in', user, tokens: provider.issue(user) })));
    for (let round = 0; round < 3; round += 1) {
      for (const user of USERS) provider.expireAccessTokens(user);
      provider.refreshRequestsByUser.clear();
      const answers = await Promise.all(workers.map((worker) => worker.ask({ type: 'burst', users: USERS, perUser: 10 })));
      for (const answer of answers) {
        expect(answer).to.deep.include({ type: 'burst-done', ok: USERS.length * 10, wrongUser: 0, failures: [] });
      }
      expect(Object.fromEntries(provider.refreshRequestsByUser), `round ${round}`).to.deep.equal(Object.fromEntries(USERS.map((user) => [user, 1])));
    }
    expect(provider.counters.reusedRefreshTokens).to.equal(0);
  });
});
