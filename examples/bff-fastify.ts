// A BFF on Fastify 5: one Axios instance calls the API for every signed-in user,
// with each user's tokens kept in their @fastify/session (SessionUserTokenStore).
// Runs with no network: an embedded provider (examples/bff-provider.ts) plays
// Movemint's /oauth/authorize and /oauth/token. `npx tsx examples/bff-fastify.ts`

import axios from 'axios';
import fastifyCookie from '@fastify/cookie';
import fastifySession, { type SessionStore } from '@fastify/session';
import Fastify, { type FastifyRequest, type Session } from 'fastify';
import { attachUserAuth, authorizeUrl, createPkce, LoginRequiredError, SessionUserTokenStore } from '../lib/index.js';
import { BFF_CLIENT_ID, BFF_CLIENT_SECRET, type BffProvider } from './bff-provider.js';
import { walkThrough, type RunningBff } from './bff-walkthrough.js';

declare module 'fastify' {
  interface Session {
    pkce?: { codeVerifier: string; state: string };
  }
}

async function startBff(provider: BffProvider, sessions: SessionStore): Promise<RunningBff> {
  const app = Fastify();
  let origin = '';
  const api = axios.create({ baseURL: provider.origin });
  const users = attachUserAuth(api, {
    tokenUrl: provider.tokenUrl,
    clientId: BFF_CLIENT_ID,
    clientSecret: BFF_CLIENT_SECRET,
    revocationUrl: provider.revocationUrl,
    tokens: new SessionUserTokenStore(),
  });

  await app.register(fastifyCookie);
  await app.register(fastifySession, { secret: 'example-cookie-secret-of-32-characters-or-more', store: sessions, saveUninitialized: false, cookie: { secure: false } });
  // After the session plugin's own hook: from here on, `api` calls are for the user of this session.
  app.addHook('preHandler', users.fastifyHook((request: FastifyRequest) => request.session.sessionId));

  app.get<{ Querystring: { user: string } }>('/login', async (request, reply) => {
    const pkce = createPkce();
    const state = pkce.codeVerifier.slice(0, 16);
    request.session.pkce = { codeVerifier: pkce.codeVerifier, state };
    return reply.redirect(
      authorizeUrl({
        authorizationUrl: provider.authorizationUrl,
        clientId: BFF_CLIENT_ID,
        redirectUri: `${origin}/callback`,
        state,
        codeChallenge: pkce.codeChallenge,
        params: { login_hint: request.query.user },
      }),
    );
  });

  app.get<{ Querystring: { code: string; state: string } }>('/callback', async (request, reply) => {
    const pending = request.session.pkce;
    if (pending === undefined || request.query.state !== pending.state) return reply.status(400).send({ error: 'bad_state' });
    // A new session id at sign-in (session fixation); the tokens go into the new session.
    await request.session.regenerate();
    await users.signIn(request.session.sessionId, { code: request.query.code, redirectUri: `${origin}/callback`, codeVerifier: pending.codeVerifier });
    return { signedIn: true };
  });

  app.get('/me', async (_request, reply) => {
    try {
      return (await api.get('/api/me')).data;
    } catch (error) {
      if (error instanceof LoginRequiredError) return reply.status(401).send({ error: 'login_required', login: '/login' });
      throw error;
    }
  });

  app.get('/logout', async (request) => {
    await users.revoke(request.session.sessionId);
    await request.session.destroy();
    return { signedOut: true };
  });

  origin = await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    origin,
    close: async () => {
      users.detach();
      await app.close();
    },
  };
}

/** @fastify/session's MemoryStore, standing in for a store that outlives the process (Redis and the like). */
class MemorySessionStore implements SessionStore {
  readonly #sessions = new Map<string, string>();

  set(sessionId: string, session: unknown, callback: (error?: unknown) => void): void {
    this.#sessions.set(sessionId, JSON.stringify(session));
    callback();
  }

  get(sessionId: string, callback: (error: unknown, result?: Session | null) => void): void {
    const value = this.#sessions.get(sessionId);
    callback(null, value === undefined ? undefined : (JSON.parse(value) as Session));
  }

  destroy(sessionId: string, callback: (error?: unknown) => void): void {
    this.#sessions.delete(sessionId);
    callback();
  }
}

await walkThrough('bff-fastify', (provider, sessions) => startBff(provider, sessions as SessionStore), new MemorySessionStore());
