// Token, revocation and token info requests travel the way the library decides,
// over real loopback sockets: on axios's http adapter whatever axios.defaults say,
// never following a redirect (an attacker origin records what reaches it), and
// bounded by a deadline, not an idle timeout (a server that drips one byte at a time).

import type { IncomingMessage, ServerResponse } from 'node:http';
import axios, { type AxiosAdapter, type AxiosRequestConfig } from 'axios';
import { expect } from 'chai';
import { attachAuth, ErrorCodes, OAuthError, TokenEndpointError, type AttachAuthOptions, type AuthHandle } from '../../lib/index.js';
import { rejection, within } from '../helpers/deferred.js';
import { listen, sendJson, type Loopback } from '../helpers/emulators/loopback.js';

const CLIENT_ID = 'transport-client';
const CLIENT_SECRET = 'transport-secret-5d1f7a';
const BOUND_MS = 5000;

/** One request a server received: the path, the Authorization header, the body. */
interface Seen {
  path: string;
  authorization: string | undefined;
  body: string;
}

interface RecordingServer extends Loopback {
  readonly seen: Seen[];
}

async function recordingServer(route: (request: IncomingMessage, response: ServerResponse, url: URL) => void): Promise<RecordingServer> {
  const seen: Seen[] = [];
  const loopback = await listen((request, response, url, body) => {
    seen.push({ path: url.pathname, authorization: request.headers.authorization, body });
    route(request, response, url);
  }, Date.now);
  return { ...loopback, seen };
}

/** Sends the status line and headers at once, then one byte every 150 ms, forever: an idle timeout never fires. */
function drip(response: ServerResponse): void {
  response.writeHead(200, { 'Content-Type': 'application/json' });
  response.write(' ');
  const timer = setInterval(() => response.write(' '), 150);
  response.once('close', () => clearInterval(timer));
}

/** Whether this axios release has the fetch adapter (1.7 on). */
function hasFetchAdapter(): boolean {
  try {
    return typeof axios.getAdapter === 'function' && typeof axios.getAdapter('fetch') === 'function';
  } catch {
    return false;
  }
}

describe('token transport (loopback token origin and an attacker origin)', function () {
  let attacker: RecordingServer;
  let auth: RecordingServer;
  let api: RecordingServer;
  const handles: AuthHandle[] = [];

  before(async () => {
    attacker = await recordingServer((_request, response) => sendJson(response, 200, { access_token: 'attacker-token', token_type: 'Bearer' }));
    auth = await recordingServer((_request, response, url) => {
      switch (url.pathname) {
        case '/token-redirect':
          response.writeHead(307, { Location: `${attacker.origin}/steal` });
          response.end();
          return;
        case '/token':
          sendJson(response, 200, { access_token: 'good-token', token_type: 'Bearer', expires_in: 3600 });
          return;
        case '/token-503':
          sendJson(response, 503, { error: 'temporarily_unavailable' });
          return;
        default:
          drip(response);
      }
    });
    api = await recordingServer((_request, response) => sendJson(response, 200, { ok: true }));
  });

  after(async () => {
    await Promise.all([attacker.close(), auth.close(), api.close()]);
  });

  beforeEach(() => {
    attacker.seen.length = 0;
    auth.seen.length = 0;
    api.seen.length = 0;
  });

  afterEach(() => {
    for (const handle of handles.splice(0)) handle.detach();
  });

  function connect(options: Partial<AttachAuthOptions> = {}): AuthHandle {
    const handle = attachAuth(axios.create({ baseURL: api.origin }), {
      tokenUrl: `${auth.origin}/token-redirect`,
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      retry: { limit: 0 },
      ...options,
    });
    handles.push(handle);
    return handle;
  }

  /** Runs `body` with axios.defaults changed as `change` says, and puts them back after. */
  async function withDefaults(change: (defaults: AxiosRequestConfig) => void, body: () => Promise<void>): Promise<void> {
    const saved = { ...axios.defaults };
    change(axios.defaults as AxiosRequestConfig);
    try {
      await body();
    } finally {
      Object.assign(axios.defaults, saved);
      for (const key of Object.keys(axios.defaults)) if (!(key in saved)) delete (axios.defaults as Record<string, unknown>)[key];
    }
  }

  async function expectNoFollow(): Promise<void> {
    const error = await rejection(within(connect().getToken(), BOUND_MS, 'the token request'));
    expect(error).to.be.instanceOf(TokenEndpointError);
    expect((error as TokenEndpointError).status).to.equal(307);
    expect(auth.seen.map((seen) => seen.path)).to.deep.equal(['/token-redirect']);
    expect(attacker.seen).to.deep.equal([]);
  }

  describe('a token request answered with a 307 to another origin', () => {
    it('is not followed on the default adapter', async () => {
      await expectNoFollow();
    });

    it('is not followed when axios.defaults.adapter is "fetch"', async function () {
      if (!hasFetchAdapter()) this.skip();
      await withDefaults((defaults) => (defaults.adapter = 'fetch'), expectNoFollow);
    });

    it('goes out on the http adapter when axios.defaults.adapter is a custom adapter', async () => {
      const custom: AxiosAdapter = () => Promise.reject(new Error('the custom adapter saw a token request'));
      await withDefaults((defaults) => (defaults.adapter = custom), expectNoFollow);
    });

    it('goes to the token URL as given when axios.defaults carry a baseURL and allowAbsoluteUrls: false', async () => {
      await withDefaults((defaults) => {
        defaults.baseURL = attacker.origin;
        defaults.allowAbsoluteUrls = false;
      }, expectNoFollow);
    });
  });

  describe('a token endpoint that sends its headers and then one byte every 150 ms', () => {
    it('fails the token request after tokenRequest.timeout in all, with a typed timeout error', async () => {
      const handle = connect({ tokenUrl: `${auth.origin}/drip`, tokenRequest: { timeout: 300 } });

      const error = await rejection(within(handle.getToken(), BOUND_MS, 'the dripped token request'));

      expect(error).to.be.instanceOf(TokenEndpointError);
      expect((error as TokenEndpointError).code).to.equal(ErrorCodes.TOKEN_ENDPOINT_TIMEOUT);
    });

    it('rejects an API request held for the token within the bound, retries included', async () => {
      const instance = axios.create({ baseURL: api.origin });
      handles.push(
        attachAuth(instance, {
          tokenUrl: `${auth.origin}/drip`,
          clientId: CLIENT_ID,
          clientSecret: CLIENT_SECRET,
          tokenRequest: { timeout: 200 },
          retry: { limit: 2, baseDelay: 10, maxDelay: 20 },
        }),
      );

      const error = await rejection(within(instance.get('/things'), BOUND_MS, 'the held API request'));

      expect((error as TokenEndpointError).code).to.equal(ErrorCodes.TOKEN_ENDPOINT_TIMEOUT);
      expect(auth.seen).to.have.length(3);
      expect(api.seen).to.deep.equal([]);
    });

    it('ends the whole refresh at refreshTimeout, even when tokenRequest.timeout is longer', async () => {
      const handle = connect({ tokenUrl: `${auth.origin}/drip`, tokenRequest: { timeout: 60_000 }, retry: { limit: 3 }, refreshTimeout: 400 });

      const error = await rejection(within(handle.getToken(), BOUND_MS, 'the dripped refresh'));

      expect((error as TokenEndpointError).code).to.equal(ErrorCodes.TOKEN_ENDPOINT_TIMEOUT);
      expect(auth.seen).to.have.length(1);
    });

    it('starts no backoff that would end after refreshTimeout, and rejects with the last failure', async () => {
      const handle = connect({ tokenUrl: `${auth.origin}/token-503`, retry: { limit: 200, baseDelay: 100, maxDelay: 100 }, refreshTimeout: 300 });

      const error = await rejection(within(handle.getToken(), BOUND_MS, 'the refresh retrying a 503'));

      expect(error).to.be.instanceOf(OAuthError);
      expect((error as OAuthError).code).to.equal('temporarily_unavailable');
      // 300 ms hold a few 50-100 ms backoffs; 200 retries would take 15 s.
      expect(auth.seen.length).to.be.within(2, 8);
    });

    it('bounds the revocation call by the same deadline', async () => {
      const handle = connect({ tokenUrl: `${auth.origin}/token`, revocationUrl: `${auth.origin}/drip`, tokenRequest: { timeout: 300 } });
      await handle.getToken();

      const error = await rejection(within(handle.revoke(), BOUND_MS, 'the dripped revocation'));

      expect((error as TokenEndpointError).code).to.equal(ErrorCodes.TOKEN_ENDPOINT_TIMEOUT);
    });

    it('bounds the token info call by the same deadline', async () => {
      const handle = connect({ tokenUrl: `${auth.origin}/token`, tokenInfoUrl: `${auth.origin}/drip`, tokenRequest: { timeout: 300 } });

      const error = await rejection(within(handle.tokenInfo(), BOUND_MS, 'the dripped token info call'));

      expect((error as TokenEndpointError).code).to.equal(ErrorCodes.TOKEN_ENDPOINT_TIMEOUT);
    });
  });
});
