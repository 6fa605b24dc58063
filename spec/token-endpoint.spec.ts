import { inspect } from 'node:util';
import axios from 'axios';
import type MockAdapter from 'axios-mock-adapter';
import { expect } from 'chai';
import { ErrorCodes, OAuthError, OAuthQueueError, TokenEndpointError } from '../lib/errors.js';
import { TokenEndpoint, describeUrl, parseRetryAfter, type TokenEndpointConfig } from '../lib/token-endpoint.js';
import { rejection } from './helpers/deferred.js';
import { FAKE_EPOCH, FakeClock } from './helpers/fake-clock.js';
import { JSON_HEADERS, mockAxiosDefaults, oauthError, token } from './helpers/mock-token-endpoint.js';

const TOKEN_URL = 'https://auth.example.com/oauth2/token';
const SECRET = 'client-secret-Xq9';

function config(overrides: Partial<TokenEndpointConfig> = {}): TokenEndpointConfig {
  return {
    tokenUrl: TOKEN_URL,
    clientId: 'client-1',
    clientSecret: SECRET,
    method: 'POST',
    encoding: 'form',
    clientAuth: 'body',
    params: {},
    headers: {},
    timeout: 5000,
    ...overrides,
  };
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  const error = await rejection(promise);
  expect(error).to.be.instanceOf(OAuthQueueError);
  return error;
}

/** The header value the mock adapter saw, or undefined. */
function headerOf(request: { headers?: unknown } | undefined, name: string): unknown {
  const headers = (request?.headers ?? {}) as Record<string, unknown>;
  const key = Object.keys(headers).find((candidate) => candidate.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : headers[key];
}

describe('token-endpoint', () => {
  let mock: MockAdapter;
  let clock: FakeClock;

  beforeEach(() => {
    // TokenEndpoint's private instance is made with axios.create, which copies the
    // default adapter: mocking the default instance first intercepts it.
    mock = mockAxiosDefaults();
    clock = new FakeClock();
  });

  afterEach(() => {
    mock.restore();
  });

  function endpoint(overrides: Partial<TokenEndpointConfig> = {}, secrets: readonly string[] = [SECRET]): TokenEndpoint {
    return new TokenEndpoint(config(overrides), () => clock.now(), () => secrets);
  }

  function answerWithToken(): void {
    mock.onAny().reply(...token('access-1'));
  }

  describe('request shapes', () => {
    it('sends a form body with client_id and client_secret by default', async () => {
      answerWithToken();
      const answer = await endpoint().requestToken({ grant_type: 'client_credentials', scope: 'read write' });
      expect(answer.body).to.deep.include({ access_token: 'access-1' });
      expect(answer.receivedAt).to.equal(FAKE_EPOCH);
      const sent = mock.history.post[0];
      expect(sent?.url).to.equal(TOKEN_URL);
      expect(headerOf(sent, 'Content-Type')).to.equal('application/x-www-form-urlencoded');
      expect(sent?.data).to.include('scope=read+write');
      const form = new URLSearchParams(sent?.data as string);
      expect(Object.fromEntries(form)).to.deep.equal({ grant_type: 'client_credentials', scope: 'read write', client_id: 'client-1', client_secret: SECRET });
    });

    it('sends a JSON body with the json encoding', async () => {
      answerWithToken();
      await endpoint({ encoding: 'json' }).requestToken({ grant_type: 'client_credentials' });
      const sent = mock.history.post[0];
      expect(headerOf(sent, 'Content-Type')).to.equal('application/json');
      expect(JSON.parse(sent?.data as string)).to.deep.equal({ grant_type: 'client_credentials', client_id: 'client-1', client_secret: SECRET });
    });

    it('sends the parameters in the query string of a GET with the query encoding', async () => {
      answerWithToken();
      await endpoint({ method: 'GET', encoding: 'query' }).requestToken({ grant_type: 'password', username: 'ann', password: 'pw 1&2' });
      const sent = mock.history.get[0];
      expect(sent?.data).to.equal(undefined);
      const url = new URL(sent?.url as string);
      expect(`${url.origin}${url.pathname}`).to.equal(TOKEN_URL);
      expect(Object.fromEntries(url.searchParams)).to.deep.equal({
        grant_type: 'password',
        username: 'ann',
        password: 'pw 1&2',
        client_id: 'client-1',
        client_secret: SECRET,
      });
    });

    it('sends HTTP Basic with the id and secret form-urlencoded before base64 (RFC 6749 §2.3.1) and no secret in the body', async () => {
      answerWithToken();
      await endpoint({ clientId: 'my client', clientSecret: 'a+b/c:d%e é', clientAuth: 'basic' }).requestToken({ grant_type: 'client_credentials' });
      const sent = mock.history.post[0];
      const expected = `Basic ${Buffer.from('my+client:a%2Bb%2Fc%3Ad%25e+%C3%A9', 'utf8').toString('base64')}`;
      expect(headerOf(sent, 'Authorization')).to.equal(expected);
      const form = new URLSearchParams(sent?.data as string);
      expect(form.has('client_secret')).to.equal(false);
      expect(form.get('grant_type')).to.equal('client_credentials');
    });

    it('adds the extra parameters and headers of tokenRequest', async () => {
      answerWithToken();
      await endpoint({ params: { audience: 'https://api.example.com' }, headers: { 'X-Tenant': 'tenant-7' } }).requestToken({ grant_type: 'client_credentials' });
      const sent = mock.history.post[0];
      expect(headerOf(sent, 'X-Tenant')).to.equal('tenant-7');
      expect(new URLSearchParams(sent?.data as string).get('audience')).to.equal('https://api.example.com');
    });

    it('never sends a Bearer Authorization header, even when axios defaults carry one', async () => {
      const common = axios.defaults.headers.common;
      const before = common['Authorization'];
      common['Authorization'] = 'Bearer leaked-global-token';
      try {
        answerWithToken();
        await endpoint().requestToken({ grant_type: 'client_credentials' });
        await endpoint({ clientAuth: 'basic' }).requestToken({ grant_type: 'client_credentials' });
      } finally {
        if (before === undefined) delete common['Authorization'];
        else common['Authorization'] = before;
      }
      const [bodyAuth, basicAuth] = mock.history.post;
      expect(String(headerOf(bodyAuth, 'Authorization') ?? '')).not.to.match(/bearer/i);
      expect(String(headerOf(basicAuth, 'Authorization'))).to.match(/^Basic /);
    });

    it('reads the server clock offset from the Date header', async () => {
      mock.onPost().reply(200, JSON.stringify({ access_token: 'access-1' }), { ...JSON_HEADERS, date: new Date(FAKE_EPOCH + 600_000).toUTCString() });
      const answer = await endpoint().requestToken({ grant_type: 'client_credentials' });
      expect(answer.clockOffset).to.equal(600_000);
    });
  });

  describe('answers that are not a token', () => {
    it('turns a 400 OAuth error body into an OAuthError with code, description and status', async () => {
      mock.onPost().reply(...oauthError(400, 'invalid_client', 'Client authentication failed'));
      const error = await failure(endpoint().requestToken({ grant_type: 'client_credentials' }));
      expect(error).to.be.instanceOf(OAuthError);
      const oauth = error as OAuthError;
      expect(oauth.name).to.equal('OAuthError');
      expect(oauth.code).to.equal('invalid_client');
      expect(oauth.description).to.equal('Client authentication failed');
      expect(oauth.status).to.equal(400);
      expect(oauth.transient).to.equal(false);
      expect(oauth.message).to.include(TOKEN_URL).and.to.include('invalid_client');
      expect(oauth.cause).to.be.instanceOf(Error);
    });

    it('redacts the secret when the error_description echoes it', async () => {
      mock.onPost().reply(...oauthError(400, 'invalid_client', `unknown secret ${SECRET} for client-1`));
      const error = (await failure(endpoint().requestToken({ grant_type: 'client_credentials' }))) as OAuthError;
      expect(error.description).to.equal('unknown secret [REDACTED] for client-1');
      expect(inspect(error)).not.to.include(SECRET);
      expect(JSON.stringify(error)).not.to.include(SECRET);
    });

    it('rejects a 200 that carries an OAuth error body with ERR_TOKEN_RESPONSE_ERROR_BODY', async () => {
      mock.onPost().reply(...oauthError(200, 'invalid_scope'));
      const error = (await failure(endpoint().requestToken({ grant_type: 'client_credentials' }))) as TokenEndpointError;
      expect(error).to.be.instanceOf(TokenEndpointError);
      expect(error.code).to.equal(ErrorCodes.TOKEN_RESPONSE_ERROR_BODY);
      expect(error.oauthCode).to.equal('invalid_scope');
      expect(error.cause).to.be.instanceOf(Error);
    });

    it('rejects a 200 HTML page with ERR_TOKEN_RESPONSE_NOT_JSON', async () => {
      mock.onPost().reply(200, '<html><body>Sign in</body></html>', { 'content-type': 'text/html; charset=utf-8' });
      const error = (await failure(endpoint().requestToken({ grant_type: 'client_credentials' }))) as TokenEndpointError;
      expect(error.code).to.equal(ErrorCodes.TOKEN_RESPONSE_NOT_JSON);
      expect(error.status).to.equal(200);
      expect(error.message).to.include('text/html');
      expect(error.cause).to.be.instanceOf(Error);
    });

    it('rejects a 500 without a body with a transient ERR_TOKEN_ENDPOINT_STATUS', async () => {
      mock.onPost().reply(500);
      const error = (await failure(endpoint().requestToken({ grant_type: 'client_credentials' }))) as TokenEndpointError;
      expect(error.code).to.equal(ErrorCodes.TOKEN_ENDPOINT_STATUS);
      expect(error.status).to.equal(500);
      expect(error.transient).to.equal(true);
      expect(error.cause).to.be.instanceOf(Error);
    });

    it('rejects a 403 without an OAuth body as a terminal ERR_TOKEN_ENDPOINT_STATUS', async () => {
      mock.onPost().reply(403, 'Forbidden', { 'content-type': 'text/plain' });
      const error = (await failure(endpoint().requestToken({ grant_type: 'client_credentials' }))) as TokenEndpointError;
      expect(error.code).to.equal(ErrorCodes.TOKEN_ENDPOINT_STATUS);
      expect(error.transient).to.equal(false);
    });

    it('rejects a network failure with a transient ERR_TOKEN_ENDPOINT_UNREACHABLE', async () => {
      mock.onPost().networkError();
      const error = (await failure(endpoint().requestToken({ grant_type: 'client_credentials' }))) as TokenEndpointError;
      expect(error.code).to.equal(ErrorCodes.TOKEN_ENDPOINT_UNREACHABLE);
      expect(error.transient).to.equal(true);
      expect(error.cause).to.be.instanceOf(Error);
    });

    it('rejects a timeout with a transient ERR_TOKEN_ENDPOINT_TIMEOUT', async () => {
      mock.onPost().timeout();
      const error = (await failure(endpoint().requestToken({ grant_type: 'client_credentials' }))) as TokenEndpointError;
      expect(error.code).to.equal(ErrorCodes.TOKEN_ENDPOINT_TIMEOUT);
      expect(error.transient).to.equal(true);
      expect(error.cause).to.be.instanceOf(Error);
    });

    it('reads Retry-After in seconds on a 503 and on an OAuth error', async () => {
      mock.onPost().replyOnce(503, '', { 'retry-after': '7' });
      const status = (await failure(endpoint().requestToken({ grant_type: 'client_credentials' }))) as TokenEndpointError;
      expect(status.retryAfterMs).to.equal(7000);
      mock.onPost().replyOnce(429, JSON.stringify({ error: 'slow_down' }), { ...JSON_HEADERS, 'retry-after': '3' });
      const oauth = (await failure(endpoint().requestToken({ grant_type: 'client_credentials' }))) as OAuthError;
      expect(oauth.retryAfterMs).to.equal(3000);
      expect(oauth.transient).to.equal(true);
    });

    it('never puts the query string of a query-encoded token URL in a message', async () => {
      const secretUrl = `https://auth.example.com/token?client_secret=${SECRET}`;
      const get = { tokenUrl: secretUrl, method: 'GET' as const, encoding: 'query' as const };
      mock.onGet().replyOnce(...oauthError(400, 'invalid_grant'));
      mock.onGet().replyOnce(502, '<html>Bad gateway</html>', { 'content-type': 'text/html' });
      mock.onGet().networkErrorOnce();
      mock.onGet().timeoutOnce();
      for (let attempt = 0; attempt < 4; attempt += 1) {
        const error = await failure(endpoint(get, []).requestToken({ grant_type: 'client_credentials' }));
        expect(error.message).to.include('https://auth.example.com/token');
        expect(inspect(error)).not.to.include(SECRET);
        expect(inspect(error)).not.to.include('client_secret=');
      }
    });
  });

  describe('revocation and token info', () => {
    it('revokes a token with a form body carrying token_type_hint and accepts an empty 200', async () => {
      mock.onPost('https://auth.example.com/revoke').reply(200, '');
      await endpoint().revokeToken('https://auth.example.com/revoke', 'refresh-1', 'refresh_token');
      const form = new URLSearchParams(mock.history.post[0]?.data as string);
      expect(form.get('token')).to.equal('refresh-1');
      expect(form.get('token_type_hint')).to.equal('refresh_token');
    });

    it('asks the token info endpoint with the access token as Bearer', async () => {
      mock.onGet('https://auth.example.com/tokeninfo').reply(200, JSON.stringify({ active: true }), JSON_HEADERS);
      const info = await endpoint().tokenInfo('https://auth.example.com/tokeninfo', 'access-1');
      expect(info).to.deep.equal({ active: true });
      expect(headerOf(mock.history.get[0], 'Authorization')).to.equal('Bearer access-1');
    });
  });

  describe('parseRetryAfter', () => {
    it('reads delay-seconds', () => {
      expect(parseRetryAfter('120', FAKE_EPOCH)).to.equal(120_000);
    });

    it('reads an HTTP date relative to now, and a date in the past as no wait', () => {
      expect(parseRetryAfter(new Date(FAKE_EPOCH + 30_000).toUTCString(), FAKE_EPOCH)).to.equal(30_000);
      expect(parseRetryAfter(new Date(FAKE_EPOCH - 30_000).toUTCString(), FAKE_EPOCH)).to.equal(0);
    });

    it('ignores a missing or unreadable value', () => {
      expect(parseRetryAfter(undefined, FAKE_EPOCH)).to.equal(undefined);
      expect(parseRetryAfter('', FAKE_EPOCH)).to.equal(undefined);
      expect(parseRetryAfter('soon', FAKE_EPOCH)).to.equal(undefined);
    });
  });

  describe('describeUrl', () => {
    it('keeps origin and path and drops user info and the query string', () => {
      expect(describeUrl('https://user:pw@auth.example.com/token?client_secret=x#frag')).to.equal('https://auth.example.com/token');
    });
  });
});
