import { expect } from 'chai';
import { ErrorCodes, SessionUserTokenStore, type StoredUserTokenSet } from '../../lib/index.js';
import { runInScope } from '../../lib/user-subject.js';

function stored(accessToken: string): StoredUserTokenSet {
  return { tokenSet: { accessToken, tokenType: 'Bearer', refreshToken: `rt-${accessToken}`, raw: {} }, receivedAt: 0, generation: 3 };
}

/** express-session's shape: plain properties and save(callback). */
function expressSession(id: string) {
  const session: Record<string, unknown> & { id: string; saves: number; save(callback: (error?: unknown) => void): void } = {
    id,
    saves: 0,
    save(callback) {
      this.saves += 1;
      callback();
    },
  };
  return session;
}

/** @fastify/session's shape: get/set and save(callback). */
function fastifySession(sessionId: string) {
  const values = new Map<string, unknown>();
  return {
    sessionId,
    saves: 0,
    values,
    get: (key: string) => values.get(key),
    set: (key: string, value: unknown) => void values.set(key, value),
    save(callback: (error?: unknown) => void) {
      this.saves += 1;
      callback();
    },
  };
}

describe('SessionUserTokenStore', () => {
  const store = new SessionUserTokenStore();

  it("keeps the token set in the request's express-session and saves it at once", async () => {
    const request = { session: expressSession('s1') };
    await runInScope({ subject: 's1', request }, async () => {
      await store.set('key-1', stored('a'), undefined, 's1');
      expect(request.session.saves).to.equal(1);
      expect((await store.get('key-1', 's1'))?.tokenSet.accessToken).to.equal('a');
      expect(await store.get('key-of-another-client', 's1')).to.equal(undefined);
      await store.delete('key-1', 's1');
      expect(await store.get('key-1', 's1')).to.equal(undefined);
      expect(request.session.saves).to.equal(2);
    });
  });

  it('uses get/set and save on a @fastify/session session, and the value survives JSON (a session store)', async () => {
    const request = { session: fastifySession('f1') };
    await runInScope({ subject: 'f1', request }, async () => {
      await store.set('key-1', stored('b'), undefined, 'f1');
      expect(request.session.saves).to.equal(1);
      const reloaded = JSON.parse(JSON.stringify(request.session.values.get('oauthTokenSet'))) as unknown;
      request.session.values.set('oauthTokenSet', reloaded);
      expect(await store.get('key-1', 'f1')).to.deep.equal(stored('b'));
    });
  });

  it("refuses to read or write another user's session, and works only inside a request scope", async () => {
    const request = { session: expressSession('alice-session') };
    const refused = await runInScope({ subject: 'alice-session', request }, () => store.set('key-b', stored('bob'), undefined, 'bob-session').catch((error: unknown) => error));
    expect((refused as { code?: string }).code).to.equal(ErrorCodes.AUTH_SUBJECT_REQUIRED);
    expect(request.session['oauthTokenSet']).to.equal(undefined);
    const outside = await store.get('key-b', 'bob-session').catch((error: unknown) => error);
    expect((outside as { code?: string }).code).to.equal(ErrorCodes.AUTH_SUBJECT_REQUIRED);
  });

  it('follows the subject of the request as it is now, so a sign-in after session.regenerate() writes to the new session', async () => {
    const request = { session: expressSession('old-id') };
    await runInScope({ subject: 'old-id', request, currentSubject: () => request.session.id }, async () => {
      request.session = expressSession('new-id');
      await store.set('key-new', stored('c'), undefined, 'new-id');
      expect((await store.get('key-new', 'new-id'))?.tokenSet.accessToken).to.equal('c');
    });
  });
});
