// Promise 5 of the design, swept: every kind of error a caller can receive is
// produced through a real loopback server that echoes what it was sent, and
// none may carry the client secret, a password, a refresh token or an access
// token, however it is printed (String, message, JSON.stringify, util.inspect
// at depth 8 and with showHidden at any depth, toJSON(), down the cause chain). The other suites record the errors their
// callers got (`sweep`); a root-level after hook sweeps them all once every
// file has run, whatever order mocha loaded the files in.

import http from 'node:http';
import axios, { type AxiosError, type AxiosInstance } from 'axios';
import { expect } from 'chai';
import { attachAuth, ErrorCodes, OAuthError, TokenEndpointError, type AttachAuthOptions, type AuthHandle } from '../lib/index.js';
import { within } from './helpers/deferred.js';
import { knownSecretValues, leaksIn, leaksInRecordedErrors, recordedSweep, rememberSecrets, sweep } from './helpers/secret-sweep.js';
import { startTestServer, unusedLoopbackUrl, type TestServer } from './helpers/test-server.js';

const CLIENT_ID = 'sweep-client';
const CLIENT_SECRET = 'sweep-client-secret-9b7e41';
const PASSWORD = 'sweep-password-4d2a90';
const INITIAL_REFRESH_TOKEN = 'sweep-initial-refresh-0c5f37';
const BOUND_MS = 5000;

// Root level: runs after the last test of every file in this mocha run.
after('no error recorded by any suite carries a secret', function () {
  const leaks = leaksInRecordedErrors();
  if (leaks.length > 0) throw new Error(`secrets found in recorded errors:\n${leaks.join('\n')}`);
});

describe('secret sweep (every error, every rendering)', function () {
  let server: TestServer;
  let agent: http.Agent;
  const handles: AuthHandle[] = [];
  /** Every log line and onRefreshError error of the handles, swept like the errors callers get. */
  const logLines: string[] = [];

  before(async () => {
    rememberSecrets(CLIENT_SECRET, PASSWORD, INITIAL_REFRESH_TOKEN);
    server = await startTestServer({ issueRefreshTokens: true });
  });

  after(async () => {
    await server.close();
  });

  beforeEach(() => {
    server.reset();
    agent = new http.Agent({ keepAlive: true });
  });

  afterEach(() => {
    for (const handle of handles.splice(0)) handle.detach();
    agent.destroy();
  });

  function connect(options: Partial<AttachAuthOptions> = {}): AxiosInstance {
    const api = axios.create({ baseURL: server.origin, httpAgent: agent });
    const handle = attachAuth(api, {
      tokenUrl: server.tokenUrl,
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      retry: { limit: 0 },
      logger: { debug: (line) => logLines.push(line), warn: (line) => logLines.push(line) },
      events: { onRefreshError: (error) => sweep(error, 'secret-sweep onRefreshError') },
      ...options,
    });
    handles.push(handle);
    return api;
  }

  /** The error a GET rejects with (bounded), recorded for the final sweep. */
  async function failure(api: AxiosInstance, path = '/things'): Promise<unknown> {
    const outcome = await within(
      api.get(path).then(
        () => undefined,
        (error: unknown) => ({ error }),
      ),
      BOUND_MS,
      `GET ${path}`,
    );
    if (outcome === undefined) throw new Error(`GET ${path} succeeded; the scenario meant it to fail`);
    return sweep(outcome.error, 'secret-sweep');
  }

  function secrets(): string[] {
    return [CLIENT_SECRET, PASSWORD, INITIAL_REFRESH_TOKEN, ...server.secrets()];
  }

  it('finds a secret wherever the sweep looks: deep in the cause chain, in a property only inspect shows', function () {
    const deep = new Error('outer', { cause: new Error('middle', { cause: Object.assign(new Error('inner'), { detail: { echoed: CLIENT_SECRET } }) }) });

    expect(leaksIn(deep, [CLIENT_SECRET])).to.have.length(1);
    expect(leaksIn(new Error('clean'), [CLIENT_SECRET])).to.deep.equal([]);
  });

  it('keeps the client secret out of an invalid_client error whose description and error_uri echo it', async function () {
    server.failTokenEndpoint('invalid_client', {
      description: (request) => `Client authentication failed: ${request.clientId} / ${request.clientSecret} is unknown`,
      errorUri: (request) => `https://errors.example/invalid_client?client_secret=${request.clientSecret ?? ''}`,
    });

    const error = await failure(connect());

    expect(error).to.be.instanceOf(OAuthError);
    expect((error as OAuthError).code).to.equal('invalid_client');
    expect((error as OAuthError).description).to.include('[REDACTED]');
    expect(leaksIn(error, secrets())).to.deep.equal([]);
  });

  it('keeps the secret out of a 500, an HTML answer and an answer without access_token', async function () {
    const expected: [Parameters<TestServer['failTokenEndpoint']>[0], string][] = [
      ['status-500', ErrorCodes.TOKEN_ENDPOINT_STATUS],
      ['html', ErrorCodes.TOKEN_RESPONSE_NOT_JSON],
      ['no-access-token', ErrorCodes.TOKEN_RESPONSE_INVALID],
    ];
    for (const [fault, code] of expected) {
      server.failTokenEndpoint(fault);
      const error = await failure(connect());

      expect(error, fault).to.be.instanceOf(TokenEndpointError);
      expect((error as TokenEndpointError).code, fault).to.equal(code);
      expect(leaksIn(error, secrets()), fault).to.deep.equal([]);
    }
  });

  it('keeps the secret out of a timeout, a reset connection and an unreachable token endpoint', async function () {
    server.failTokenEndpoint('hang');
    const timeout = await failure(connect({ tokenRequest: { timeout: 200 } }));
    server.failTokenEndpoint('reset');
    const reset = await failure(connect());
    const unreachable = await failure(connect({ tokenUrl: await unusedLoopbackUrl() }));

    expect((timeout as TokenEndpointError).code).to.equal(ErrorCodes.TOKEN_ENDPOINT_TIMEOUT);
    expect((reset as TokenEndpointError).code).to.equal(ErrorCodes.TOKEN_ENDPOINT_UNREACHABLE);
    expect((unreachable as TokenEndpointError).code).to.equal(ErrorCodes.TOKEN_ENDPOINT_UNREACHABLE);
    for (const error of [timeout, reset, unreachable]) expect(leaksIn(error, secrets())).to.deep.equal([]);
  });

  it('keeps every access token out of the 401 a persistent refusal ends in, keep-alive agent and all', async function () {
    const api = connect();
    await api.get('/warm-up');
    server.apiAlways401 = true;

    const errors = await Promise.all(Array.from({ length: 10 }, () => failure(api)));

    expect(server.issuedAccessTokens).to.have.length(2);
    for (const error of errors) {
      expect((error as AxiosError).response?.status).to.equal(401);
      expect(leaksIn(error, secrets())).to.deep.equal([]);
    }
  });

  it('keeps the tokens of other requests on the shared keep-alive agent out of the error of a skipAuth request', async function () {
    const api = connect();
    await Promise.all(Array.from({ length: 4 }, () => api.get('/warm-up')));

    const error = await within(
      api.get('/things', { skipAuth: true }).then(
        () => undefined,
        (failure: unknown) => sweep(failure, 'secret-sweep skipAuth'),
      ),
      BOUND_MS,
      'the skipAuth request',
    );

    expect((error as AxiosError).response?.status).to.equal(401);
    expect(leaksIn(error, secrets())).to.deep.equal([]);
  });

  it('keeps the password out of a password grant error that echoes it', async function () {
    server.failTokenEndpoint('invalid_grant', {
      description: (request) => `user ${request.params['username'] ?? ''} gave the wrong password ${request.params['password'] ?? ''}`,
    });

    const error = await failure(connect({ grant: { type: 'password', username: 'sweep-user', password: PASSWORD } }));

    expect((error as OAuthError).code).to.equal('invalid_grant');
    expect(leaksIn(error, secrets())).to.deep.equal([]);
  });

  it('keeps refresh and access tokens out of a refused refresh that echoes them', async function () {
    server.trustRefreshToken(INITIAL_REFRESH_TOKEN);
    const api = connect({ grant: { type: 'refresh_token', refreshToken: INITIAL_REFRESH_TOKEN } });
    await api.get('/warm-up');
    const [accessToken] = server.issuedAccessTokens;
    server.revokeAll();
    server.failTokenEndpoint('invalid_grant', {
      description: (request) => `refresh token ${request.params['refresh_token'] ?? ''} was revoked, and with it ${accessToken ?? ''}`,
    });

    const error = await failure(api);

    expect((error as OAuthError).code).to.equal('invalid_grant');
    expect(server.lastTokenRequest?.params['refresh_token'], 'the rotated refresh token was the one refused').to.equal(server.issuedRefreshTokens[0]);
    expect(leaksIn(error, secrets())).to.deep.equal([]);
  });

  it('writes no secret into a log line', function () {
    const all = [...secrets(), ...knownSecretValues()];
    expect(logLines.length, 'the scenarios above logged their failures').to.be.greaterThan(0);
    expect(logLines.filter((line) => all.some((secret) => line.includes(secret)))).to.deep.equal([]);
  });

  it('finds no secret in any error recorded so far by this and the other suites', function () {
    expect(recordedSweep().length).to.be.greaterThan(0);
    expect(leaksInRecordedErrors(secrets())).to.deep.equal([]);
  });
});
