// Which proxy a request leaves through, and whether the token or the client secret then
// crosses a network in clear text. Mirrors axios's http adapter: the `proxy` option when it
// is set (`false`: none), else the environment as proxy-from-env reads it (HTTP_PROXY,
// HTTPS_PROXY, ALL_PROXY, NO_PROXY; releases 1.x of proxy-from-env, used by older axios,
// also read the npm_config_ variants). When the two readings differ, both are judged.

import axios, { type AxiosProxyConfig } from 'axios';
import { ConfigurationError } from './errors.js';
import { isLoopbackHost } from './resolve-options.js';

/** Where a request connects when it goes through a proxy. */
export interface ProxyRoute {
  /** `http:` or `https:`: how the request reaches the proxy. */
  protocol: string;
  hostname: string;
  port: string;
}

const DEFAULT_PORTS: Record<string, number> = { http: 80, https: 443 };
const HTTPS_URL = /^https:/i;

/**
 * axios sends an https request through an http proxy inside a CONNECT tunnel from 1.16.1 on;
 * before that it sent it to the proxy as a plain http request, headers and body in clear.
 */
const TUNNELS_HTTPS = versionAtLeast(axios.VERSION, [1, 16, 1]);

/**
 * Why sending to `target` through the proxies axios may pick exposes what the request carries,
 * or undefined when it does not: no proxy, a proxy on loopback, or a proxy that only ever sees
 * TLS. `configured` is the request's `proxy` option.
 */
export function clearTextExposure(target: string, configured: AxiosProxyConfig | false | null | undefined): string | undefined {
  // The common case costs one regular expression: https, on an axios that tunnels it through any proxy.
  if (TUNNELS_HTTPS && HTTPS_URL.test(target)) return undefined;
  // And without a proxy anywhere, a lookup in this turn's reading of the environment.
  if (configured === false) return undefined;
  if (configured === undefined || configured === null) {
    const scheme = HTTPS_URL.test(target) ? 'https' : 'http';
    if (environmentReadings(scheme).every(([proxy]) => proxy === '')) return undefined;
  }
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    return undefined;
  }
  for (const route of proxyRoutes(url, configured)) {
    if (isLoopbackHost(route.hostname)) continue;
    const proxy = `${route.protocol}//${route.hostname}${route.port === '' ? '' : `:${route.port}`}`;
    if (url.protocol === 'http:') return `plain http to ${url.origin} goes through the proxy ${proxy}, which is not on loopback`;
    if (route.protocol === 'http:' && !TUNNELS_HTTPS) {
      return `axios ${axios.VERSION} sends https requests to the http proxy ${proxy} in clear text (axios 1.16.1 and later tunnel them)`;
    }
  }
  return undefined;
}

/**
 * Throws a ConfigurationError when sending to `target` through the proxy axios would pick
 * (`proxy` option, else the environment) carries `what` in clear text beyond loopback.
 */
export function refuseClearTextProxy(target: string | undefined, proxy: AxiosProxyConfig | false | null | undefined, what: string): void {
  if (target === undefined) return;
  const exposure = clearTextExposure(target, proxy);
  if (exposure === undefined) return;
  throw new ConfigurationError(
    'proxy',
    `(or HTTP_PROXY / HTTPS_PROXY / ALL_PROXY in the environment) would carry ${what} in clear text: ${exposure}; ` +
      'use https to an https proxy or a recent axios, list the host in NO_PROXY, set proxy: false, or set allowInsecureHttp: true',
  );
}

/** The proxies axios may send a request for `url` through: none, the configured one, or what the environment names. */
export function proxyRoutes(url: URL, configured: AxiosProxyConfig | false | null | undefined): ProxyRoute[] {
  if (configured === false) return [];
  if (configured !== undefined && configured !== null) {
    const protocol = configured.protocol ?? 'http';
    return [{ protocol: protocol.endsWith(':') ? protocol : `${protocol}:`, hostname: configured.host, port: String(configured.port ?? '') }];
  }
  const scheme = url.protocol.slice(0, -1);
  const hostname = url.host.replace(/:\d*$/, '');
  const port = Number(url.port) || DEFAULT_PORTS[scheme] || 0;
  const routes: ProxyRoute[] = [];
  for (const [proxy, noProxy] of environmentReadings(scheme)) {
    if (proxy === '' || bypasses(noProxy.toLowerCase(), hostname, port)) continue;
    const route = parseProxy(proxy.includes('://') ? proxy : `${scheme}://${proxy}`);
    const same = routes.some((other) => other.protocol === route?.protocol && other.hostname === route.hostname && other.port === route.port);
    if (route !== undefined && !same) routes.push(route);
  }
  return routes;
}

/** [proxy, NO_PROXY] as proxy-from-env 2 (current axios) and 1 (older axios) read them, per scheme. */
type Readings = [string, string][];
let readingsThisTurn: Map<string, Readings> | undefined;

/**
 * The environment is read once per turn of the event loop: a burst of requests costs one
 * reading (each process.env lookup crosses into C++), and a change to process.env counts
 * from the next turn on.
 */
function environmentReadings(scheme: string): Readings {
  if (readingsThisTurn === undefined) {
    readingsThisTurn = new Map();
    setImmediate(() => {
      readingsThisTurn = undefined;
    }).unref();
  }
  let readings = readingsThisTurn.get(scheme);
  if (readings === undefined) {
    readings = [
      [readEnv(`${scheme}_proxy`) || readEnv('all_proxy'), readEnv('no_proxy')],
      [
        readEnv(`npm_config_${scheme}_proxy`) || readEnv(`${scheme}_proxy`) || readEnv('npm_config_proxy') || readEnv('all_proxy'),
        readEnv('npm_config_no_proxy') || readEnv('no_proxy'),
      ],
    ];
    readingsThisTurn.set(scheme, readings);
  }
  return readings;
}

function readEnv(name: string): string {
  return process.env[name.toLowerCase()] || process.env[name.toUpperCase()] || '';
}

/** NO_PROXY as proxy-from-env reads it: `*`, exact hosts, `.suffix` or `*suffix`, each with an optional port. */
function bypasses(noProxy: string, hostname: string, port: number): boolean {
  if (noProxy === '') return false;
  if (noProxy === '*') return true;
  return noProxy.split(/[,\s]/).some((entry) => {
    if (entry === '') return false;
    const parsed = /^(.+):(\d+)$/.exec(entry);
    let host = parsed === null ? entry : parsed[1]!;
    const entryPort = parsed === null ? 0 : Number(parsed[2]);
    if (entryPort !== 0 && entryPort !== port) return false;
    if (!/^[.*]/.test(host)) return hostname === host;
    if (host.startsWith('*')) host = host.slice(1);
    return hostname.endsWith(host);
  });
}

function parseProxy(value: string): ProxyRoute | undefined {
  try {
    const url = new URL(value);
    return { protocol: url.protocol, hostname: url.hostname, port: url.port };
  } catch {
    return undefined;
  }
}

function versionAtLeast(version: string | undefined, wanted: readonly number[]): boolean {
  const parts = (version ?? '0').split(/[.-]/).map((part) => Number.parseInt(part, 10));
  for (let index = 0; index < wanted.length; index += 1) {
    const have = parts[index] ?? 0;
    if (Number.isNaN(have) || have !== wanted[index]) return !Number.isNaN(have) && have > wanted[index]!;
  }
  return true;
}
