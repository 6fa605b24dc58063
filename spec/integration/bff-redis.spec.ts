// attachUserAuth with RedisTokenStore as the user token store: two workers (two
// handles with their own Redis connections and nothing else in common) serve the
// same users against a provider that rotates refresh tokens and revokes a grant
// whose spent refresh token is presented again. The lock per user makes one worker
// refresh while the other waits for the set it writes.

import { expect } from 'chai';
import axios, { type AxiosInstance } from 'axios';
import { Redis } from 'ioredis';
import { attachUserAuth, RedisTokenStore, type UserAuthHandle } from '../../lib/index.js';
import { BffProvider } from '../../examples/bff-provider.js';
import { settleAll } from '../helpers/deferred.js';
import { requireRedisServer, startRedisServer, type RedisServer } from '../helpers/redis-server.js';

const ENCRYPTION_KEY = 'a passphrase of more than sixteen characters';

describe('attachUserAuth with a shared RedisTokenStore (two workers)', function () {
  let redis: RedisServer;
  let provider: BffProvider;
  const clients: Redis[] = [];
  const workers: { api: AxiosInstance; handle: UserAuthHandle }[] = [];

  before(async function () {
    redis = await startRedisServer(requireRedisServer(this));
    provider = await new BffProvider().start();
    for (let index = 0; index < 2; index += 1) {
      const client = new Redis(redis.port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 1 });
      await client.connect();
      clients.push(client);
      const api = axios.create({ baseURL: provider.origin });
      const handle = attachUserAuth(api, {
        ...provider.clientOptions(),
        tokens: new RedisTokenStore({ client, encryptionKey: ENCRYPTION_KEY, pollInterval: 10 }),
      });
      workers.push({ api, handle });
    }
  });
  after(async () => {
    for (const { handle } of workers) handle.detach();
    for (const client of clients) await client.quit();
    await provider.close();
    await redis?.stop();
  });

  const me = (worker: number, user: string) => workers[worker]!.api.get<{ user: string }>('/api/me', { authSubject: user, headers: { 'x-user': user } });

  it('never presents a spent refresh token: each round of 401s costs one refresh per user across both workers', async () => {
    await workers[0]!.handle.signIn('alice', provider.issue('alice'));
    await workers[1]!.handle.signIn('bob', provider.issue('bob'));
    for (let round = 0; round < 5; round += 1) {
      provider.expireAccessTokens('alice');
      provider.expireAccessTokens('bob');
      provider.refreshRequestsByUser.clear();
      const requests = [0, 1].flatMap((worker) => ['alice', 'bob'].flatMap((user) => Array.from({ length: 25 }, () => me(worker, user))));
      const results = await settleAll(requests, 15_000);
      expect(results.filter((result) => result.status === 'rejected').map((result) => String((result as PromiseRejectedResult).reason))).to.deep.equal([]);
      expect(Object.fromEntries(provider.refreshRequestsByUser)).to.deep.equal({ alice: 1, bob: 1 });
    }
    expect(provider.counters.reusedRefreshTokens).to.equal(0);
  });

  it('keeps token sets encrypted at rest, under keys that name neither the user nor a token', async () => {
    const keys = await clients[0]!.keys('*');
    expect(keys).to.have.length(2);
    for (const key of keys) {
      expect(key).to.not.match(/alice|bob/);
      const value = (await clients[0]!.get(key)) ?? '';
      expect(value).to.not.match(/at-|rt-|alice|bob/);
    }
  });

  it('signs a user out on every worker: revoke on one, ERR_LOGIN_REQUIRED on the other at its next refresh', async () => {
    await workers[0]!.handle.revoke('alice');
    provider.expireAccessTokens('alice');
    const error = await me(1, 'alice').catch((caught: unknown) => caught);
    expect((error as { code?: string }).code).to.equal('ERR_LOGIN_REQUIRED');
    expect((await me(1, 'bob')).data.user).to.equal('bob');
  });
});
