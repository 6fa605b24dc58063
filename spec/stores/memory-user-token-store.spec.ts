import { expect } from 'chai';
import { ConfigurationError, MemoryUserTokenStore, type StoredUserTokenSet } from '../../lib/index.js';

function stored(accessToken: string): StoredUserTokenSet {
  return { tokenSet: { accessToken, tokenType: 'Bearer', raw: {} }, receivedAt: 0, generation: 1 };
}

describe('MemoryUserTokenStore', () => {
  it('keeps at most maxUsers, forgetting the least recently used first', async () => {
    const store = new MemoryUserTokenStore({ maxUsers: 3 });
    for (const user of ['a', 'b', 'c']) await store.set(user, stored(user));
    await store.get('a'); // a is now the most recently used
    await store.set('d', stored('d'));
    expect(store.size).to.equal(3);
    expect(await store.get('b')).to.equal(undefined);
    expect((await store.get('a'))?.tokenSet.accessToken).to.equal('a');
    expect((await store.get('d'))?.tokenSet.accessToken).to.equal('d');
  });

  it('forgets a user nobody served for idleTimeout, checked lazily without a timer, and touch() keeps one alive', async () => {
    let now = 0;
    const store = new MemoryUserTokenStore({ idleTimeout: 60, now: () => now });
    await store.set('idle', stored('idle'));
    await store.set('active', stored('active'));
    now = 50_000;
    store.touch('active');
    now = 61_000;
    expect(await store.get('idle')).to.equal(undefined);
    expect((await store.get('active'))?.tokenSet.accessToken).to.equal('active');
  });

  it('evicts idle users when others are written, so an idle crowd does not stay in memory', async () => {
    let now = 0;
    const store = new MemoryUserTokenStore({ idleTimeout: 10, now: () => now });
    for (let index = 0; index < 100; index += 1) await store.set(`user-${index}`, stored(`t-${index}`));
    now = 20_000;
    for (let index = 0; index < 30; index += 1) await store.set(`new-${index}`, stored(`n-${index}`));
    expect(store.size).to.equal(30);
  });

  it('honours a ttl and delete', async () => {
    let now = 0;
    const store = new MemoryUserTokenStore({ now: () => now });
    await store.set('a', stored('a'), 1000);
    await store.set('b', stored('b'));
    now = 1000;
    expect(await store.get('a')).to.equal(undefined);
    await store.delete('b');
    expect(await store.get('b')).to.equal(undefined);
  });

  it('refuses bounds that are not positive, naming the option', () => {
    expect(() => new MemoryUserTokenStore({ maxUsers: 0 })).to.throw(ConfigurationError, /maxUsers/);
    expect(() => new MemoryUserTokenStore({ idleTimeout: -1 })).to.throw(ConfigurationError, /idleTimeout/);
  });
});
