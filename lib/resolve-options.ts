// Validates the options of attachAuth once, at attach time, and fills in the
// defaults. Every problem is a ConfigurationError naming the option; no message
// ever repeats a secret or a URL's query string.

import type { AxiosInstance } from 'axios';
import { Agent as HttpsAgent } from 'node:https';
import { resolveClientAssertion } from './client-assertion.js';
import { checkIssuer } from './issuer.js';
import { resolveDPoP, type DPoP } from './dpop.js';
import type { TelemetryOptions } from './telemetry.js';
import { ConfigurationError } from './errors.js';
import type { AttachAuthOptions, AuthEvents, AuthLogger, Grant } from './options.js';
import { rejectUnknownOptions } from './option-names.js';
import { MemoryTokenStore } from './stores/memory-token-store.js';
import type { TokenStore } from './stores/token-store.js';
import type { TokenEndpointConfig } from './token-endpoint.js';
import { tokenKey } from './token-identity.js';

export interface ResolvedRetry {
  limit: number;
  baseDelay: number;
  maxDelay: number;
}

export interface ResolvedOptions {
  endpoint: TokenEndpointConfig;
  /** With `issuer`: the endpoints come from the server metadata (lib/discovery.ts). */
  issuer: string | undefined;
  /** DPoP (RFC 9449): proofs for the token endpoint and the API (lib/dpop.ts). */
  dpop: DPoP | undefined;
  /** OpenTelemetry (lib/telemetry.ts): `true`, given providers, or undefined when off. */
  telemetry: true | TelemetryOptions | undefined;
  grant: Grant;
  scope: string | undefined;
  refreshWindowMs: number;
  defaultExpiresIn: number | undefined;
  retryStatusCodes: ReadonlySet<number>;
  origins: ReadonlySet<string>;
  /** Plain http (and a proxy reached in clear text) is accepted beyond loopback. */
  allowInsecureHttp: boolean;
  store: TokenStore;
  storeKey: string;
  revocationUrl: string | undefined;
  tokenInfoUrl: string | undefined;
  introspectionUrl: string | undefined;
  retry: ResolvedRetry;
  /** The bound on a whole refresh, retries and backoff included. */
  refreshTimeoutMs: number;
  failureCoolDownMs: number;
  events: AuthEvents;
  logger: AuthLogger;
  now: () => number;
}

/** Hosts to which the token may travel over plain http without `allowInsecureHttp`. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return host === 'localhost' || host.endsWith('.localhost') || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

export function resolveOptions(instance: AxiosInstance, options: AttachAuthOptions): ResolvedOptions {
  if (options === null || typeof options !== 'object') throw new ConfigurationError('options', 'must be an object');
  rejectUnknownOptions(options);
  const allowInsecureHttp = optionalBoolean(options.allowInsecureHttp, 'allowInsecureHttp') ?? false;

  const issuer = options.issuer === undefined ? undefined : checkIssuer(options.issuer, (url) => isUsableUrl(url, allowInsecureHttp));
  if (issuer !== undefined && options.tokenUrl !== undefined) throw new ConfigurationError('tokenUrl', 'must not be given with issuer: the token endpoint comes from the server metadata');
  // With an issuer, the token identity is the issuer's (the token endpoint is not known yet).
  const tokenUrl = issuer ?? requireUrl(options.tokenUrl, 'tokenUrl', allowInsecureHttp);
  if (typeof options.clientId !== 'string' || options.clientId === '') throw new ConfigurationError('clientId', 'must be a non-empty string');
  if (options.clientSecret !== undefined && typeof options.clientSecret !== 'string') throw new ConfigurationError('clientSecret', 'must be a string when given');

  const grant = resolveGrant(options.grant);
  const scope = resolveScope(options.scope);
  const tokenRequest = options.tokenRequest ?? {};
  if (typeof tokenRequest !== 'object' || tokenRequest === null) throw new ConfigurationError('tokenRequest', 'must be an object');
  const method = oneOf(tokenRequest.method ?? 'POST', ['POST', 'GET'] as const, 'tokenRequest.method');
  const encoding = oneOf(tokenRequest.encoding ?? (method === 'GET' ? 'query' : 'form'), ['form', 'json', 'query'] as const, 'tokenRequest.encoding');
  if (method === 'GET' && encoding !== 'query') throw new ConfigurationError('tokenRequest.encoding', 'must be "query" when tokenRequest.method is "GET" (a GET has no body)');
  const clientAuth = oneOf(
    tokenRequest.clientAuth ?? 'body',
    ['body', 'basic', 'private_key_jwt', 'client_secret_jwt', 'tls_client_auth', 'self_signed_tls_client_auth'] as const,
    'tokenRequest.clientAuth',
  );
  const httpsAgent = resolveHttpsAgent(tokenRequest.httpsAgent, clientAuth);
  const params = stringRecord(tokenRequest.params, 'tokenRequest.params');
  const headers = stringRecord(tokenRequest.headers, 'tokenRequest.headers');
  if (Object.keys(headers).some((name) => name.toLowerCase() === 'authorization' && /^bearer\s/i.test(headers[name] ?? ''))) {
    throw new ConfigurationError('tokenRequest.headers', 'must not carry a Bearer Authorization header (token requests never send one)');
  }
  const timeout = positiveNumber(tokenRequest.timeout, 'tokenRequest.timeout') ?? 10_000;

  const refreshWindow = nonNegativeNumber(options.refreshWindow, 'refreshWindow') ?? 60;
  const defaultExpiresIn = positiveNumber(options.defaultExpiresIn, 'defaultExpiresIn');
  const retryStatusCodes = resolveStatusCodes(options.retryStatusCodes);
  const origins = resolveOrigins(instance, options.origins, options.defaultOrigins, allowInsecureHttp);

  const store = options.store ?? new MemoryTokenStore();
  if (typeof store.get !== 'function' || typeof store.set !== 'function' || typeof store.delete !== 'function') {
    throw new ConfigurationError('store', 'must implement get, set and delete (the TokenStore interface)');
  }
  const subject = options.subject;
  if (subject !== undefined && (typeof subject !== 'string' || subject === '')) throw new ConfigurationError('subject', 'must be a non-empty string naming the user or session of the grant');
  const revocationUrl = options.revocationUrl === undefined ? undefined : requireUrl(options.revocationUrl, 'revocationUrl', allowInsecureHttp);
  const tokenInfoUrl = options.tokenInfoUrl === undefined ? undefined : requireUrl(options.tokenInfoUrl, 'tokenInfoUrl', allowInsecureHttp);
  const introspectionUrl = options.introspectionUrl === undefined ? undefined : requireUrl(options.introspectionUrl, 'introspectionUrl', allowInsecureHttp);

  const retry = options.retry ?? {};
  const resolvedRetry: ResolvedRetry = {
    limit: nonNegativeInteger(retry.limit, 'retry.limit') ?? 2,
    baseDelay: nonNegativeNumber(retry.baseDelay, 'retry.baseDelay') ?? 250,
    maxDelay: nonNegativeNumber(retry.maxDelay, 'retry.maxDelay') ?? 10_000,
  };
  const refreshTimeoutMs =
    positiveNumber(options.refreshTimeout, 'refreshTimeout') ?? timeout * (resolvedRetry.limit + 1) + resolvedRetry.maxDelay * resolvedRetry.limit;
  const failureCoolDownMs = nonNegativeNumber(options.failureCoolDown, 'failureCoolDown') ?? 2000;
  const clock = options.clock;
  if (clock !== undefined && typeof clock.now !== 'function') throw new ConfigurationError('clock', 'must have a now() method returning epoch milliseconds');

  const now = clock === undefined ? Date.now : () => clock.now();
  const endpoint: TokenEndpointConfig = {
    tokenUrl,
    clientId: options.clientId,
    clientSecret: options.clientSecret,
    method,
    encoding,
    clientAuth,
    params,
    headers,
    timeout,
    allowInsecureHttp,
  };
  if (httpsAgent !== undefined) endpoint.httpsAgent = httpsAgent;
  if (httpsAgent !== undefined && issuer === undefined && !tokenUrl.startsWith('https:')) {
    throw new ConfigurationError('tokenRequest.httpsAgent', 'needs an https tokenUrl: the client certificate travels in the TLS handshake');
  }
  if (clientAuth === 'private_key_jwt' || clientAuth === 'client_secret_jwt') {
    const { assertion, audience } = resolveClientAssertion(clientAuth, tokenRequest.clientAssertion, { clientId: options.clientId, clientSecret: options.clientSecret, issuer }, now);
    endpoint.assertion = assertion;
    if (audience === 'issuer') endpoint.assertionAudience = issuer;
  } else if (tokenRequest.clientAssertion !== undefined) {
    throw new ConfigurationError('tokenRequest.clientAssertion', 'is used only with clientAuth "private_key_jwt" or "client_secret_jwt"');
  }
  const dpop = resolveDPoP(options.dpop, now);
  if (dpop !== undefined) endpoint.dpop = dpop;
  if (issuer !== undefined) {
    endpoint.issuer = issuer;
    endpoint.checkUrl = (url) => isUsableUrl(url, allowInsecureHttp);
    endpoint.clientAuthFromMetadata = tokenRequest.clientAuth === undefined && options.clientSecret !== undefined;
  }
  return {
    endpoint,
    issuer,
    dpop,
    telemetry: resolveTelemetry(options.telemetry),
    grant,
    scope,
    refreshWindowMs: refreshWindow * 1000,
    defaultExpiresIn,
    retryStatusCodes,
    origins,
    allowInsecureHttp,
    store,
    storeKey: tokenKey({ tokenUrl, clientId: options.clientId, grant, scope, params, subject }),
    revocationUrl,
    tokenInfoUrl,
    introspectionUrl,
    retry: resolvedRetry,
    refreshTimeoutMs,
    failureCoolDownMs,
    events: options.events ?? {},
    logger: options.logger ?? {},
    now,
  };
}

function resolveTelemetry(telemetry: unknown): true | TelemetryOptions | undefined {
  if (telemetry === undefined || telemetry === false) return undefined;
  if (telemetry === true) return true;
  if (telemetry === null || typeof telemetry !== 'object') throw new ConfigurationError('telemetry', 'must be true, false, or { tracer, meter }');
  const { tracer, meter } = telemetry as TelemetryOptions;
  if (tracer !== undefined && typeof tracer.startSpan !== 'function') throw new ConfigurationError('telemetry.tracer', 'must be an OpenTelemetry Tracer');
  if (meter !== undefined && typeof meter.createCounter !== 'function') throw new ConfigurationError('telemetry.meter', 'must be an OpenTelemetry Meter');
  return telemetry as TelemetryOptions;
}

/** RFC 8705: the mTLS methods authenticate with the certificate of the token requests' https agent. */
function resolveHttpsAgent(agent: unknown, clientAuth: string): HttpsAgent | undefined {
  const mtls = clientAuth === 'tls_client_auth' || clientAuth === 'self_signed_tls_client_auth';
  if (agent === undefined) {
    if (mtls) throw new ConfigurationError('tokenRequest.httpsAgent', `is required for clientAuth "${clientAuth}": an https.Agent with the client certificate (cert and key)`);
    return undefined;
  }
  if (!(agent instanceof HttpsAgent)) throw new ConfigurationError('tokenRequest.httpsAgent', 'must be an https.Agent');
  if (mtls && (agent.options.cert === undefined || agent.options.key === undefined) && agent.options.pfx === undefined) {
    throw new ConfigurationError('tokenRequest.httpsAgent', `must carry the client certificate (cert and key, or pfx) for clientAuth "${clientAuth}"`);
  }
  return agent;
}

/** True for an absolute http(s) URL that may carry credentials: https, loopback http, or http with allowInsecureHttp. */
function isUsableUrl(value: string, allowInsecureHttp: boolean): boolean {
  try {
    requireUrl(value, 'url', allowInsecureHttp);
    return true;
  } catch {
    return false;
  }
}

function requireUrl(value: unknown, option: string, allowInsecureHttp: boolean): string {
  if (typeof value !== 'string') throw new ConfigurationError(option, 'must be an absolute http(s) URL string');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigurationError(option, 'must be an absolute http(s) URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ConfigurationError(option, 'must be an http(s) URL');
  if (url.protocol === 'http:' && !allowInsecureHttp && !isLoopbackHost(url.hostname)) {
    throw new ConfigurationError(option, 'uses plain http to a host that is not loopback; use https, or set allowInsecureHttp: true');
  }
  return value;
}

function resolveGrant(grant: Grant | undefined): Grant {
  if (grant === undefined) return { type: 'client_credentials' };
  if (grant === null || typeof grant !== 'object') throw new ConfigurationError('grant', 'must be an object with a type');
  switch (grant.type) {
    case 'client_credentials':
      return { type: 'client_credentials' };
    case 'password':
      requireString(grant.username, 'grant.username');
      requireString(grant.password, 'grant.password');
      return { type: 'password', username: grant.username, password: grant.password };
    case 'refresh_token':
      requireString(grant.refreshToken, 'grant.refreshToken');
      return { type: 'refresh_token', refreshToken: grant.refreshToken };
    case 'authorization_code': {
      requireString(grant.code, 'grant.code');
      requireString(grant.redirectUri, 'grant.redirectUri');
      if (grant.codeVerifier !== undefined) requireString(grant.codeVerifier, 'grant.codeVerifier');
      const resolved: Grant = { type: 'authorization_code', code: grant.code, redirectUri: grant.redirectUri };
      if (grant.codeVerifier !== undefined) resolved.codeVerifier = grant.codeVerifier;
      return resolved;
    }
    default:
      throw new ConfigurationError('grant.type', 'must be one of client_credentials, password, refresh_token, authorization_code');
  }
}

function resolveScope(scope: string | readonly string[] | undefined): string | undefined {
  if (scope === undefined) return undefined;
  if (typeof scope === 'string') return scope;
  if (Array.isArray(scope) && scope.every((item) => typeof item === 'string' && item !== '' && !/\s/.test(item))) return scope.join(' ');
  throw new ConfigurationError('scope', 'must be a string or an array of scope tokens without spaces');
}

function resolveStatusCodes(codes: readonly number[] | undefined): ReadonlySet<number> {
  if (codes === undefined) return new Set([401]);
  if (!Array.isArray(codes) || !codes.every((code) => Number.isInteger(code) && code >= 400 && code <= 599)) {
    throw new ConfigurationError('retryStatusCodes', 'must be an array of HTTP error statuses such as [401]');
  }
  return new Set(codes);
}

function resolveOrigins(
  instance: AxiosInstance,
  origins: readonly string[] | undefined,
  defaultOrigins: readonly string[] | undefined,
  allowInsecureHttp: boolean,
): ReadonlySet<string> {
  if (origins === undefined) {
    const baseURL = instance.defaults.baseURL;
    if (typeof baseURL === 'string' && baseURL !== '') {
      return new Set([originOf(baseURL, 'origins (taken from the instance baseURL)', allowInsecureHttp)]);
    }
    if (defaultOrigins === undefined) {
      throw new ConfigurationError('origins', 'is required when the Axios instance has no baseURL: list where the token may go, e.g. ["https://api.example.com"]');
    }
    return listOrigins(defaultOrigins, 'defaultOrigins', allowInsecureHttp);
  }
  return listOrigins(origins, 'origins', allowInsecureHttp);
}

function listOrigins(origins: readonly string[], option: string, allowInsecureHttp: boolean): ReadonlySet<string> {
  if (!Array.isArray(origins) || origins.length === 0) throw new ConfigurationError(option, 'must be a non-empty array of origins such as ["https://api.example.com"]');
  return new Set(origins.map((origin, index) => originOf(origin, `${option}[${index}]`, allowInsecureHttp)));
}

function originOf(value: unknown, option: string, allowInsecureHttp: boolean): string {
  return new URL(requireUrl(value, option, allowInsecureHttp)).origin;
}

function requireString(value: unknown, option: string): asserts value is string {
  if (typeof value !== 'string' || value === '') throw new ConfigurationError(option, 'must be a non-empty string');
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[], option: string): T {
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  throw new ConfigurationError(option, `must be one of ${allowed.map((item) => `"${item}"`).join(', ')}`);
}

function stringRecord(value: unknown, option: string): Record<string, string> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new ConfigurationError(option, 'must be an object of string values');
  const record: Record<string, string> = {};
  for (const [name, item] of Object.entries(value)) {
    if (typeof item !== 'string') throw new ConfigurationError(`${option}.${name}`, 'must be a string');
    record[name] = item;
  }
  return record;
}

function optionalBoolean(value: unknown, option: string): boolean | undefined {
  if (value === undefined || typeof value === 'boolean') return value;
  throw new ConfigurationError(option, 'must be true or false');
}

function positiveNumber(value: unknown, option: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'number' && Number.isFinite(value) && value > 0) return value;
  throw new ConfigurationError(option, 'must be a positive number');
}

function nonNegativeNumber(value: unknown, option: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return value;
  throw new ConfigurationError(option, 'must be a number of zero or more');
}

function nonNegativeInteger(value: unknown, option: string): number | undefined {
  const number = nonNegativeNumber(value, option);
  if (number !== undefined && !Number.isInteger(number)) throw new ConfigurationError(option, 'must be a whole number');
  return number;
}
