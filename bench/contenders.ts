// The clients compared: bare axios with a static token (the floor),
// axios-auth-refresh 5 set up as its README shows (with its defaults, and with
// deduplicateRefresh: false), and axios-oauth-queue with its defaults.

import http from 'node:http';
import axios, { type AxiosInstance } from 'axios';
import { createAuthRefresh } from 'axios-auth-refresh';
import { attachAuth, type AuthHandle } from '../lib/index.js';

export const CONTENDERS = ['bare axios', 'axios-auth-refresh', 'axios-auth-refresh (no dedup)', 'axios-oauth-queue'] as const;
/**
 * A reference for the overhead scenario: bare axios plus a request interceptor
 * that returns the config untouched and a response interceptor that passes
 * errors on. axios runs a request through a promise chain as soon as any
 * request interceptor is not `synchronous`, and each response interceptor adds
 * a step to it: this is the floor for every client that attaches a token in a
 * request interceptor and replays in a response interceptor.
 */
export const NO_OP_INTERCEPTOR = 'axios + no-op interceptors';
export type ContenderName = (typeof CONTENDERS)[number] | typeof NO_OP_INTERCEPTOR;
/** The contenders that renew tokens (bare axios cannot: its header is fixed). */
export const REFRESHING: readonly ContenderName[] = ['axios-auth-refresh', 'axios-auth-refresh (no dedup)', 'axios-oauth-queue'];

export const CLIENT_ID = 'bench-client';
export const CLIENT_SECRET = 'bench-secret-not-a-real-one';

export interface ContenderOptions {
  /** Origin of the loopback server, e.g. http://127.0.0.1:43123 */
  origin: string;
  /** Timeout of token requests, ms (axios-oauth-queue's tokenRequest.timeout; the same for axios-auth-refresh's token client). */
  tokenTimeoutMs?: number;
}

export interface Contender {
  readonly name: ContenderName;
  readonly instance: AxiosInstance;
  readonly agent: http.Agent;
  /** axios-oauth-queue's handle, for its own counters. */
  readonly handle?: AuthHandle;
  /** Sends one request so that the contender holds a valid token before a measurement starts. */
  warm(): Promise<void>;
  dispose(): void;
}

/** Every contender gets its own keep-alive agent; 256 sockets at most so that storms of 10,000 stay within file limits. */
function newAgent(): http.Agent {
  return new http.Agent({ keepAlive: true, maxSockets: 256 });
}

function tokenForm(): string {
  return new URLSearchParams({ grant_type: 'client_credentials', client_id: CLIENT_ID, client_secret: CLIENT_SECRET }).toString();
}

export async function createContender(name: ContenderName, options: ContenderOptions): Promise<Contender> {
  const agent = newAgent();
  const baseURL = `${options.origin}/api`;
  const tokenUrl = `${options.origin}/token`;
  const warmWith = (instance: AxiosInstance) => async (): Promise<void> => {
    await instance.get('/warm');
  };

  switch (name) {
    case 'bare axios':
    case NO_OP_INTERCEPTOR: {
      const tokenClient = axios.create({ httpAgent: agent });
      const answer = await tokenClient.post<{ access_token: string }>(tokenUrl, tokenForm(), {
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      const instance = axios.create({ baseURL, httpAgent: agent, headers: { Authorization: `Bearer ${answer.data.access_token}` } });
      if (name === NO_OP_INTERCEPTOR) {
        instance.interceptors.request.use((request) => request);
        instance.interceptors.response.use(undefined, (error: unknown) => Promise.reject(error));
      }
      return { name, instance, agent, warm: warmWith(instance), dispose: () => agent.destroy() };
    }
    case 'axios-auth-refresh':
    case 'axios-auth-refresh (no dedup)': {
      const instance = axios.create({ baseURL, httpAgent: agent });
      // The README's shape: a refresh function that fetches a token on another
      // client, stores it, and sets it on the failed request; a request
      // interceptor that reads the stored token for every request.
      const tokenClient = axios.create({ httpAgent: agent, ...(options.tokenTimeoutMs === undefined ? {} : { timeout: options.tokenTimeoutMs }) });
      let accessToken: string | undefined;
      const refreshAuthLogic = (failedRequest: { response: { config: { headers: Record<string, string> } } }): Promise<void> =>
        tokenClient
          .post<{ access_token: string }>(tokenUrl, tokenForm(), { headers: { 'content-type': 'application/x-www-form-urlencoded' } })
          .then((tokenRefreshResponse) => {
            accessToken = tokenRefreshResponse.data.access_token;
            failedRequest.response.config.headers['Authorization'] = `Bearer ${accessToken}`;
          });
      // axios-auth-refresh's types resolve axios's CommonJS declarations; the instance is the same object.
      createAuthRefresh(instance as unknown as Parameters<typeof createAuthRefresh>[0], refreshAuthLogic, name === 'axios-auth-refresh' ? {} : { deduplicateRefresh: false });
      instance.interceptors.request.use((request) => {
        request.headers['Authorization'] = `Bearer ${accessToken}`;
        return request;
      });
      return { name, instance, agent, warm: warmWith(instance), dispose: () => agent.destroy() };
    }
    case 'axios-oauth-queue': {
      const instance = axios.create({ baseURL, httpAgent: agent });
      const handle = attachAuth(instance, {
        tokenUrl,
        clientId: CLIENT_ID,
        clientSecret: CLIENT_SECRET,
        ...(options.tokenTimeoutMs === undefined ? {} : { tokenRequest: { timeout: options.tokenTimeoutMs } }),
      });
      return {
        name,
        instance,
        agent,
        handle,
        warm: warmWith(instance),
        dispose: () => {
          handle.detach();
          agent.destroy();
        },
      };
    }
  }
}
