import axios from 'axios';
import { expect } from 'chai';
import { ConfigurationError } from '../lib/errors.js';
import { clearTextExposure, proxyRoutes, refuseClearTextProxy } from '../lib/proxy-route.js';

const PROXY_VARIABLES = ['http_proxy', 'https_proxy', 'all_proxy', 'no_proxy', 'npm_config_http_proxy', 'npm_config_https_proxy', 'npm_config_proxy', 'npm_config_no_proxy'];

/**
 * Runs `body` with exactly these proxy variables set (lower or upper case as given), and restores the
 * environment. The library reads the environment once per turn of the event loop, so `body` runs on the next.
 */
async function withEnvironment(variables: Record<string, string>, body: () => void): Promise<void> {
  const names = PROXY_VARIABLES.flatMap((name) => [name, name.toUpperCase()]);
  const saved = new Map(names.map((name) => [name, process.env[name]]));
  for (const name of names) delete process.env[name];
  Object.assign(process.env, variables);
  try {
    await new Promise((resolve) => setImmediate(resolve));
    body();
  } finally {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

const hosts = (url: string, configured?: Parameters<typeof proxyRoutes>[1]): string[] => proxyRoutes(new URL(url), configured).map((route) => `${route.protocol}//${route.hostname}:${route.port}`);

describe('proxy-route', () => {
  it('reads the proxy for the URL scheme from the environment, in either case, with ALL_PROXY as the fallback', async () => {
    await withEnvironment({ HTTP_PROXY: 'http://proxy.example.com:3128', all_proxy: 'http://all.example.com:8080' }, () => {
      expect(hosts('http://127.0.0.1:9000/x')).to.deep.equal(['http://proxy.example.com:3128']);
      expect(hosts('https://api.example.com/x')).to.deep.equal(['http://all.example.com:8080']);
    });
  });

  it('honours NO_PROXY as proxy-from-env does: exact hosts, suffixes, ports and *', async () => {
    await withEnvironment({ http_proxy: 'http://proxy.example.com:3128', NO_PROXY: '127.0.0.1:9000, .internal.example,*.corp' }, () => {
      expect(hosts('http://127.0.0.1:9000/x')).to.deep.equal([]);
      expect(hosts('http://127.0.0.1:9001/x')).to.have.length(1);
      expect(hosts('http://api.internal.example/x')).to.deep.equal([]);
      expect(hosts('http://svc.corp/x')).to.deep.equal([]);
    });
    await withEnvironment({ http_proxy: 'http://proxy.example.com:3128', no_proxy: '*' }, () => expect(hosts('http://127.0.0.1:9000/x')).to.deep.equal([]));
  });

  it('also judges the npm_config_ variables that older axios releases read', async () => {
    await withEnvironment({ npm_config_proxy: 'http://npm-proxy.example.com:8080' }, () => {
      expect(hosts('http://127.0.0.1:9000/x')).to.deep.equal(['http://npm-proxy.example.com:8080']);
    });
  });

  it('takes a proxy option over the environment, and proxy: false as no proxy at all', async () => {
    await withEnvironment({ http_proxy: 'http://proxy.example.com:3128' }, () => {
      expect(hosts('http://127.0.0.1:9000/x', { host: 'other.example.com', port: 8080, protocol: 'https' })).to.deep.equal(['https://other.example.com:8080']);
      expect(hosts('http://127.0.0.1:9000/x', false)).to.deep.equal([]);
    });
  });

  it('finds plain http through a proxy beyond loopback exposed, and a loopback proxy not', () => {
    expect(clearTextExposure('http://127.0.0.1:9000/x', { host: 'proxy.example.com', port: 3128 })).to.include('proxy.example.com');
    expect(clearTextExposure('http://127.0.0.1:9000/x', { host: 'proxy.example.com', port: 3128, protocol: 'https' })).to.include('not on loopback');
    expect(clearTextExposure('http://127.0.0.1:9000/x', { host: '127.0.0.1', port: 3128 })).to.equal(undefined);
    expect(clearTextExposure('http://127.0.0.1:9000/x', { host: '::1', port: 3128 })).to.equal(undefined);
  });

  it('finds https through an http proxy exposed only on axios releases that do not tunnel it (before 1.16.1)', () => {
    const exposure = clearTextExposure('https://api.example.com/x', { host: 'proxy.example.com', port: 3128 });
    const [major = 0, minor = 0, patch = 0] = axios.VERSION.split('.').map(Number);
    const tunnels = major > 1 || minor > 16 || (minor === 16 && patch >= 1);
    if (tunnels) expect(exposure).to.equal(undefined);
    else expect(exposure).to.include('in clear text');
    expect(clearTextExposure('https://api.example.com/x', { host: 'proxy.example.com', port: 3128, protocol: 'https' })).to.equal(undefined);
  });

  it('refuses with a ConfigurationError that names the proxy but never its credentials', async () => {
    await withEnvironment({ HTTP_PROXY: 'http://user:proxy-password-77@proxy.example.com:3128' }, () => {
      let thrown: unknown;
      try {
        refuseClearTextProxy('http://127.0.0.1:9000/x', undefined, 'the token');
      } catch (error) {
        thrown = error;
      }
      expect(thrown).to.be.instanceOf(ConfigurationError);
      expect((thrown as ConfigurationError).option).to.equal('proxy');
      expect((thrown as Error).message).to.include('http://proxy.example.com:3128').and.include('allowInsecureHttp').and.not.include('proxy-password-77');
    });
  });
});
