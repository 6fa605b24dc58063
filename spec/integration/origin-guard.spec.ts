// The token travels only to the allowed origins (promise 4 of the design), over
// real sockets: an absolute URL or a redirect to a second loopback server never
// carries it, and options that would send it elsewhere are refused at attach time.

import axios, { type AxiosInstance, type InternalAxiosRequestConfig } from 'axios';
import { expect } from 'chai';
import { attachAuth, ConfigurationError, type AttachAuthOptions, type AuthHandle } from '../../lib/index.js';
import { within } from '../helpers/deferred.js';
import { sweep } from '../helpers/secret-sweep.js';
import { startForeignServer, startTestServer, type ForeignServer, type TestServer } from '../helpers/test-server.js';

const CLIENT_ID = 'origin-guard-client';
const CLIENT_SECRET = 'origin-guard-secret-a81c0e';
const BOUND_MS = 5000;

describe('origin guard (loopback API and a foreign origin)', function () {
  let server: TestServer;
  let foreign: ForeignServer;
  const handles: AuthHandle[] = [];

  before(async () => {
    server = await startTestServer({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
    foreign = await startForeignServer();
  });

  after(async () => {
    await foreign.close();
    await server.close();
  });

  beforeEach(() => {
    server.reset();
    foreign.requests.length = 0;
  });

  afterEach(() => {
    for (const handle of handles.splice(0)) handle.detach();
  });

  function connect(api: AxiosInstance, options: Partial<AttachAuthOptions> = {}): AuthHandle {
    const handle = attachAuth(api, { tokenUrl: server.tokenUrl, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, ...options });
    handles.push(handle);
    return handle;
  }

  function get<T>(api: AxiosInstance, url: string): Promise<T> {
    const request = api.get<T>(url).then(
      (response) => response.data,
      (error: unknown) => {
        throw sweep(error, 'origin-guard');
      },
    );
    return within(request, BOUND_MS, `GET ${url}`);
  }

  it('sends no token with an absolute URL to another origin', async function () {
    const api = axios.create({ baseURL: server.origin });
    connect(api);

    await get(api, '/things');
    await get(api, `${foreign.origin}/elsewhere`);

    expect(server.apiLog[0]?.authorization).to.equal(`Bearer ${server.currentAccessToken}`);
    expect(foreign.requests.map((request) => request.authorization)).to.deep.equal([undefined]);
  });

  it('sends no token with an absolute URL to another origin when the instance sets allowAbsoluteUrls: false (axios before 1.8.2 ignores it)', async function () {
    const api = axios.create({ baseURL: server.origin, allowAbsoluteUrls: false });
    connect(api);

    await get(api, '/things');
    // From 1.8.2 on this is joined to the API's origin, where the API answers 401 to a request without a token.
    await within(api.get(`${foreign.origin}/elsewhere`, { validateStatus: () => true }), BOUND_MS, 'GET with an absolute URL');

    expect(server.apiLog[0]?.authorization).to.equal(`Bearer ${server.currentAccessToken}`);
    // Wherever this axios release sent it (the foreign origin, or the API joined to the URL), it went without the token.
    expect([...foreign.requests, ...server.apiLog.slice(1)].map((request) => request.authorization)).to.deep.equal([undefined]);
  });

  it('sends the token to the origins listed in `origins`, and only there', async function () {
    const api = axios.create();
    connect(api, { origins: [server.origin] });

    await get(api, `${server.origin}/things`);
    await get(api, `${foreign.origin}/elsewhere`);

    expect(server.apiLog[0]?.authorization).to.equal(`Bearer ${server.currentAccessToken}`);
    expect(foreign.requests.map((request) => request.authorization)).to.deep.equal([undefined]);
  });

  it('refuses an instance with neither a baseURL nor `origins`, naming the option', function () {
    let thrown: unknown;
    try {
      connect(axios.create());
    } catch (error) {
      thrown = error;
    }

    expect(thrown).to.be.instanceOf(ConfigurationError);
    expect((thrown as ConfigurationError).option).to.equal('origins');
    expect((thrown as ConfigurationError).message).to.include('"origins"');
    expect(server.tokenRequests).to.equal(0);
  });

  it('refuses plain http to a host other than loopback unless allowInsecureHttp is set', function () {
    expect(() => connect(axios.create({ baseURL: 'http://api.example.com' })))
      .to.throw(ConfigurationError)
      .with.property('message')
      .that.includes('allowInsecureHttp');
    expect(() => connect(axios.create(), { origins: ['http://api.example.com'] }))
      .to.throw(ConfigurationError)
      .with.property('option', 'origins[0]');

    expect(() => connect(axios.create({ baseURL: 'http://api.example.com' }), { allowInsecureHttp: true })).to.not.throw();
    expect(() => connect(axios.create({ baseURL: 'https://api.example.com' }))).to.not.throw();
  });

  it('drops the token when the API redirects to another origin', async function () {
    const api = axios.create({ baseURL: server.origin });
    connect(api);

    const body = await get<{ foreign?: boolean }>(api, `/redirect?to=${encodeURIComponent(`${foreign.origin}/landing`)}`);

    expect(body.foreign).to.equal(true);
    expect(server.apiLog[0]?.authorization).to.equal(`Bearer ${server.currentAccessToken}`);
    expect(foreign.requests.map((request) => request.authorization)).to.deep.equal([undefined]);
  });

  it('keeps the token on a redirect that stays on the allowed origin', async function () {
    const api = axios.create({ baseURL: server.origin });
    connect(api);

    const body = await get<{ token?: string }>(api, `/redirect?to=${encodeURIComponent('/things')}`);

    expect(body.token).to.equal(server.currentAccessToken);
    expect(server.apiLog.map((entry) => [entry.path, entry.authorization])).to.deep.equal([
      ['/redirect', `Bearer ${server.currentAccessToken}`],
      ['/things', `Bearer ${server.currentAccessToken}`],
    ]);
  });

  it('refuses a second attachAuth on an instance that already has a handle, so one handle never sends the other\'s token', async function () {
    const api = axios.create({ baseURL: server.origin });
    const first = connect(api);
    await get(api, '/things');
    const firstToken = server.currentAccessToken;

    let thrown: unknown;
    try {
      connect(api, { scope: 'other-user' });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).to.be.instanceOf(ConfigurationError);
    expect((thrown as Error).message).to.include('attachUserAuth');
    await get(api, '/things');

    // Once the first handle is detached, the instance may serve another one, with its own token.
    first.detach();
    connect(api, { scope: 'other-user' });
    await get(api, '/things');

    expect(server.tokenRequests).to.equal(2);
    expect(server.apiLog.map((entry) => entry.authorization)).to.deep.equal([`Bearer ${firstToken}`, `Bearer ${firstToken}`, `Bearer ${server.currentAccessToken}`]);
    expect(server.currentAccessToken).to.not.equal(firstToken);
  });

  describe('when an interceptor registered before attachAuth changes the request after the token was attached', () => {
    /** An API instance whose own interceptor (registered first, so it runs last) rewrites some requests. */
    function rewritingApi(rewrite: (config: InternalAxiosRequestConfig) => InternalAxiosRequestConfig): AxiosInstance {
      const api = axios.create({ baseURL: server.origin });
      api.interceptors.request.use(rewrite);
      connect(api);
      return api;
    }

    it('sends no token when it moves the url to another origin', async () => {
      const api = rewritingApi((config) => {
        if (config.url === '/move') config.url = `${foreign.origin}/moved`;
        return config;
      });

      await get(api, '/things');
      await get(api, '/move');

      expect(server.apiLog.map((entry) => entry.authorization)).to.deep.equal([`Bearer ${server.currentAccessToken}`]);
      expect(foreign.requests.map((request) => [request.path, request.authorization])).to.deep.equal([['/moved', undefined]]);
    });

    it('sends no token when it moves the baseURL, or returns a new config for another origin', async () => {
      const api = rewritingApi((config) => {
        if (config.url === '/move-base') config.baseURL = foreign.origin;
        if (config.url === '/copy') return { ...config, url: `${foreign.origin}/copied` };
        return config;
      });

      await get(api, '/move-base');
      await get(api, '/copy');

      expect(foreign.requests.map((request) => [request.path, request.authorization])).to.deep.equal([
        ['/move-base', undefined],
        ['/copied', undefined],
      ]);
    });

    it('sends no token when it moves the request and changes the adapter too', async () => {
      const api = rewritingApi((config) => {
        if (config.url === '/move') {
          config.url = `${foreign.origin}/moved`;
          config.allowAbsoluteUrls = true;
          // A custom adapter of the app's, handing on to axios's own: the check does not depend on which adapter runs.
          const inner = config.adapter;
          config.adapter = (sent) => {
            const adapter = typeof inner === 'function' ? inner : axios.getAdapter(inner);
            return adapter(sent);
          };
        }
        return config;
      });

      await get(api, '/move');

      expect(foreign.requests.map((request) => [request.path, request.authorization])).to.deep.equal([['/moved', undefined]]);
    });

    it('keeps the token when it only changes the path on the allowed origin', async () => {
      const api = rewritingApi((config) => {
        if (config.url === '/old-path') config.url = '/new-path';
        return config;
      });

      await get(api, '/old-path');

      expect(server.apiLog.map((entry) => [entry.path, entry.authorization])).to.deep.equal([['/new-path', `Bearer ${server.currentAccessToken}`]]);
    });
  });
});
