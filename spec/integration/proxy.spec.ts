// The token and the client secret never cross a proxy beyond loopback in clear text,
// over real loopback sockets. A recording "proxy" listens on loopback; to count as a
// host beyond loopback it is named proxy.example.test, which only the `lookup` option
// given to axios (the instance's, or axios.defaults' for the token instance) resolves
// to 127.0.0.1. Without the rule, axios would send the request there and the proxy
// would record the token.

import axios, { type AxiosInstance, type AxiosRequestConfig, type InternalAxiosRequestConfig } from 'axios';
import { expect } from 'chai';
import { attachAuth, ConfigurationError, type AttachAuthOptions, type AuthHandle } from '../../lib/index.js';
import { rejection, within } from '../helpers/deferred.js';
import { startForeignServer, startTestServer, type ForeignServer, type TestServer } from '../helpers/test-server.js';

const CLIENT_ID = 'proxy-client';
const CLIENT_SECRET = 'proxy-secret-9b2e44';
const BOUND_MS = 5000;
const PROXY_VARIABLES = ['http_proxy', 'https_proxy', 'all_proxy', 'no_proxy', 'npm_config_http_proxy', 'npm_config_https_proxy', 'npm_config_proxy', 'npm_config_no_proxy'];

/** Resolves every name to loopback: proxy.example.test reaches the recording proxy. */
const toLoopback: NonNullable<AxiosRequestConfig['lookup']> = (_hostname, _options, callback: (error: Error | null, address: string, family: 4) => void) => {
  callback(null, '127.0.0.1', 4);
};

describe('proxies (a recording proxy that counts as beyond loopback)', function () {
  let auth: TestServer;
  let api: ForeignServer;
  let proxy: ForeignServer;
  let proxyPort: string;
  const handles: AuthHandle[] = [];
  const savedEnvironment = new Map<string, string | undefined>();

  before(async () => {
    [auth, api, proxy] = await Promise.all([startTestServer({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }), startForeignServer(), startForeignServer()]);
    proxyPort = new URL(proxy.origin).port;
  });

  after(async () => {
    await Promise.all([auth.close(), api.close(), proxy.close()]);
  });

  beforeEach(() => {
    auth.reset();
    api.requests.length = 0;
    proxy.requests.length = 0;
    for (const name of PROXY_VARIABLES.flatMap((variable) => [variable, variable.toUpperCase()])) {
      savedEnvironment.set(name, process.env[name]);
      delete process.env[name];
    }
  });

  afterEach(() => {
    for (const handle of handles.splice(0)) handle.detach();
    for (const [name, value] of savedEnvironment) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    delete (axios.defaults as { lookup?: unknown }).lookup;
  });

  function connect(instance: AxiosInstance, options: Partial<AttachAuthOptions> = {}): AuthHandle {
    const handle = attachAuth(instance, { tokenUrl: auth.tokenUrl, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, origins: [api.origin], retry: { limit: 0 }, ...options });
    handles.push(handle);
    return handle;
  }

  /** The API instance; its lookup sends proxy.example.test to the recording proxy. */
  const apiInstance = (): AxiosInstance => axios.create({ baseURL: api.origin, lookup: toLoopback });

  /** The token endpoint is reached directly; only API requests meet the proxy. */
  function proxyApiRequestsThrough(proxyHost: string): void {
    process.env['HTTP_PROXY'] = `http://${proxyHost}:${proxyPort}`;
    process.env['NO_PROXY'] = new URL(auth.origin).host;
  }

  it('refuses an API request that HTTP_PROXY would send in clear text through a proxy beyond loopback', async () => {
    proxyApiRequestsThrough('proxy.example.test');
    const instance = apiInstance();
    connect(instance);

    const error = await rejection(within(instance.get('/things'), BOUND_MS, 'the proxied API request'));

    expect(error).to.be.instanceOf(ConfigurationError);
    expect((error as ConfigurationError).option).to.equal('proxy');
    expect(error.message).to.include('proxy.example.test');
    expect(proxy.requests).to.deep.equal([]);
    expect(api.requests).to.deep.equal([]);
  });

  it('refuses a token request that would carry the client secret through such a proxy', async () => {
    process.env['HTTP_PROXY'] = `http://proxy.example.test:${proxyPort}`;
    (axios.defaults as { lookup?: unknown }).lookup = toLoopback;
    const handle = connect(apiInstance());

    const error = await rejection(within(handle.getToken(), BOUND_MS, 'the proxied token request'));

    expect(error).to.be.instanceOf(ConfigurationError);
    expect(proxy.requests).to.deep.equal([]);
    expect(auth.tokenRequests).to.equal(0);
  });

  it('refuses a request whose proxy option an interceptor registered before attachAuth set after the token was attached', async () => {
    const instance = apiInstance();
    instance.interceptors.request.use((config: InternalAxiosRequestConfig) => {
      config.proxy = { protocol: 'http', host: 'proxy.example.test', port: Number(proxyPort) };
      return config;
    });
    connect(instance);

    const error = await rejection(within(instance.get('/things'), BOUND_MS, 'the proxied API request'));

    expect(error).to.be.instanceOf(ConfigurationError);
    expect(proxy.requests).to.deep.equal([]);
  });

  it('refuses at attachAuth an instance whose proxy option is beyond loopback', () => {
    const instance = axios.create({ baseURL: api.origin, proxy: { protocol: 'http', host: 'proxy.example.test', port: 3128 } });

    expect(() => connect(instance)).to.throw(ConfigurationError).with.property('option', 'proxy');
  });

  it('refuses at attachAuth when axios.defaults carry a proxy beyond loopback for the token endpoint', () => {
    const saved = axios.defaults.proxy;
    axios.defaults.proxy = { protocol: 'http', host: 'proxy.example.test', port: 3128 };
    try {
      // The private token instance is made from axios.defaults; the API instance goes direct.
      expect(() => connect(axios.create({ baseURL: api.origin, proxy: false })))
        .to.throw(ConfigurationError)
        .with.property('message')
        .that.includes('client secret');
    } finally {
      axios.defaults.proxy = saved as typeof axios.defaults.proxy;
    }
  });

  it('sends the token through a proxy on loopback', async () => {
    proxyApiRequestsThrough('127.0.0.1');
    const instance = apiInstance();
    connect(instance);

    await within(instance.get('/things'), BOUND_MS, 'the API request through the loopback proxy');

    expect(proxy.requests.map((request) => [request.host, request.authorization])).to.deep.equal([[new URL(api.origin).host, `Bearer ${auth.currentAccessToken}`]]);
  });

  it('sends the token through a proxy beyond loopback when allowInsecureHttp is set', async () => {
    proxyApiRequestsThrough('proxy.example.test');
    const instance = apiInstance();
    connect(instance, { allowInsecureHttp: true });

    await within(instance.get('/things'), BOUND_MS, 'the API request through the proxy');

    expect(proxy.requests.map((request) => request.authorization)).to.deep.equal([`Bearer ${auth.currentAccessToken}`]);
  });
});
