// Promise 9 as a property: fast-check drives interleavings of many users' requests,
// 401s (the API stops taking a user's access tokens), refreshes (expired sign-ins),
// grants revoked upstream, sign-outs and new sign-ins, in concurrent batches over
// real loopback sockets (examples/bff-provider.ts), and checks that no request ever
// carried another user's token, and that each request got its own user's answer
// or a typed error that shows no token or secret. Runs: PROPERTY_RUNS (default 100, kept small: each run is real I/O).

import axios, { type AxiosResponse } from 'axios';
import { expect } from 'chai';
import fc from 'fast-check';
import { attachUserAuth, LoginRequiredError, MemoryUserTokenStore } from '../../lib/index.js';
import { BFF_CLIENT_SECRET, BffProvider } from '../../examples/bff-provider.js';
import { settleAll } from '../helpers/deferred.js';
import { findSecret } from '../helpers/error-secrets.js';

const RUNS = Math.min(Number(process.env['PROPERTY_RUNS'] ?? 100), 2000);
const USERS = ['ann', 'ben', 'cat', 'dan'] as const;
type User = (typeof USERS)[number];

type Command =
  | { kind: 'request'; user: User; scoped: boolean }
  | { kind: 'reject-access'; user: User }
  | { kind: 'revoke-upstream'; user: User }
  | { kind: 'sign-out'; user: User }
  | { kind: 'sign-in'; user: User; expired: boolean };

const user = fc.constantFrom(...USERS);
const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('request' as const), user, scoped: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('reject-access' as const), user }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('revoke-upstream' as const), user }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('sign-out' as const), user }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('sign-in' as const), user, expired: fc.boolean() }) },
);

describe('attachUserAuth isolation (property, loopback)', function () {
  this.timeout(120_000);
  let provider: BffProvider;

  before(async () => {
    provider = await new BffProvider().start();
  });
  after(async () => {
    await provider.close();
  });

  it("never attaches a user's token to another user's request, whatever the interleaving", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.boolean(), { minLength: USERS.length, maxLength: USERS.length }), fc.array(fc.array(command, { maxLength: 12 }), { minLength: 1, maxLength: 4 }), async (expiredAtStart, batches) => {
        provider.apiLog.length = 0;
        const api = axios.create({ baseURL: provider.origin });
        const handle = attachUserAuth(api, {
          ...provider.clientOptions(),
          tokens: new MemoryUserTokenStore(),
          retry: { limit: 0 },
        });
        const signIn = (who: User, expired: boolean) => {
          const issued = provider.issue(who);
          return handle.signIn(who, expired ? { accessToken: issued.access_token, tokenType: 'Bearer', refreshToken: issued.refresh_token, expiresAt: Date.now() - 1, raw: {} } : issued);
        };
        try {
          await Promise.all(USERS.map((who, index) => signIn(who, expiredAtStart[index] === true)));
          for (const batch of batches) {
            const requests: { who: User; result: Promise<AxiosResponse<{ user: string }>> }[] = [];
            const chores: Promise<unknown>[] = [];
            for (const step of batch) {
              switch (step.kind) {
                case 'request': {
                  const config = { headers: { 'x-user': step.user } };
                  const result = step.scoped
                    ? handle.runAs(step.user, () => api.get<{ user: string }>('/api/me', config))
                    : api.get<{ user: string }>('/api/me', { ...config, authSubject: step.user });
                  requests.push({ who: step.user, result });
                  break;
                }
                case 'reject-access':
                  provider.expireAccessTokens(step.user);
                  break;
                case 'revoke-upstream':
                  provider.revokeUser(step.user);
                  break;
                case 'sign-out':
                  chores.push(handle.revoke(step.user));
                  break;
                case 'sign-in':
                  chores.push(signIn(step.user, step.expired));
                  break;
              }
            }
            const results = await settleAll(
              requests.map((request) => request.result),
              10_000,
            );
            await settleAll(chores, 10_000);
            results.forEach((result, index) => {
              const who = requests[index]!.who;
              if (result.status === 'fulfilled') expect(result.value.data.user).to.equal(who);
              else {
                const error = result.reason as { response?: { status: number } };
                // A typed "sign in again", or the API's own 401 after the one replay (a token refused twice).
                expect(error instanceof LoginRequiredError || error.response?.status === 401, String(error)).to.equal(true);
                expect(findSecret(error, [...provider.issuedTokens, BFF_CLIENT_SECRET])).to.equal(undefined);
              }
            });
          }
          for (const record of provider.apiLog) {
            if (record.tokenUser !== undefined) expect(record.tokenUser).to.equal(record.claimedUser);
          }
        } finally {
          handle.detach();
        }
      }),
      { numRuns: RUNS },
    );
  });
});
