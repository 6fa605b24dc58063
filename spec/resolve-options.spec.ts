import axios, { type AxiosInstance } from 'axios';
import { expect } from 'chai';
import { ConfigurationError, ErrorCodes } from '../lib/errors.js';
import type { AttachAuthOptions } from '../lib/options.js';
import { isLoopbackHost, resolveOptions } from '../lib/resolve-options.js';
import { MemoryTokenStore } from '../lib/stores/memory-token-store.js';

const BASE: AttachAuthOptions = {
  tokenUrl: 'https://auth.example.com/oauth2/token',
  clientId: 'client-1',
  clientSecret: 'client-secret-Xq9',
};

const api = (): AxiosInstance => axios.create({ baseURL: 'https://api.example.com/v1' });

/** Resolves options that are wrong on purpose (the cast lets tests pass what TypeScript would refuse). */
function configurationError(options: unknown, instance: AxiosInstance = api()): ConfigurationError {
  try {
    resolveOptions(instance, options as AttachAuthOptions);
  } catch (error) {
    expect(error).to.be.instanceOf(ConfigurationError);
    return error as ConfigurationError;
  }
  expect.fail('the options were accepted');
}

describe('resolve-options', () => {
  describe('bad options', () => {
    const cases: [string, unknown, string][] = [
      ['a missing tokenUrl', { clientId: 'client-1' }, 'tokenUrl'],
      ['a tokenUrl that is not a URL', { ...BASE, tokenUrl: 'auth.example.com/token' }, 'tokenUrl'],
      ['a tokenUrl that is not http(s)', { ...BASE, tokenUrl: 'ftp://auth.example.com/token' }, 'tokenUrl'],
      ['a plain http tokenUrl to a host that is not loopback', { ...BASE, tokenUrl: 'http://auth.example.com/token' }, 'tokenUrl'],
      ['a missing clientId', { tokenUrl: BASE.tokenUrl }, 'clientId'],
      ['an empty clientId', { ...BASE, clientId: '' }, 'clientId'],
      ['a clientSecret that is not a string', { ...BASE, clientSecret: 42 }, 'clientSecret'],
      ['a grant that is not an object', { ...BASE, grant: 'client_credentials' }, 'grant'],
      ['an unknown grant type', { ...BASE, grant: { type: 'implicit' } }, 'grant.type'],
      ['a password grant without username', { ...BASE, grant: { type: 'password', password: 'pw' } }, 'grant.username'],
      ['a password grant without password', { ...BASE, grant: { type: 'password', username: 'ann' } }, 'grant.password'],
      ['a refresh_token grant without refreshToken', { ...BASE, grant: { type: 'refresh_token' } }, 'grant.refreshToken'],
      ['an authorization_code grant without code', { ...BASE, grant: { type: 'authorization_code', redirectUri: 'https://app/cb' } }, 'grant.code'],
      ['an authorization_code grant without redirectUri', { ...BASE, grant: { type: 'authorization_code', code: 'c' } }, 'grant.redirectUri'],
      ['an empty codeVerifier', { ...BASE, grant: { type: 'authorization_code', code: 'c', redirectUri: 'https://app/cb', codeVerifier: '' } }, 'grant.codeVerifier'],
      ['a scope array with a space inside an item', { ...BASE, scope: ['read write'] }, 'scope'],
      ['a scope array with an empty item', { ...BASE, scope: ['read', ''] }, 'scope'],
      ['a scope that is a number', { ...BASE, scope: 42 }, 'scope'],
      ['a tokenRequest that is not an object', { ...BASE, tokenRequest: 'form' }, 'tokenRequest'],
      ['an unknown tokenRequest.method', { ...BASE, tokenRequest: { method: 'PUT' } }, 'tokenRequest.method'],
      ['an unknown tokenRequest.encoding', { ...BASE, tokenRequest: { encoding: 'xml' } }, 'tokenRequest.encoding'],
      ['a GET with form encoding', { ...BASE, tokenRequest: { method: 'GET', encoding: 'form' } }, 'tokenRequest.encoding'],
      ['a GET with json encoding', { ...BASE, tokenRequest: { method: 'GET', encoding: 'json' } }, 'tokenRequest.encoding'],
      ['an unknown tokenRequest.clientAuth', { ...BASE, tokenRequest: { clientAuth: 'client_secret_digest' } }, 'tokenRequest.clientAuth'],
      ['a zero tokenRequest.timeout', { ...BASE, tokenRequest: { timeout: 0 } }, 'tokenRequest.timeout'],
      ['a non-finite tokenRequest.timeout', { ...BASE, tokenRequest: { timeout: Number.NaN } }, 'tokenRequest.timeout'],
      ['a tokenRequest.params value that is not a string', { ...BASE, tokenRequest: { params: { audience: 1 } } }, 'tokenRequest.params.audience'],
      ['a Bearer header among tokenRequest.headers', { ...BASE, tokenRequest: { headers: { authorization: 'Bearer abc' } } }, 'tokenRequest.headers'],
      ['an empty origins list', { ...BASE, origins: [] }, 'origins'],
      ['an origin that is not a URL', { ...BASE, origins: ['api.example.com'] }, 'origins[0]'],
      ['a plain http origin to a host that is not loopback', { ...BASE, origins: ['https://a.example.com', 'http://b.example.com'] }, 'origins[1]'],
      ['retryStatusCodes that are not error statuses', { ...BASE, retryStatusCodes: [200] }, 'retryStatusCodes'],
      ['retryStatusCodes that are not integers', { ...BASE, retryStatusCodes: [401.5] }, 'retryStatusCodes'],
      ['retryStatusCodes that are not an array', { ...BASE, retryStatusCodes: 401 }, 'retryStatusCodes'],
      ['a negative refreshWindow', { ...BASE, refreshWindow: -1 }, 'refreshWindow'],
      ['a zero defaultExpiresIn', { ...BASE, defaultExpiresIn: 0 }, 'defaultExpiresIn'],
      ['a fractional retry.limit', { ...BASE, retry: { limit: 1.5 } }, 'retry.limit'],
      ['a negative retry.baseDelay', { ...BASE, retry: { baseDelay: -1 } }, 'retry.baseDelay'],
      ['a negative retry.maxDelay', { ...BASE, retry: { maxDelay: -1 } }, 'retry.maxDelay'],
      ['a negative failureCoolDown', { ...BASE, failureCoolDown: -1 }, 'failureCoolDown'],
      ['a store without get, set and delete', { ...BASE, store: {} }, 'store'],
      ['a plain http revocationUrl to a host that is not loopback', { ...BASE, revocationUrl: 'http://auth.example.com/revoke' }, 'revocationUrl'],
      ['a tokenInfoUrl that is not a URL', { ...BASE, tokenInfoUrl: '/tokeninfo' }, 'tokenInfoUrl'],
      ['a clock without now()', { ...BASE, clock: {} }, 'clock'],
      ['allowInsecureHttp that is not a boolean', { ...BASE, allowInsecureHttp: 'yes' }, 'allowInsecureHttp'],
    ];
    for (const [what, options, option] of cases) {
      it(`rejects ${what} with a ConfigurationError naming "${option}"`, () => {
        const error = configurationError(options);
        expect(error.option).to.equal(option);
        expect(error.code).to.equal(ErrorCodes.INVALID_OPTION);
        expect(error.message).to.include(`"${option}"`);
      });
    }

    it('requires origins when the instance has no baseURL', () => {
      expect(configurationError(BASE, axios.create()).option).to.equal('origins');
    });

    it('refuses an instance baseURL over plain http to a host that is not loopback', () => {
      expect(configurationError(BASE, axios.create({ baseURL: 'http://api.example.com' })).option).to.match(/^origins/);
    });

    it('never repeats a secret or the query string of a bad URL in its message', () => {
      const error = configurationError({ ...BASE, tokenUrl: 'http://auth.example.com/token?client_secret=client-secret-Xq9' });
      expect(error.message).not.to.include('client-secret-Xq9');
    });
  });

  describe('unknown option names', () => {
    const cases: [string, unknown, string, string][] = [
      ['a misspelt top-level option', { ...BASE, tokenRequst: {} }, 'tokenRequst', 'tokenRequest'],
      ['a top-level name with the wrong case', { ...BASE, clientID: 'x' }, 'clientID', 'clientId'],
      ['a tokenRequest option put at the top level', { ...BASE, timeout: 1000 }, 'timeout', 'tokenRequest.timeout'],
      ['a misspelt tokenRequest option', { ...BASE, tokenRequest: { timout: 1000 } }, 'tokenRequest.timout', 'tokenRequest.timeout'],
      ['two letters swapped in a retry option', { ...BASE, retry: { limti: 1 } }, 'retry.limti', 'retry.limit'],
      ['a misspelt event callback', { ...BASE, events: { onRefreshErorr: () => {} } }, 'events.onRefreshErorr', 'events.onRefreshError'],
      ['a misspelt grant field', { ...BASE, grant: { type: 'password', username: 'ann', pasword: 'pw', password: 'pw' } }, 'grant.pasword', 'grant.password'],
      ['a grant field in the wire spelling', { ...BASE, grant: { type: 'refresh_token', refresh_token: 'r' } }, 'grant.refresh_token', 'grant.refreshToken'],
    ];
    for (const [what, options, option, suggestion] of cases) {
      it(`refuses ${what}, naming it and the closest valid name`, () => {
        const error = configurationError(options);
        expect(error.option).to.equal(option);
        expect(error.code).to.equal(ErrorCodes.INVALID_OPTION);
        expect(error.message).to.include(`did you mean "${suggestion}"?`);
      });
    }

    it('refuses a field that belongs to another grant', () => {
      expect(configurationError({ ...BASE, grant: { type: 'refresh_token', refreshToken: 'r', codeVerifier: 'v' } }).option).to.equal('grant.codeVerifier');
    });

    it('lists the known names when nothing is close enough to be a typo', () => {
      const error = configurationError({ ...BASE, retry: { exponentialBackoffFactor: 3 } });
      expect(error.option).to.equal('retry.exponentialBackoffFactor');
      expect(error.message).to.include('known here: limit, baseDelay, maxDelay');
    });

    it('does not check the keys of a logger, a store or tokenRequest params (objects with keys of their own)', () => {
      const logger = { debug: () => {}, warn: () => {}, info: () => {}, child: () => logger };
      expect(() => resolveOptions(api(), { ...BASE, logger, tokenRequest: { params: { audience: 'https://api' } } })).not.to.throw();
    });
  });

  describe('accepted options', () => {
    it('fills in the documented defaults', () => {
      const resolved = resolveOptions(api(), BASE);
      expect(resolved.grant).to.deep.equal({ type: 'client_credentials' });
      expect(resolved.scope).to.equal(undefined);
      expect(resolved.endpoint).to.deep.include({ method: 'POST', encoding: 'form', clientAuth: 'body', timeout: 10_000 });
      expect(resolved.endpoint.params).to.deep.equal({});
      expect(resolved.refreshWindowMs).to.equal(60_000);
      expect(resolved.defaultExpiresIn).to.equal(undefined);
      expect([...resolved.retryStatusCodes]).to.deep.equal([401]);
      expect([...resolved.origins]).to.deep.equal(['https://api.example.com']);
      expect(resolved.retry).to.deep.equal({ limit: 2, baseDelay: 250, maxDelay: 10_000 });
      expect(resolved.failureCoolDownMs).to.equal(2000);
      expect(resolved.store).to.be.instanceOf(MemoryTokenStore);
    });

    it('defaults a GET token request to the query encoding', () => {
      expect(resolveOptions(api(), { ...BASE, tokenRequest: { method: 'GET' } }).endpoint.encoding).to.equal('query');
    });

    it('joins a scope array with spaces', () => {
      expect(resolveOptions(api(), { ...BASE, scope: ['read', 'write', 'orders:create'] }).scope).to.equal('read write orders:create');
    });

    it('reduces each allowed origin to scheme, host and port', () => {
      const resolved = resolveOptions(api(), { ...BASE, origins: ['https://API.example.com:443/v2?x=1', 'https://files.example.com:8443'] });
      expect([...resolved.origins]).to.deep.equal(['https://api.example.com', 'https://files.example.com:8443']);
    });

    it('lets a preset name the API origin for instances without a baseURL, while a baseURL wins', () => {
      const preset = { ...BASE, defaultOrigins: ['https://api.provider.example'] };
      expect([...resolveOptions(axios.create(), preset).origins]).to.deep.equal(['https://api.provider.example']);
      expect([...resolveOptions(api(), preset).origins]).to.deep.equal(['https://api.example.com']);
      expect([...resolveOptions(api(), { ...preset, origins: ['https://other.example.com'] }).origins]).to.deep.equal(['https://other.example.com']);
    });

    it('allows plain http to loopback hosts, and elsewhere only with allowInsecureHttp', () => {
      for (const tokenUrl of ['http://127.0.0.1:8080/token', 'http://localhost/token', 'http://[::1]:9000/token', 'http://auth.localhost/token']) {
        expect(resolveOptions(api(), { ...BASE, tokenUrl }).endpoint.tokenUrl).to.equal(tokenUrl);
      }
      const insecure = resolveOptions(axios.create({ baseURL: 'http://api.internal' }), { ...BASE, tokenUrl: 'http://auth.internal/token', allowInsecureHttp: true });
      expect([...insecure.origins]).to.deep.equal(['http://api.internal']);
    });

    it('reads time from the clock option', () => {
      const resolved = resolveOptions(api(), { ...BASE, clock: { now: () => 1234 } });
      expect(resolved.now()).to.equal(1234);
    });

    it('uses the store it is given', () => {
      const store = new MemoryTokenStore();
      expect(resolveOptions(api(), { ...BASE, store }).store).to.equal(store);
    });
  });

  describe('isLoopbackHost', () => {
    it('knows localhost, 127.0.0.0/8 and ::1, and nothing that merely resembles them', () => {
      expect(['localhost', '127.0.0.1', '127.10.20.30', '[::1]', 'app.localhost'].every(isLoopbackHost)).to.equal(true);
      expect(['localhost.example.com', '128.0.0.1', '127.0.0.1.nip.io', '10.0.0.1'].some(isLoopbackHost)).to.equal(false);
    });
  });
});
