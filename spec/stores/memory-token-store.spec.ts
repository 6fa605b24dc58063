import { expect } from 'chai';
import { MemoryTokenStore } from '../../lib/stores/memory-token-store.js';
import type { StoredTokenSet } from '../../lib/stores/token-store.js';
import { FakeClock } from '../helpers/fake-clock.js';

function stored(accessToken: string, receivedAt = 0): StoredTokenSet {
  return { tokenSet: { accessToken, tokenType: 'Bearer', raw: { access_token: accessToken } }, receivedAt };
}

describe('stores/memory-token-store', () => {
  it('returns what was set under a key, and nothing for other keys', async () => {
    const store = new MemoryTokenStore();
    await store.set('key-a', stored('token-a'));
    expect((await store.get('key-a'))?.tokenSet.accessToken).to.equal('token-a');
    expect(await store.get('key-b')).to.equal(undefined);
  });

  it('replaces the value when a key is set again', async () => {
    const store = new MemoryTokenStore();
    await store.set('key-a', stored('token-1'));
    await store.set('key-a', stored('token-2'));
    expect((await store.get('key-a'))?.tokenSet.accessToken).to.equal('token-2');
  });

  it('forgets a key on delete', async () => {
    const store = new MemoryTokenStore();
    await store.set('key-a', stored('token-a'));
    await store.delete('key-a');
    expect(await store.get('key-a')).to.equal(undefined);
  });

  it('forgets a value once its ttl has passed on its clock', async () => {
    const clock = new FakeClock();
    const store = new MemoryTokenStore(() => clock.now());
    await store.set('key-a', stored('token-a'), 60_000);
    clock.advance(59_999);
    expect((await store.get('key-a'))?.tokenSet.accessToken).to.equal('token-a');
    clock.advance(1);
    expect(await store.get('key-a')).to.equal(undefined);
  });

  it('keeps a value without ttl until it is deleted', async () => {
    const clock = new FakeClock();
    const store = new MemoryTokenStore(() => clock.now());
    await store.set('key-a', stored('token-a'));
    clock.advance(365 * 24 * 3600_000);
    expect((await store.get('key-a'))?.tokenSet.accessToken).to.equal('token-a');
  });

  it('keeps the token sets of two stores apart', async () => {
    const one = new MemoryTokenStore();
    const two = new MemoryTokenStore();
    await one.set('key-a', stored('token-a'));
    expect(await two.get('key-a')).to.equal(undefined);
  });

  it('keeps the order of token sets: a write of an older or equal generation is refused, a newer one replaces', async () => {
    const store = new MemoryTokenStore();
    expect(await store.set('key-a', { ...stored('token-2'), generation: 2 })).to.equal(true);
    expect(await store.set('key-a', { ...stored('token-1-late'), generation: 1 })).to.equal(false);
    expect(await store.set('key-a', { ...stored('token-2-other'), generation: 2 })).to.equal(false);
    expect((await store.get('key-a'))?.tokenSet.accessToken).to.equal('token-2');
    expect(await store.set('key-a', { ...stored('token-3'), generation: 3 })).to.equal(true);
    expect(await store.get('key-a')).to.deep.equal({ ...stored('token-3'), generation: 3 });
  });

  it('writes a set without a generation whatever it holds (a writer that keeps no order)', async () => {
    const store = new MemoryTokenStore();
    await store.set('key-a', { ...stored('token-2'), generation: 2 });
    expect(await store.set('key-a', stored('token-unordered'))).to.equal(true);
    expect((await store.get('key-a'))?.tokenSet.accessToken).to.equal('token-unordered');
  });
});
