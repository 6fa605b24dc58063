// The options of attachUserAuth, documented field by field, and their validation:
// the client-wide part reuses attachAuth's (resolveOptions), the per-user part
// (the user token store, the working-set bounds) is checked here.

import type { AxiosInstance, InternalAxiosRequestConfig } from 'axios';
import { ConfigurationError, type AuthError, type LoginRequiredError } from './errors.js';
import type { AttachAuthOptions } from './options.js';
import { resolveOptions, type ResolvedOptions } from './resolve-options.js';
import { MemoryUserTokenStore } from './stores/memory-user-token-store.js';
import type { UserTokenStore } from './stores/user-token-store.js';
import type { TokenSet } from './token-set.js';
import { clientIdentity } from './user-subject.js';

/** Callbacks for metrics and logs; `subject` is the app's own name for the user (keep it out of logs if it is a session id). */
export interface UserAuthEvents {
  /** A user's new token set arrived (from the token endpoint, the store or signIn). */
  onToken?: (tokenSet: TokenSet, subject: string) => void;
  /** A user's refresh failed; that user's held requests reject with this same error. */
  onRefreshError?: (error: AuthError, subject: string) => void;
  /** A user must sign in again (no token set, or the provider refused their grant); their token set is forgotten. */
  onLoginRequired?: (error: LoginRequiredError, subject: string) => void;
  /** A request is about to be replayed after a 401. */
  onReplay?: (config: InternalAxiosRequestConfig) => void;
}

/** The options of `attachUserAuth`: those of attachAuth that describe the client, plus where users' token sets live. */
export interface AttachUserAuthOptions
  extends Pick<
    AttachAuthOptions,
    | 'tokenUrl'
    | 'clientId'
    | 'clientSecret'
    | 'scope'
    | 'tokenRequest'
    | 'refreshWindow'
    | 'defaultExpiresIn'
    | 'retryStatusCodes'
    | 'origins'
    | 'defaultOrigins'
    | 'allowInsecureHttp'
    | 'revocationUrl'
    | 'retry'
    | 'logger'
    | 'clock'
  > {
  /**
   * Where users' token sets live: `new MemoryUserTokenStore()` (the default; this process only),
   * `new RedisTokenStore({ client, encryptionKey })` (every worker, encrypted at rest, a lock per user)
   * or `new SessionUserTokenStore()` (the user's own session).
   */
  tokens?: UserTokenStore;
  /**
   * The most users whose token sets this process keeps ready in memory (the working set; the
   * store keeps the rest and is read again when they come back). Default 10000.
   */
  maxUsers?: number;
  /** Seconds after which an idle user leaves the working set (not the store). Checked lazily. Default 1800. */
  idleTimeout?: number;
  /** Callbacks for metrics. */
  events?: UserAuthEvents;
}

export interface ResolvedUserOptions {
  client: ResolvedOptions;
  identity: string;
  tokens: UserTokenStore;
  maxUsers: number;
  idleMs: number;
  events: UserAuthEvents;
}

/** Validates the options once, at attach time; every problem is a ConfigurationError naming the option. */
export function resolveUserOptions(instance: AxiosInstance, options: AttachUserAuthOptions): ResolvedUserOptions {
  if (options === null || typeof options !== 'object') throw new ConfigurationError('options', 'must be an object');
  if ('grant' in options || 'store' in options) {
    throw new ConfigurationError(
      'grant' in options ? 'grant' : 'store',
      'is not an attachUserAuth option: each user brings their own grant through handle.signIn(), and their token sets live in `tokens` (a user token store)',
    );
  }
  // Only the client's options go to attachAuth's validation; the per-user ones are checked below.
  const { tokens: _tokens, maxUsers: _maxUsers, idleTimeout: _idleTimeout, events: _events, ...clientOptions } = options;
  const client = resolveOptions(instance, clientOptions);
  const tokens = options.tokens ?? new MemoryUserTokenStore();
  if (tokens === null || typeof tokens !== 'object' || typeof tokens.get !== 'function' || typeof tokens.set !== 'function' || typeof tokens.delete !== 'function') {
    throw new ConfigurationError('tokens', 'must implement get, set and delete (the UserTokenStore interface)');
  }
  const maxUsers = options.maxUsers ?? 10_000;
  if (!Number.isInteger(maxUsers) || maxUsers < 1) throw new ConfigurationError('maxUsers', 'must be a whole number of 1 or more');
  const idleTimeout = options.idleTimeout ?? 1800;
  if (typeof idleTimeout !== 'number' || !(idleTimeout > 0)) throw new ConfigurationError('idleTimeout', 'must be a positive number of seconds');
  const events = options.events ?? {};
  if (typeof events !== 'object' || events === null) throw new ConfigurationError('events', 'must be an object of callbacks');
  const { tokenUrl, clientId, params } = client.endpoint;
  return { client, identity: clientIdentity(tokenUrl, clientId, client.scope, params), tokens, maxUsers, idleMs: idleTimeout * 1000, events };
}
