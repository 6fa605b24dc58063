// Loggers as people pass them, and event callbacks that fail, over real sockets:
// pino itself, a class-based logger whose methods read `this`, a logger that
// throws; onToken, onRefreshError and onReplay that throw or reject. None may
// fail a request, stall the queue or lose a token; each failure is reported once.

import { Writable } from 'node:stream';
import axios, { type AxiosInstance } from 'axios';
import { expect } from 'chai';
import { pino } from 'pino';
import { attachAuth, OAuthError, type AttachAuthOptions, type AuthHandle, type AuthLogger } from '../../lib/index.js';
import { settleAll, within } from '../helpers/deferred.js';
import { sweep } from '../helpers/secret-sweep.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const CLIENT_ID = 'logger-client';
const CLIENT_SECRET = 'logger-secret-0f9d3e';
const BOUND_MS = 10_000;

/** A logger in the style of winston or bunyan: methods on a class that read `this`. */
class ClassLogger {
  readonly #lines: { level: string; line: string }[] = [];

  debug(line: string): void {
    this.#lines.push({ level: 'debug', line });
  }

  info(line: string): void {
    this.#lines.push({ level: 'info', line });
  }

  warn(line: string): void {
    this.#lines.push({ level: 'warn', line });
  }

  error(line: string): void {
    this.#lines.push({ level: 'error', line });
  }

  lines(level?: string): string[] {
    return this.#lines.filter((entry) => level === undefined || entry.level === level).map((entry) => entry.line);
  }
}

describe('loggers and event callbacks as apps pass them', function () {
  let server: TestServer;
  const handles: AuthHandle[] = [];

  before(async () => {
    server = await startTestServer({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
  });

  after(async () => {
    await server.close();
  });

  beforeEach(() => {
    server.reset();
  });

  afterEach(() => {
    for (const handle of handles.splice(0)) handle.detach();
  });

  function connect(options: Partial<AttachAuthOptions>): { api: AxiosInstance; handle: AuthHandle } {
    const api = axios.create({ baseURL: server.origin });
    const handle = attachAuth(api, { tokenUrl: server.tokenUrl, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, retry: { limit: 0 }, ...options });
    handles.push(handle);
    return { api, handle };
  }

  /** A warm-up, then every token revoked and `count` concurrent requests: one refresh, `count` replays or holds, lines logged. */
  async function storm(api: AxiosInstance, count: number): Promise<PromiseSettledResult<unknown>[]> {
    await within(api.get('/warm-up'), BOUND_MS, 'the warm-up');
    server.revokeAll();
    return settleAll(Array.from({ length: count }, (_, index) => api.get(`/storm/${index}`).catch((error: unknown) => Promise.reject(sweep(error, 'loggers')))), BOUND_MS);
  }

  function rejected(results: PromiseSettledResult<unknown>[]): unknown[] {
    return results.flatMap((result) => (result.status === 'rejected' ? [result.reason] : []));
  }

  it('works with pino as it is passed (`logger: pino()`), its methods called on it', async function () {
    const written: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        written.push(chunk.toString('utf8'));
        done();
      },
    });
    const { api } = connect({ logger: pino({ level: 'debug' }, destination) });

    const results = await storm(api, 300);

    expect(rejected(results)).to.deep.equal([]);
    expect(server.tokenRequests).to.equal(2);
    expect(written.join('')).to.include('axios-oauth-queue: new token set');
  });

  it('works with a class-based logger whose methods read `this`, and sends a terminal failure to its error level', async function () {
    const logger = new ClassLogger();
    const { api } = connect({ logger, failureCoolDown: 0 });

    expect(rejected(await storm(api, 200))).to.deep.equal([]);
    server.failTokenEndpoint('invalid_client');
    server.revokeAll();
    const failed = await within(api.get('/after').then(() => undefined, (error: unknown) => sweep(error, 'loggers')), BOUND_MS, 'the failing request');

    expect(failed).to.be.instanceOf(OAuthError);
    expect(logger.lines('debug').some((line) => line.includes('new token set'))).to.equal(true);
    expect(logger.lines('error')).to.have.length(1);
    expect(logger.lines('error')[0]).to.include('token refresh failed').and.to.include('invalid_client');
  });

  it('keeps requests going when the logger throws on every line', async function () {
    const logger: AuthLogger = {
      debug: () => {
        throw new Error('log sink closed');
      },
      warn: () => {
        throw new Error('log sink closed');
      },
    };
    const { api } = connect({ logger });

    expect(rejected(await storm(api, 200))).to.deep.equal([]);
    expect(server.tokenRequests).to.equal(2);
  });

  it('keeps the token onToken was given when onToken throws, and reports that once', async function () {
    const logger = new ClassLogger();
    const { api, handle } = connect({
      logger,
      events: {
        onToken: () => {
          throw new Error('metrics backend down');
        },
      },
    });

    expect(rejected(await storm(api, 100))).to.deep.equal([]);
    await within(handle.refresh(), BOUND_MS, 'a forced refresh');
    await within(api.get('/again'), BOUND_MS, 'a request after the refreshes');

    expect(server.tokenRequests, 'every token onToken saw was kept: no token request beyond the three refreshes').to.equal(3);
    expect(server.apiRequestsByToken.get(server.currentAccessToken!)).to.equal(1);
    expect(logger.lines('warn').filter((line) => line.includes('onToken callback failed'))).to.have.length(1);
  });

  it('rejects held requests with the typed refresh error when onRefreshError throws, and the queue goes on afterwards', async function () {
    const { api } = connect({
      failureCoolDown: 0,
      events: {
        onRefreshError: () => {
          throw new Error('alerting failed');
        },
      },
    });
    server.failTokenEndpoint('invalid_client');

    const failures = rejected(await settleAll(Array.from({ length: 50 }, () => api.get('/held').catch((error: unknown) => Promise.reject(sweep(error, 'loggers')))), BOUND_MS));
    server.restoreTokenEndpoint();
    const after = await within(api.get('/after'), BOUND_MS, 'the request after the failure');

    expect(failures).to.have.length(50);
    for (const failure of failures) expect(failure).to.be.instanceOf(OAuthError).and.to.have.property('code', 'invalid_client');
    expect(after.status).to.equal(200);
  });

  it('replays the request when onReplay throws, and lets an onToken that rejects become no unhandled rejection', async function () {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const { api } = connect({
        events: {
          onReplay: () => {
            throw new Error('counter overflow');
          },
          onToken: async () => Promise.reject(new Error('async sink down')),
        },
      });

      const results = await storm(api, 20);
      await new Promise((resolve) => setImmediate(resolve));

      expect(rejected(results)).to.deep.equal([]);
      expect(unhandled).to.deep.equal([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
