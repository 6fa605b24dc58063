// A BFF on Express 5: one Axios instance calls the API for every signed-in user,
// with each user's tokens kept in their express-session (SessionUserTokenStore).
// Runs with no network: an embedded provider (examples/bff-provider.ts) plays
// Movemint's /oauth/authorize and /oauth/token. `npx tsx examples/bff-express.ts`

import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import axios from 'axios';
import express from 'express';
import session from 'express-session';
import { attachUserAuth, authorizeUrl, createPkce, LoginRequiredError, SessionUserTokenStore } from '../lib/index.js';
import { BFF_CLIENT_ID, BFF_CLIENT_SECRET, type BffProvider } from './bff-provider.js';
import { walkThrough, type RunningBff } from './bff-walkthrough.js';

declare module 'express-session' {
  interface SessionData {
    pkce: { codeVerifier: string; state: string };
  }
}

async function startBff(provider: BffProvider, sessions: session.Store): Promise<RunningBff> {
  const app = express();
  let origin = '';
  const api = axios.create({ baseURL: provider.origin });
  const users = attachUserAuth(api, {
    tokenUrl: provider.tokenUrl,
    clientId: BFF_CLIENT_ID,
    clientSecret: BFF_CLIENT_SECRET,
    revocationUrl: provider.revocationUrl,
    tokens: new SessionUserTokenStore(),
  });

  app.use(session({ store: sessions, secret: 'example-cookie-secret', resave: false, saveUninitialized: false }));
  // From here on, every call through `api` is for the user of this session.
  app.use(users.middleware((req: express.Request) => req.session.id));

  app.get('/login', (req, res) => {
    const pkce = createPkce();
    const state = pkce.codeVerifier.slice(0, 16);
    req.session.pkce = { codeVerifier: pkce.codeVerifier, state };
    const url = authorizeUrl({
      authorizationUrl: provider.authorizationUrl,
      clientId: BFF_CLIENT_ID,
      redirectUri: `${origin}/callback`,
      state,
      codeChallenge: pkce.codeChallenge,
      params: { login_hint: String(req.query['user']) },
    });
    res.redirect(url);
  });

  app.get('/callback', async (req, res) => {
    const pending = req.session.pkce;
    if (pending === undefined || req.query['state'] !== pending.state) return void res.status(400).json({ error: 'bad_state' });
    // A new session id at sign-in (session fixation); the tokens go into the new session.
    await new Promise<void>((resolve, reject) => req.session.regenerate((error) => (error ? reject(error) : resolve())));
    await users.signIn(req.session.id, { code: String(req.query['code']), redirectUri: `${origin}/callback`, codeVerifier: pending.codeVerifier });
    res.json({ signedIn: true });
  });

  app.get('/me', async (_req, res) => {
    try {
      res.json((await api.get('/api/me')).data);
    } catch (error) {
      if (error instanceof LoginRequiredError) return void res.status(401).json({ error: 'login_required', login: '/login' });
      throw error;
    }
  });

  app.get('/logout', async (req, res) => {
    await users.revoke(req.session.id);
    await new Promise<void>((resolve) => req.session.destroy(() => resolve()));
    res.json({ signedOut: true });
  });

  const server: Server = await new Promise((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    close: async () => {
      users.detach();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// The session store outlives the BFF process it serves (in production: connect-redis and the like).
await walkThrough('bff-express', (provider, sessions) => startBff(provider, sessions as session.Store), new session.MemoryStore());
