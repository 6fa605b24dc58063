// Property tests of the queue flow: fast-check drives random interleavings of
// concurrent requests, clock jumps, revocations, token endpoint failures
// (transient, terminal, bad body, network) and aborts against an in-memory
// server (a custom axios adapter, for the API and the token endpoint alike) and
// a fake clock, and checks the promises of the design after every run.
// Runs: PROPERTY_RUNS (default 1000); `npm run test:long` runs 10,000.

import axios, { AxiosError, AxiosHeaders, type AxiosAdapter, type AxiosResponse, type InternalAxiosRequestConfig } from 'axios';
import { expect } from 'chai';
import fc from 'fast-check';
import { attachAuth, OAuthQueueError, type AuthHandle } from '../../lib/index.js';
import { tokenTransport } from '../../lib/token-endpoint.js';
import { within } from '../helpers/deferred.js';
import { findSecret } from '../helpers/error-secrets.js';
import { FakeClock } from '../helpers/fake-clock.js';

const RUNS = Number(process.env['PROPERTY_RUNS'] ?? 1000);
const API = 'https://api.test';
const FOREIGN = 'https://elsewhere.test';
const TOKEN_URL = 'https://auth.test/token';
const CLIENT_SECRET = 'property-client-secret-93af';
const TOKEN_LIFETIME_SECONDS = 60;
/** Real milliseconds a run may take before it counts as a hang. */
const DEADLINE_MS = 3000;
/** Real milliseconds an aborted request may take to settle on its own. */
const ABORT_DEADLINE_MS = 1000;

type Outcome = 'ok' | 'unavailable' | 'invalid_client' | 'html' | 'no_token' | 'reset';

type Action =
  | { kind: 'request'; foreign: boolean }
  | { kind: 'abortable' }
  | { kind: 'abort'; target: number }
  | { kind: 'advance'; seconds: number }
  | { kind: 'revoke' }
  | { kind: 'refresh' };

const outcomeArbitrary = fc.constantFrom<Outcome>('ok', 'ok', 'unavailable', 'invalid_client', 'html', 'no_token', 'reset');
const actionArbitrary: fc.Arbitrary<Action> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('request' as const), foreign: fc.nat(4).map((roll) => roll === 0) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'abortable' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('abort' as const), target: fc.nat(7) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('advance' as const), seconds: fc.integer({ min: 0, max: 75 }) }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'revoke' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'refresh' as const }) },
);

/** The server side of one run: answers from memory, counts, and watches for broken promises. */
class SimulatedServer {
  readonly #scheduler: fc.Scheduler;
  readonly #clock: FakeClock;
  readonly #outcomes: Outcome[];
  readonly valid = new Map<string, number>();
  readonly issued: string[] = [];
  readonly hits = new Map<string, number>();
  readonly violations: string[] = [];
  tokenRequestsInFlight = 0;
  maxTokenRequestsInFlight = 0;
  maxReportedInFlight = 0;
  handle: AuthHandle | undefined;

  constructor(scheduler: fc.Scheduler, clock: FakeClock, outcomes: Outcome[]) {
    this.#scheduler = scheduler;
    this.#clock = clock;
    this.#outcomes = [...outcomes];
  }

  readonly adapter: AxiosAdapter = async (config) => {
    const url = /^https?:\/\//.test(config.url ?? '') ? (config.url ?? '') : `${config.baseURL ?? ''}${config.url ?? ''}`;
    const authorization = AxiosHeaders.from(config.headers).get('Authorization');
    if (url.startsWith(TOKEN_URL)) return this.#token(config, authorization);
    const id = String(AxiosHeaders.from(config.headers).get('x-request-id'));
    this.hits.set(id, (this.hits.get(id) ?? 0) + 1);
    if (url.startsWith(FOREIGN) && authorization != null) this.violations.push(`request ${id} carried ${String(authorization).slice(0, 7)}… to ${FOREIGN}`);
    await this.#deliver(config, `api ${id}`);
    const token = typeof authorization === 'string' && authorization.startsWith('Bearer ') ? authorization.slice(7) : undefined;
    const expiresAt = token === undefined ? undefined : this.valid.get(token);
    if (url.startsWith(FOREIGN) || (expiresAt !== undefined && this.#clock.now() < expiresAt)) return respond(config, 200, '{"ok":true}');
    return respond(config, 401, '{"error":"invalid_token"}', { 'www-authenticate': 'Bearer error="invalid_token"' });
  };

  async #token(config: InternalAxiosRequestConfig, authorization: unknown): Promise<AxiosResponse> {
    if (typeof authorization === 'string' && /^bearer/i.test(authorization)) this.violations.push('a token request carried a Bearer header');
    this.tokenRequestsInFlight += 1;
    this.maxTokenRequestsInFlight = Math.max(this.maxTokenRequestsInFlight, this.tokenRequestsInFlight);
    this.maxReportedInFlight = Math.max(this.maxReportedInFlight, this.handle?.stats().tokenRequestsInFlight ?? 0);
    const outcome = this.#outcomes.shift() ?? 'ok';
    try {
      await this.#deliver(config, `token ${outcome}`);
    } finally {
      this.tokenRequestsInFlight -= 1;
    }
    switch (outcome) {
      case 'ok': {
        const accessToken = `prop-access-${this.issued.length + 1}-${Math.random().toString(36).slice(2, 10)}`;
        this.issued.push(accessToken);
        this.valid.set(accessToken, this.#clock.now() + TOKEN_LIFETIME_SECONDS * 1000);
        return respond(config, 200, JSON.stringify({ access_token: accessToken, token_type: 'Bearer', expires_in: TOKEN_LIFETIME_SECONDS }));
      }
      case 'unavailable':
        return respond(config, 503, '{"error":"temporarily_unavailable"}');
      case 'invalid_client':
        return respond(config, 401, '{"error":"invalid_client"}');
      case 'html':
        return respond(config, 200, '<html>maintenance</html>', { 'content-type': 'text/html' });
      case 'no_token':
        return respond(config, 200, '{"token_type":"Bearer"}');
      case 'reset':
        throw new AxiosError('socket hang up', 'ECONNRESET', config);
    }
  }

  /** Hands the answer to the scheduler, which picks when it arrives; an abort settles it at once. */
  #deliver(config: InternalAxiosRequestConfig, label: string): Promise<unknown> {
    const arrival = this.#scheduler.schedule(Promise.resolve(label), label);
    const signal = config.signal as AbortSignal | undefined;
    if (signal === undefined || typeof signal.addEventListener !== 'function') return arrival;
    if (signal.aborted) return Promise.reject(new axios.CanceledError(undefined, config));
    return Promise.race([
      arrival,
      new Promise((_resolve, reject) => {
        signal.addEventListener('abort', () => reject(new axios.CanceledError(undefined, config)), { once: true });
      }),
    ]);
  }
}

function respond(config: InternalAxiosRequestConfig, status: number, data: string, headers: Record<string, string> = {}): AxiosResponse {
  const response: AxiosResponse = {
    status,
    statusText: String(status),
    data: config.responseType === 'text' ? data : (JSON.parse(data.startsWith('<') ? '""' : data) as unknown),
    headers: new AxiosHeaders({ 'content-type': 'application/json', ...headers }),
    config,
  };
  const valid = config.validateStatus === undefined || config.validateStatus === null || config.validateStatus(status);
  if (valid) return response;
  throw new AxiosError(`Request failed with status code ${status}`, status < 500 ? AxiosError.ERR_BAD_REQUEST : AxiosError.ERR_BAD_RESPONSE, config, null, response);
}

async function runScenario(scheduler: fc.Scheduler, outcomes: Outcome[], actions: Action[]): Promise<void> {
  const clock = new FakeClock();
  const server = new SimulatedServer(scheduler, clock, outcomes);
  const api = axios.create({ baseURL: API, adapter: server.adapter });
  // The token endpoint sends on a private instance pinned to the http adapter; specs swap it through the internal transport.
  tokenTransport.override = server.adapter;
  let handle: AuthHandle;
  try {
    handle = attachAuth(api, {
      tokenUrl: TOKEN_URL,
      clientId: 'property-client',
      clientSecret: CLIENT_SECRET,
      clock,
      refreshWindow: 10,
      retry: { limit: 1, baseDelay: 0, maxDelay: 1 },
      failureCoolDown: 1,
    });
  } finally {
    tokenTransport.override = undefined;
  }
  server.handle = handle;

  const settled: Promise<unknown>[] = [];
  const errors: unknown[] = [];
  const abortables: { controller: AbortController; settled: Promise<void> }[] = [];
  const track = (promise: Promise<unknown>): Promise<void> => {
    const done = promise.then(
      () => undefined,
      (error: unknown) => void errors.push(error),
    );
    settled.push(done);
    return done;
  };
  const sequence = scheduler.scheduleSequence(
    actions.map((action, index) => ({
      label: `${index}: ${JSON.stringify(action)}`,
      builder: async () => {
        const id = `q${index}`;
        switch (action.kind) {
          case 'request':
            track(api.get(action.foreign ? `${FOREIGN}/x` : '/x', { headers: { 'x-request-id': id } }));
            break;
          case 'abortable': {
            const controller = new AbortController();
            abortables.push({ controller, settled: track(api.get('/x', { headers: { 'x-request-id': id }, signal: controller.signal })) });
            break;
          }
          case 'abort': {
            const target = abortables[action.target % Math.max(1, abortables.length)];
            if (target === undefined) break;
            target.controller.abort();
            // The scheduler releases nothing else until this step ends: the aborted request must
            // settle by itself, without the token response or any other answer it might wait for.
            await within(target.settled, ABORT_DEADLINE_MS, 'an aborted request').catch((error: Error) => server.violations.push(error.message));
            break;
          }
          case 'advance':
            clock.advance(action.seconds * 1000);
            break;
          case 'revoke':
            server.valid.clear();
            break;
          case 'refresh':
            track(handle.refresh());
            break;
        }
      },
    })),
  );
  const finished = (async () => {
    const { faulty } = await sequence.task;
    if (faulty) server.violations.push('a step of the scenario threw');
    await Promise.all(settled);
  })();
  try {
    await within(scheduler.waitFor(finished), DEADLINE_MS, 'every request of the run');
    expect(server.violations, server.violations.join('; ')).to.deep.equal([]);
    expect(server.maxTokenRequestsInFlight, 'token requests in flight at once').to.be.at.most(1);
    expect(server.maxReportedInFlight, 'stats().tokenRequestsInFlight').to.be.at.most(1);
    for (const [id, hits] of server.hits) expect(hits, `hits of ${id}`).to.be.at.most(2);
    expect(handle.stats().held, 'requests still held after all settled').to.equal(0);
    for (const error of errors) {
      expect(axios.isAxiosError(error) || error instanceof OAuthQueueError, `a typed error: ${String(error)}`).to.equal(true);
      expect(findSecret(error, [CLIENT_SECRET, ...server.issued]), `a secret in ${String(error)}`).to.equal(undefined);
    }
  } finally {
    handle.detach();
  }
}

describe('queue flow properties (simulated server, fake clock)', function () {
  this.timeout(Math.max(60_000, RUNS * 60));

  it(`keeps every promise of the queue flow over ${RUNS} random interleavings of requests, expiries, revocations, failures and aborts`, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.array(outcomeArbitrary, { maxLength: 6 }),
        fc.array(actionArbitrary, { minLength: 1, maxLength: 14 }),
        (scheduler, outcomes, actions) => runScenario(scheduler, outcomes, actions),
      ),
      { numRuns: RUNS },
    );
  });
});
