// No token leaves through an error's shared objects (promise 5), over real sockets:
// two handles on two instances share one keep-alive agent, each holds a request in
// flight at the API (so the agent's sockets hold the raw header text of both
// tokens), and errors of every kind on one instance are printed every way a log
// can print them: JSON.stringify, toJSON() and util.inspect with showHidden and
// unlimited depth. An attacker origin records what reaches it.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import axios, { type AxiosError, type AxiosInstance } from 'axios';
import { expect } from 'chai';
import { attachAuth, type AttachAuthOptions, type AuthHandle } from '../../lib/index.js';
import { until, within } from '../helpers/deferred.js';
import { listen, sendJson, type Loopback } from '../helpers/emulators/loopback.js';
import { rememberSecrets, sweep } from '../helpers/secret-sweep.js';
import { unusedLoopbackUrl } from '../helpers/test-server.js';
import type { IncomingMessage, ServerResponse } from 'node:http';

const CLIENT_ID = 'redact-client';
const CLIENT_SECRET = 'redact-client-secret-e4b19c';
const BOUND_MS = 5000;

/** Every way an error is commonly printed, each as text. */
function printings(error: unknown): Record<string, string> {
  const toJSON = (error as { toJSON?: () => unknown }).toJSON;
  return {
    'JSON.stringify': JSON.stringify(error) ?? '',
    'toJSON()': typeof toJSON === 'function' ? JSON.stringify(toJSON.call(error)) : '(no toJSON)',
    'inspect(showHidden, depth Infinity)': inspect(error, { showHidden: true, depth: Infinity }),
  };
}

/** Which of `secrets` some printing shows, and how. */
function exposed(error: unknown, secrets: readonly string[]): string[] {
  const printed = printings(error);
  return secrets.flatMap((secret) => Object.entries(printed).filter(([, text]) => text.includes(secret)).map(([how]) => `${secret} in ${how}`));
}

/** An API and token endpoint whose `/hold` requests stay open until released. */
class Api {
  loopback!: Loopback;
  readonly tokens: string[] = [];
  readonly held: ServerResponse[] = [];
  /** Token endpoint answers 400 invalid_client echoing the secret while set. */
  failTokens = false;
  #issued = 0;

  async start(): Promise<this> {
    this.loopback = await listen((request, response, url, body) => this.#route(request, response, url, body), Date.now);
    return this;
  }

  get origin(): string {
    return this.loopback.origin;
  }

  release(): void {
    for (const response of this.held.splice(0)) sendJson(response, 200, { released: true });
  }

  #route(request: IncomingMessage, response: ServerResponse, url: URL, body: string): void {
    if (url.pathname === '/token') {
      if (this.failTokens) {
        const secret = new URLSearchParams(body).get('client_secret') ?? '';
        sendJson(response, 400, { error: 'invalid_client', error_description: `unknown secret ${secret}` });
        return;
      }
      this.#issued += 1;
      const token = `redact-token-${this.#issued}-${Math.random().toString(36).slice(2, 10)}`;
      this.tokens.push(token);
      rememberSecrets(token);
      sendJson(response, 200, { access_token: token, token_type: 'Bearer', expires_in: 3600 });
      return;
    }
    if (url.pathname === '/hold') {
      this.held.push(response);
      return;
    }
    if (url.pathname === '/hang') return;
    if (url.pathname === '/fail') {
      sendJson(response, 500, { error: 'boom' });
      return;
    }
    if (url.pathname === '/stream-fail') {
      response.writeHead(500, { 'Content-Type': 'text/plain' });
      response.end('the body of a failure');
      return;
    }
    sendJson(response, 200, { ok: true, sawAuthorization: request.headers.authorization !== undefined });
  }
}

describe('errors keep tokens out of their shared objects (keep-alive agent, requests in flight)', function () {
  let api: Api;
  let attacker: { origin: string; received: { path: string; authorization: string | undefined }[]; close: () => Promise<void> };
  let agent: http.Agent;
  let first: AxiosInstance;
  let second: AxiosInstance;
  const handles: AuthHandle[] = [];
  const inFlight: Promise<unknown>[] = [];

  before(async () => {
    api = await new Api().start();
    const received: { path: string; authorization: string | undefined }[] = [];
    const loopback = await listen((request, response, url) => {
      received.push({ path: url.pathname, authorization: request.headers.authorization });
      sendJson(response, 500, { attacker: true });
    }, Date.now);
    attacker = { origin: loopback.origin, received, close: loopback.close };
    rememberSecrets(CLIENT_SECRET);
  });

  after(async () => {
    api.release();
    await attacker.close();
    await api.loopback.close();
  });

  function connect(instance: AxiosInstance, options: Partial<AttachAuthOptions> = {}): AuthHandle {
    const handle = attachAuth(instance, { tokenUrl: `${api.origin}/token`, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, retry: { limit: 0 }, ...options });
    handles.push(handle);
    return handle;
  }

  beforeEach(async () => {
    api.failTokens = false;
    attacker.received.length = 0;
    agent = new http.Agent({ keepAlive: true });
    first = axios.create({ baseURL: api.origin, httpAgent: agent });
    second = axios.create({ baseURL: api.origin, httpAgent: agent });
    connect(first);
    connect(second);
    // One request of each handle stays open at the API: the agent's sockets now hold both tokens' header text.
    const before = api.held.length;
    inFlight.push(first.get('/hold'), second.get('/hold'));
    await until(() => api.held.length === before + 2, 'both held requests reach the API');
  });

  afterEach(async () => {
    api.release();
    await within(Promise.allSettled(inFlight.splice(0)), BOUND_MS, 'the held requests');
    for (const handle of handles.splice(0)) handle.detach();
    agent.destroy();
  });

  async function failure(request: Promise<unknown>, what: string): Promise<unknown> {
    const outcome = await within(
      request.then(
        () => ({ error: undefined }),
        (error: unknown) => ({ error }),
      ),
      BOUND_MS,
      what,
    );
    expect(outcome.error, `${what} should fail`).to.not.equal(undefined);
    return sweep(outcome.error, `redact: ${what}`);
  }

  function secrets(): string[] {
    return [CLIENT_SECRET, ...api.tokens];
  }

  it('has a leak to close: the shared agent itself shows the tokens of the requests in flight', function () {
    const shown = inspect(agent, { showHidden: true, depth: Infinity });
    expect(api.tokens.length).to.equal(2);
    for (const token of api.tokens) expect(shown).to.include(token);
  });

  it('keeps every token out of a 500 on a request sent with a token', async function () {
    const error = await failure(first.get('/fail'), 'GET /fail');

    expect((error as AxiosError).response?.status).to.equal(500);
    expect(exposed(error, secrets())).to.deep.equal([]);
  });

  it('keeps every token out of the error of a skipAuth request and of a request to an origin that is not allowed', async function () {
    const skipped = await failure(first.get('/fail', { skipAuth: true }), 'skipAuth GET /fail');
    const elsewhere = await failure(first.get(`${attacker.origin}/collect`), 'GET attacker/collect');

    expect(attacker.received).to.deep.equal([{ path: '/collect', authorization: undefined }]);
    expect(exposed(skipped, secrets())).to.deep.equal([]);
    expect(exposed(elsewhere, secrets())).to.deep.equal([]);
  });

  it('keeps every token out of a timeout, a refused connection and a cancelled request', async function () {
    const timeout = await failure(first.get('/hang', { timeout: 100 }), 'GET /hang with a timeout');
    const refused = await failure(first.get(await unusedLoopbackUrl('/refused')), 'GET a closed port');
    const controller = new AbortController();
    const cancelled = first.get('/hold', { signal: controller.signal });
    const before = api.held.length;
    await until(() => api.held.length > before, 'the request to cancel reaches the API');
    controller.abort();
    const cancel = await failure(cancelled, 'a cancelled GET /hold');

    expect((timeout as AxiosError).code).to.equal('ECONNABORTED');
    expect((refused as AxiosError).code).to.equal('ECONNREFUSED');
    expect(axios.isCancel(cancel)).to.equal(true);
    for (const error of [timeout, refused, cancel]) expect(exposed(error, secrets())).to.deep.equal([]);
  });

  it('keeps every token out of a token endpoint failure that echoes the client secret', async function () {
    api.failTokens = true;
    const third = axios.create({ baseURL: api.origin, httpAgent: agent });
    connect(third);

    const error = await failure(third.get('/things'), 'GET /things without a token');

    expect((error as { code?: string }).code).to.equal('invalid_client');
    expect(exposed(error, secrets())).to.deep.equal([]);
  });

  it('keeps every token out of an error an app interceptor made from the axios error, before attachAuth ran', async function () {
    const wrapped = axios.create({ baseURL: api.origin, httpAgent: agent });
    class AppError extends Error {}
    wrapped.interceptors.response.use(undefined, (error: unknown) => Promise.reject(new AppError('the API failed', { cause: error })));
    connect(wrapped);

    const error = await failure(wrapped.get('/fail'), 'GET /fail through an app interceptor');

    expect(error).to.be.instanceOf(AppError);
    expect(exposed(error, secrets())).to.deep.equal([]);
  });

  it('keeps every token out of an error a response interceptor registered after attachAuth rebuilds from the error', async function () {
    const rebuilt = axios.create({ baseURL: api.origin, httpAgent: agent });
    connect(rebuilt);
    rebuilt.interceptors.response.use(undefined, (error: AxiosError) =>
      Promise.reject(new axios.AxiosError('the orders service failed', 'ERR_ORDERS', error.config, error.request, error.response)),
    );

    const error = await failure(rebuilt.get('/fail'), 'GET /fail, rebuilt by an app interceptor');

    expect((error as AxiosError).code).to.equal('ERR_ORDERS');
    expect(exposed(error, secrets())).to.deep.equal([]);
  });

  it('keeps every token out of an error of the fetch adapter, whose request object holds the headers', async function () {
    const fetching = axios.create({ baseURL: api.origin, adapter: 'fetch' });
    connect(fetching);

    const error = await failure(fetching.get('/fail'), 'GET /fail with the fetch adapter');

    expect((error as AxiosError).response?.status).to.equal(500);
    expect(exposed(error, secrets())).to.deep.equal([]);
  });

  it('keeps every token out of an error response read as a stream, which stays readable', async function () {
    const error = await failure(first.get('/stream-fail', { responseType: 'stream' }), 'GET /stream-fail as a stream');

    expect(exposed(error, secrets())).to.deep.equal([]);
    const chunks: Buffer[] = [];
    for await (const chunk of (error as AxiosError<NodeJS.ReadableStream>).response!.data) chunks.push(Buffer.from(chunk as Buffer));
    expect(Buffer.concat(chunks).toString('utf8')).to.equal('the body of a failure');
  });

  it('keeps what a caller resending error.config needs: the request goes out through the same agent', async function () {
    const error = (await failure(first.get('/fail'), 'GET /fail')) as AxiosError;
    // addRequest is how Node's http client hands a request to an agent (not in @types/node).
    const pooled = agent as unknown as { addRequest: (request: unknown, options: unknown) => void };
    const original = pooled.addRequest.bind(agent);
    let viaAgent = 0;
    pooled.addRequest = (request, options) => {
      viaAgent += 1;
      original(request, options);
    };

    const resent = await within(first.request({ ...error.config, url: '/resent' }), BOUND_MS, 'the resent request');

    expect(resent.data).to.deep.equal({ ok: true, sawAuthorization: true });
    expect(viaAgent).to.equal(1);
    expect(error.request, 'error.request still says a request was sent').to.include({ method: 'GET', path: '/fail' });
  });
});

describe('errors keep tokens out of a keep-alive https agent', function () {
  let directory: string;
  let server: https.Server;
  let origin: string;
  let agent: https.Agent;
  const tokens: string[] = [];
  const held: ServerResponse[] = [];

  before(async function () {
    directory = mkdtempSync(join(tmpdir(), 'redact-tls-'));
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(directory, 'key.pem'), '-out', join(directory, 'cert.pem')], { stdio: 'ignore' });
    } catch {
      this.skip();
    }
    const cert = readFileSync(join(directory, 'cert.pem'));
    server = https.createServer({ key: readFileSync(join(directory, 'key.pem')), cert }, (request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        if (request.url === '/token') {
          const token = `redact-tls-token-${tokens.length + 1}-${Math.random().toString(36).slice(2, 10)}`;
          tokens.push(token);
          rememberSecrets(token);
          sendJson(response, 200, { access_token: token, token_type: 'Bearer', expires_in: 3600 });
        } else if (request.url === '/hold') held.push(response);
        else sendJson(response, 500, { error: 'boom' });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    agent = new https.Agent({ keepAlive: true, ca: cert });
  });

  after(async () => {
    for (const response of held.splice(0)) sendJson(response, 200, {});
    agent?.destroy();
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve())));
    if (directory !== undefined) rmSync(directory, { recursive: true, force: true });
  });

  it('keeps both tokens out of a 500 while the other handle holds a request in flight', async function () {
    const first = axios.create({ baseURL: origin, httpsAgent: agent });
    const second = axios.create({ baseURL: origin, httpsAgent: agent });
    const options = { tokenUrl: `${origin}/token`, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET };
    // The token endpoint's private instance has no custom CA: it is told to trust this one through the agent of the API only.
    const handles = [attachAuth(first, { ...options, tokenRequest: { timeout: 2000 } }), attachAuth(second, options)];
    const trusting = https.globalAgent.options.ca;
    https.globalAgent.options.ca = readFileSync(join(directory, 'cert.pem'));
    try {
      const pending = [first.get('/hold'), second.get('/hold')];
      await until(() => held.length === 2, 'both held requests reach the API');

      const error = await within(first.get('/fail').then(() => undefined, (failure: unknown) => sweep(failure, 'redact: https 500')), BOUND_MS, 'GET /fail');

      expect((error as AxiosError).response?.status).to.equal(500);
      expect(inspect(agent, { showHidden: true, depth: Infinity }), 'the agent holds both tokens').to.include(tokens[1]);
      expect(exposed(error, [CLIENT_SECRET, ...tokens])).to.deep.equal([]);
      for (const response of held.splice(0)) sendJson(response, 200, {});
      await within(Promise.allSettled(pending), BOUND_MS, 'the held requests');
    } finally {
      https.globalAgent.options.ca = trusting;
      for (const handle of handles) handle.detach();
    }
  });
});
