// The story both BFF examples tell, as a script: two people sign in through the
// embedded provider (authorization code + PKCE), use the API at once, one of them
// loses their grant upstream while the other carries on, the BFF restarts and both
// sessions resume (refreshing with the rotated refresh token the session kept), and
// one signs out. Each step checks what it claims; any broken claim exits non-zero.

import assert from 'node:assert/strict';
import axios, { type AxiosResponse } from 'axios';
import { BffProvider } from './bff-provider.js';

/** A BFF under test: where it listens, and how to stop it (a "restart" stops one and starts another). */
export interface RunningBff {
  origin: string;
  close(): Promise<void>;
}

/** Starts a BFF against `provider`; the session store object is passed again on restart, as Redis would keep it. */
export type StartBff = (provider: BffProvider, sessions: unknown) => Promise<RunningBff>;

/** A browser with one cookie jar, following redirects by hand so the cookie goes only to the BFF. */
class Browser {
  readonly #cookies = new Map<string, string>();
  readonly #bffOrigin: () => string;

  constructor(bffOrigin: () => string) {
    this.#bffOrigin = bffOrigin;
  }

  async get(url: string): Promise<AxiosResponse> {
    let target = url;
    for (let hop = 0; hop < 5; hop += 1) {
      const toBff = target.startsWith(this.#bffOrigin());
      const cookie = [...this.#cookies].map(([name, value]) => `${name}=${value}`).join('; ');
      const response = await axios.get(target, { maxRedirects: 0, validateStatus: () => true, headers: toBff && cookie !== '' ? { Cookie: cookie } : {} });
      if (toBff) {
        for (const line of response.headers['set-cookie'] ?? []) {
          const [pair] = line.split(';');
          const [name, ...value] = (pair ?? '').split('=');
          if (name !== undefined) this.#cookies.set(name.trim(), value.join('='));
        }
      }
      const location = response.headers['location'];
      if (response.status < 300 || response.status >= 400 || typeof location !== 'string') return response;
      target = new URL(location, target).toString();
    }
    throw new Error('too many redirects');
  }
}

export async function walkThrough(name: string, start: StartBff, sessions: unknown): Promise<void> {
  const provider = await new BffProvider().start();
  let bff = await start(provider, sessions);
  const origin = (): string => bff.origin;
  const alice = new Browser(origin);
  const bob = new Browser(origin);
  const me = async (browser: Browser): Promise<{ status: number; body: unknown }> => {
    const response = await browser.get(`${origin()}/me`);
    return { status: response.status, body: response.data };
  };
  try {
    console.log(`${name}: embedded provider at ${provider.origin}, BFF at ${origin()}`);

    for (const [who, browser] of [['alice', alice], ['bob', bob]] as const) {
      const signedIn = await browser.get(`${origin()}/login?user=${who}`);
      assert.equal(signedIn.status, 200, `${who} signs in`);
    }
    const [a, b] = await Promise.all([me(alice), me(bob)]);
    assert.deepEqual([a.body, b.body], [{ user: 'alice' }, { user: 'bob' }]);
    console.log('1. alice and bob signed in (code + PKCE); each /me carries their own token');

    provider.expireAccessTokens('alice');
    provider.expireAccessTokens('bob');
    const rotated = await Promise.all([me(alice), me(alice), me(bob), me(bob)]);
    assert.deepEqual(rotated.map((answer) => answer.status), [200, 200, 200, 200]);
    assert.deepEqual([provider.refreshRequestsByUser.get('alice'), provider.refreshRequestsByUser.get('bob')], [1, 1]);
    console.log('2. the API refused both access tokens: one refresh each (rotating refresh tokens), requests replayed');

    provider.revokeUser('bob');
    const [bobNow, aliceNow] = await Promise.all([me(bob), me(alice)]);
    assert.equal(bobNow.status, 401);
    assert.deepEqual(bobNow.body, { error: 'login_required', login: '/login' });
    assert.deepEqual(aliceNow.body, { user: 'alice' });
    console.log("3. bob's grant was revoked upstream: he is asked to sign in again (ERR_LOGIN_REQUIRED); alice carries on");
    assert.equal((await bob.get(`${origin()}/login?user=bob`)).status, 200);
    assert.deepEqual((await me(bob)).body, { user: 'bob' });
    console.log('4. bob signed in again');

    provider.expireAccessTokens('alice');
    provider.expireAccessTokens('bob');
    assert.deepEqual([(await me(alice)).status, (await me(bob)).status], [200, 200]);
    await bff.close();
    bff = await start(provider, sessions);
    provider.expireAccessTokens('alice');
    provider.expireAccessTokens('bob');
    const resumed = await Promise.all([me(alice), me(bob)]);
    assert.deepEqual(resumed.map((answer) => answer.body), [{ user: 'alice' }, { user: 'bob' }]);
    assert.equal(provider.counters.reusedRefreshTokens, 0, 'no spent refresh token was ever presented');
    console.log(`5. the BFF restarted (now at ${origin()}): both sessions resumed with the rotated refresh tokens they kept; spent refresh tokens presented: 0`);

    const revocations = provider.counters.revocations;
    assert.equal((await alice.get(`${origin()}/logout`)).status, 200);
    assert.equal(provider.counters.revocations - revocations, 2);
    assert.equal((await me(alice)).status, 401);
    assert.deepEqual((await me(bob)).body, { user: 'bob' });
    console.log('6. alice signed out: refresh token and access token revoked at the provider; bob is still signed in');
    console.log(`${name}: done`);
  } finally {
    await bff.close();
    await provider.close();
  }
}
