// `npm run bench:bff`: what attachUserAuth costs per user, and a storm.
//
// memory  heap per idle signed-in user (working set + MemoryUserTokenStore) at
//         10,000 and 100,000 users, beside the token strings and subjects (allocated
//         before the baseline, since the app holds them anyway); target <= 2 KB.
// storm   1,000 users x 10 concurrent requests, every user's access token revoked at
//         once: one token request per user expected (1,000), none twice for one user.
//
//   npm run bench:bff                 both
//   npm run bench:bff -- memory       one of them

import { Agent } from 'node:http';
import axios from 'axios';
import { attachUserAuth, MemoryUserTokenStore } from '../lib/index.js';
import { BFF_CLIENT_ID, BFF_CLIENT_SECRET, BffProvider } from '../examples/bff-provider.js';

const gc = (globalThis as { gc?: () => void }).gc;

async function settledHeap(): Promise<number> {
  if (gc === undefined) throw new Error('run with node --expose-gc (npm run bench:bff does)');
  for (let round = 0; round < 4; round += 1) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
  return process.memoryUsage().heapUsed;
}

async function memory(users: number): Promise<Record<string, number>> {
  const api = axios.create({ baseURL: 'https://api.example.com' });
  // Token strings and subjects as the app holds them: 43-character session ids, opaque tokens
  // of a realistic size, and the token response object a code exchange returns.
  const subjects = Array.from({ length: users }, (_, index) => `session-${String(index).padStart(35, '0')}`);
  const responses = subjects.map((_, index) => ({
    access_token: `at-${String(index).padStart(60, 'a')}`,
    refresh_token: `rt-${String(index).padStart(60, 'r')}`,
    expires_in: 3600,
    token_type: 'Bearer',
  }));
  const tokens = new MemoryUserTokenStore({ maxUsers: users });
  const handle = attachUserAuth(api, { tokenUrl: 'https://id.example.com/oauth/token', clientId: 'bench', clientSecret: 'bench-secret', tokens, maxUsers: users });
  const before = await settledHeap();
  for (let index = 0; index < users; index += 1) await handle.signIn(subjects[index]!, responses[index]!);
  const after = await settledHeap();
  const stats = handle.stats();
  handle.detach();
  if (stats.users !== users || tokens.size !== users) throw new Error(`expected ${users} users, have ${stats.users} in the working set and ${tokens.size} in the store`);
  // The token responses are the app's input; the handle keeps them as TokenSet.raw, so they stay counted in the baseline.
  void responses.length;
  return { users, heapBytesPerUser: Math.round((after - before) / users), heapMiB: Math.round(((after - before) / 1024 / 1024) * 10) / 10 };
}

async function storm(users: number, perUser: number): Promise<Record<string, number>> {
  const provider = await new BffProvider().start();
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const api = axios.create({ baseURL: provider.origin, httpAgent: agent });
  const handle = attachUserAuth(api, {
    tokenUrl: provider.tokenUrl,
    clientId: BFF_CLIENT_ID,
    clientSecret: BFF_CLIENT_SECRET,
    tokens: new MemoryUserTokenStore({ maxUsers: users }),
    maxUsers: users,
    // Client and server share one process (and, in CI, a busy machine): 10,000 requests take
    // tens of seconds, and a token request that times out is retried with a refresh token the
    // server may already have rotated. The bound here is the storm's, not a recommendation.
    tokenRequest: { timeout: 120_000 },
    logger: { warn: (line) => warnings.push(line) },
  });
  const warnings: string[] = [];
  try {
    const subjects = Array.from({ length: users }, (_, index) => `user-${index}`);
    for (const subject of subjects) await handle.signIn(subject, provider.issue(subject));
    // Warm: every user's token works.
    await Promise.all(subjects.map((subject) => api.get('/api/me', { authSubject: subject })));
    for (const subject of subjects) provider.expireAccessTokens(subject);
    const tokenRequestsBefore = provider.counters.refreshRequests;
    const started = performance.now();
    const results = await Promise.allSettled(subjects.flatMap((subject) => Array.from({ length: perUser }, () => api.get<{ user: string }>('/api/me', { authSubject: subject, headers: { 'x-user': subject } }))));
    const elapsed = performance.now() - started;
    const failed = results.filter((result) => result.status === 'rejected').length;
    if (process.env['BENCH_VERBOSE'] === '1') {
      const reasons = new Map<string, number>();
      for (const result of results) if (result.status === 'rejected') reasons.set(String(result.reason), (reasons.get(String(result.reason)) ?? 0) + 1);
      console.error(reasons);
    }
    const wrongUser = results.filter((result, index) => result.status === 'fulfilled' && result.value.data.user !== subjects[Math.floor(index / perUser)]).length;
    const perUserCounts = [...provider.refreshRequestsByUser.values()];
    return {
      users,
      requests: users * perUser,
      tokenRequests: provider.counters.refreshRequests - tokenRequestsBefore,
      maxTokenRequestsForOneUser: Math.max(...perUserCounts),
      usersRefreshed: perUserCounts.length,
      failed,
      wrongUser,
      reusedRefreshTokens: provider.counters.reusedRefreshTokens,
      replays: handle.stats().replays,
      elapsedMs: Math.round(elapsed),
      warnings: warnings.length,
    };
  } finally {
    if (process.env['BENCH_VERBOSE'] === '1') console.error(warnings.slice(0, 5));
    handle.detach();
    agent.destroy();
    await provider.close();
  }
}

const which = process.argv[2];
if (which === undefined || which === 'memory') {
  for (const users of [10_000, 100_000]) console.log(JSON.stringify({ scenario: 'bff-memory', ...(await memory(users)) }));
}
if (which === undefined || which === 'storm') console.log(JSON.stringify({ scenario: 'bff-storm', ...(await storm(Number(process.argv[3] ?? 1000), 10)) }));
