// A TokenStore in Redis, so that many processes share one token set and one
// token request (the lock of TokenStore.acquire). Works with the client the
// application already has, ioredis or node-redis, single node or Redis Cluster,
// told apart by duck typing: the package never imports either.

import { createCipheriv, createDecipheriv, createHash, randomBytes, scryptSync } from 'node:crypto';
import { ConfigurationError } from '../errors.js';
import { describeStoreError, type StoredTokenSet, type TokenStore, type TokenStoreLock } from './token-store.js';

/**
 * The commands the store needs from a Redis client. An ioredis `Redis` or `Cluster` (v5, v6),
 * and a connected node-redis client (`createClient()` or `createCluster()`, v4 to v6) fit.
 */
export interface RedisClientLike {
  /** `GET key`. */
  get(key: string): Promise<unknown>;
  /** `SET key value [PX ms] [NX]`, in the client's own argument style. */
  set(...args: never[]): Promise<unknown>;
  /** `DEL key`. */
  del(...args: never[]): Promise<unknown>;
  /** `EVAL script …`: the lock's owner-only release and extension. */
  eval(...args: never[]): Promise<unknown>;
}

/** The options of `new RedisTokenStore(options)`. */
export interface RedisTokenStoreOptions {
  /**
   * A Redis client: ioredis (`new Redis(url)`, `new Cluster(nodes)`) or node-redis
   * (`createClient({ url })`, `createCluster({ rootNodes })`, connected).
   * Give node-redis an `error` listener: without one it throws when the connection drops.
   */
  client: RedisClientLike;
  /**
   * Prepended to every key the store writes. Default `'axios-oauth-queue:'`; e.g. `'billing:tokens:'`.
   * No braces: the store puts a Redis Cluster hash tag after it (`<prefix>{<token hash>}`).
   */
  prefix?: string;
  /**
   * Encrypts token sets at rest with AES-256-GCM: a 32-byte key (Buffer, Uint8Array), or a
   * passphrase string from which a key is derived (scrypt). Every process must use the same one.
   * Values that do not decrypt with it are treated as absent, with one warning (`onWarning`)
   * naming the key id (a short SHA-256 fingerprint of the key, never the key). Default: none (JSON in clear).
   */
  encryptionKey?: string | Uint8Array;
  /**
   * Milliseconds between reads of a process that waits for another process's token request
   * (it also retries the lock at each read, so it takes over as soon as the lock lapses).
   * Default 100; e.g. `25` for a faster takeover at the cost of more Redis reads while waiting.
   */
  pollInterval?: number;
  /**
   * Where the store reports values it cannot read (another `encryptionKey`, a corrupted value):
   * once per store and kind of problem, with no key and no value in the message.
   * Default: `process.emitWarning`. E.g. `(message) => logger.warn(message)`.
   */
  onWarning?: (message: string) => void;
  /**
   * Milliseconds a Redis command may take before the store gives up on it and the process
   * falls back to its own cache and token request. Default 500.
   */
  commandTimeout?: number;
}

/** Thrown by the store when Redis does not answer in time or is not connected; it names no key and no value. */
export class TokenStoreUnavailableError extends Error {
  /** The class name, `TokenStoreUnavailableError`. */
  override name = 'TokenStoreUnavailableError';
  /** `ETIMEDOUT` (no answer within `commandTimeout`) or `ENOTCONNECTED`. */
  readonly code: string;

  /** Made by the store; the message names the command, never a key or a value. */
  constructor(code: 'ETIMEDOUT' | 'ENOTCONNECTED', message: string) {
    super(message);
    this.code = code;
  }
}

/** The prefix token-identity.ts puts on every token key; the store's own prefix replaces it. */
const IDENTITY_PREFIX = 'axios-oauth-queue:';
/** v2 values name the key id that sealed them; v1 values (no key id) are still read. */
const FORMAT_VERSION = 'v2';

// Deletes or extends the lock only while it still holds our random value: a lock that
// expired and was taken by another process is never released or extended by us.
const RELEASE_SCRIPT = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";
const EXTEND_SCRIPT = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end";
// The compare-and-set of the TokenStore contract: the generation leads the value in clear
// ("<generation>|<payload>"), so the script can compare it without the encryption key. A value
// of the same or a higher generation stays; a value without one (an older format) is replaced.
const WRITE_IF_NEWER_SCRIPT = [
  "local kept = redis.call('get', KEYS[1])",
  "if kept then local g = tonumber(string.match(kept, '^(%d+)|')) if g and g >= tonumber(ARGV[2]) then return 0 end end",
  "if ARGV[3] == '' then redis.call('set', KEYS[1], ARGV[1]) else redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[3]) end",
  'return 1',
].join('\n');
const GENERATION_HEADER = /^(\d+)\|/;

/** The two calling conventions, reduced to what the store sends. */
interface RedisDialect {
  isDisconnected(): boolean;
  get(key: string): Promise<unknown>;
  set(key: string, value: string, ttlMs: number | undefined, onlyIfAbsent: boolean): Promise<unknown>;
  del(key: string): Promise<unknown>;
  eval(script: string, key: string, args: string[]): Promise<unknown>;
}

/**
 * Keeps token sets in Redis and offers the cross-process lock that makes one
 * process fetch while the others wait for its token set.
 *
 * @example
 * import { Redis } from 'ioredis';
 * const store = new RedisTokenStore({ client: new Redis(process.env.REDIS_URL), encryptionKey: process.env.TOKEN_STORE_KEY });
 * attachAuth(api, { tokenUrl, clientId, clientSecret, store });
 */
export class RedisTokenStore implements TokenStore {
  /** How often a waiting process re-reads the store, ms. */
  readonly pollInterval: number;
  readonly #redis: RedisDialect;
  readonly #prefix: string;
  readonly #key: Buffer | undefined;
  /** A short fingerprint of the encryption key, safe to log: it names the key without revealing it. */
  readonly #keyId: string | undefined;
  readonly #commandTimeout: number;
  readonly #onWarning: (message: string) => void;
  /** The kinds of unreadable value already reported: one warning each, not one per read. */
  readonly #warned = new Set<string>();

  /** A store on the application's own Redis client; see `RedisTokenStoreOptions`. */
  constructor(options: RedisTokenStoreOptions) {
    if (options === null || typeof options !== 'object') throw new ConfigurationError('RedisTokenStore options', 'must be an object with a client');
    this.#redis = dialectOf(options.client);
    this.#prefix = options.prefix ?? IDENTITY_PREFIX;
    if (typeof this.#prefix !== 'string') throw new ConfigurationError('RedisTokenStore prefix', 'must be a string');
    if (/[{}]/.test(this.#prefix)) {
      // A brace in the prefix would move or empty the hash tag, and a token's keys could land in different cluster slots.
      throw new ConfigurationError('RedisTokenStore prefix', 'must not contain { or } (the store puts the Redis Cluster hash tag after the prefix)');
    }
    this.pollInterval = positive(options.pollInterval, 'pollInterval') ?? 100;
    this.#commandTimeout = positive(options.commandTimeout, 'commandTimeout') ?? 500;
    this.#key = options.encryptionKey === undefined ? undefined : encryptionKeyOf(options.encryptionKey);
    this.#keyId = this.#key === undefined ? undefined : keyIdOf(this.#key);
    if (options.onWarning !== undefined && typeof options.onWarning !== 'function') throw new ConfigurationError('RedisTokenStore onWarning', 'must be a function');
    this.#onWarning = options.onWarning ?? ((message) => process.emitWarning(message, { code: 'AXIOS_OAUTH_QUEUE_STORE_VALUE' }));
  }

  async get(key: string): Promise<StoredTokenSet | undefined> {
    const redisKey = this.#redisKey(key);
    const value = await this.#run(() => this.#redis.get(redisKey));
    if (typeof value !== 'string') return undefined;
    return this.#decode(redisKey, value);
  }

  /**
   * With `value.generation`: writes only if the generation kept under `key` is lower (a Lua
   * compare-and-set, atomic in Redis) and answers whether it wrote. Without: writes.
   */
  async set(key: string, value: StoredTokenSet, ttlMs?: number): Promise<boolean> {
    const redisKey = this.#redisKey(key);
    const ttl = ttlMs === undefined ? undefined : Math.max(1, Math.ceil(ttlMs));
    const encoded = this.#encode(redisKey, value);
    const { generation } = value;
    if (generation === undefined) {
      await this.#run(() => this.#redis.set(redisKey, encoded, ttl, false));
      return true;
    }
    const written = await this.#run(() => this.#redis.eval(WRITE_IF_NEWER_SCRIPT, redisKey, [`${generation}|${encoded}`, String(generation), ttl === undefined ? '' : String(ttl)]));
    return written === 1;
  }

  async delete(key: string): Promise<void> {
    const redisKey = this.#redisKey(key);
    await this.#run(() => this.#redis.del(redisKey));
  }

  /**
   * Takes the lock on `key` (`SET NX PX` with a random value), or answers undefined when
   * another process holds it. The lock is extended while held, so a long token request with
   * retries keeps it; if this process dies it expires `ttlMs` later at most.
   */
  async acquire(key: string, ttlMs: number): Promise<TokenStoreLock | undefined> {
    const lockKey = this.#redisKey(key, ':lock');
    const owner = randomBytes(16).toString('base64url');
    const ttl = Math.max(1, Math.ceil(ttlMs));
    let answer: unknown;
    try {
      answer = await this.#run(() => this.#redis.set(lockKey, owner, ttl, true));
    } catch (error) {
      // A stalled Redis still runs the SET when it wakes, and the lock would then belong to
      // nobody. Sent on the same connection, this compare-and-delete runs after that SET.
      if (error instanceof TokenStoreUnavailableError && error.code === 'ETIMEDOUT') {
        this.#redis.eval(RELEASE_SCRIPT, lockKey, [owner]).catch(() => {
          // The connection is gone: so is the SET queued on it, or it lapses after ttl.
        });
      }
      throw error;
    }
    if (answer !== 'OK') return undefined;
    let lost = false;
    const renewal = setInterval(() => {
      this.#run(() => this.#redis.eval(EXTEND_SCRIPT, lockKey, [owner, String(ttl)])).then(
        (extended) => {
          if (extended !== 1) lost = true;
        },
        () => {
          // Not renewed in time: another process may take the lock once it lapses.
          lost = true;
        },
      );
    }, Math.max(1, Math.floor(ttl / 3)));
    renewal.unref();
    let released = false;
    return {
      get lost() {
        return lost;
      },
      release: async () => {
        if (released) return;
        released = true;
        clearInterval(renewal);
        await this.#run(() => this.#redis.eval(RELEASE_SCRIPT, lockKey, [owner]));
      },
    };
  }

  /**
   * `<prefix>{<token hash>}<suffix>`. The braces are a Redis Cluster hash tag: every key of one
   * token identity (its token set, its lock, whatever a script touches with them) hashes to one
   * slot, so a script over several of them runs on one node.
   */
  #redisKey(key: string, suffix = ''): string {
    const identity = key.startsWith(IDENTITY_PREFIX) ? key.slice(IDENTITY_PREFIX.length) : key;
    // Token hashes are base64url; a key of another shape must not end the tag early or leave it empty.
    const tag = identity.replace(/[%{}]/g, (character) => encodeURIComponent(character));
    return `${this.#prefix}{${tag === '' ? '%' : tag}}${suffix}`;
  }

  /** Every command is bounded: a Redis that is away or slow must never hold a request for long. */
  #run<T>(command: () => Promise<T>): Promise<T> {
    if (this.#redis.isDisconnected()) {
      return Promise.reject(new TokenStoreUnavailableError('ENOTCONNECTED', 'the Redis client is not connected'));
    }
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const timer = setTimeout(() => {
        // A busy event loop runs expired timers before it reads sockets: give an answer that is
        // already waiting one turn of the loop, so a stall here is not taken for Redis being away.
        setImmediate(() => {
          if (settled) return;
          settled = true;
          reject(new TokenStoreUnavailableError('ETIMEDOUT', `Redis did not answer within ${this.#commandTimeout} ms`));
        });
      }, this.#commandTimeout);
      timer.unref();
      command().then(
        (value) => {
          clearTimeout(timer);
          if (settled) return;
          settled = true;
          resolve(value);
        },
        (error: unknown) => {
          clearTimeout(timer);
          if (settled) return;
          settled = true;
          reject(error);
        },
      );
    });
  }

  #encode(redisKey: string, value: StoredTokenSet): string {
    const json = JSON.stringify({ tokenSet: value.tokenSet, receivedAt: value.receivedAt, generation: value.generation });
    if (this.#key === undefined || this.#keyId === undefined) return json;
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    // The key is authenticated too: a value copied under another key does not decrypt.
    cipher.setAAD(Buffer.from(redisKey));
    const sealed = Buffer.concat([cipher.update(json, 'utf8'), cipher.final()]);
    return [FORMAT_VERSION, this.#keyId, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), sealed.toString('base64url')].join('.');
  }

  #decode(redisKey: string, value: string): StoredTokenSet | undefined {
    const header = GENERATION_HEADER.exec(value);
    const body = header === null ? value : value.slice(header[0].length);
    let json = body;
    if (this.#key !== undefined) {
      const parts = body.split('.');
      // v1 values (before key ids) have no key id: iv, tag, sealed follow the version.
      const [version, keyId, iv, tag, sealed] = parts.length === 4 ? [parts[0], undefined, parts[1], parts[2], parts[3]] : parts;
      if ((version !== FORMAT_VERSION && version !== 'v1') || iv === undefined || tag === undefined || sealed === undefined) {
        this.#warn('clear', `a stored token set is not encrypted, but this store has encryptionKey ${this.#keyId}; reading it as absent (the next token request replaces it)`);
        return undefined;
      }
      try {
        const decipher = createDecipheriv('aes-256-gcm', this.#key, Buffer.from(iv, 'base64url'));
        decipher.setAAD(Buffer.from(redisKey));
        decipher.setAuthTag(Buffer.from(tag, 'base64url'));
        json = Buffer.concat([decipher.update(Buffer.from(sealed, 'base64url')), decipher.final()]).toString('utf8');
      } catch (error) {
        // Another key, or tampered with: as if absent, so a new token set replaces it.
        const writer = keyId === undefined || keyId === this.#keyId ? 'a value that is corrupted or written with another key' : `a value written with encryptionKey ${keyId}`;
        this.#warn(`key:${keyId ?? ''}`, `a stored token set does not decrypt with encryptionKey ${this.#keyId} (${writer}; ${describeStoreError(error)}); reading it as absent. Give every process the same encryptionKey`);
        return undefined;
      }
    }
    const parsed = parseStored(json);
    if (parsed === undefined) {
      const hint = this.#key === undefined && json.startsWith('v') ? 'it looks encrypted, and this store has no encryptionKey' : 'it is not a token set this version wrote';
      this.#warn('unreadable', `a stored token set could not be read (${hint}); reading it as absent`);
      return undefined;
    }
    if (header !== null) parsed.generation = Number(header[1]);
    return parsed;
  }

  #warn(kind: string, message: string): void {
    if (this.#warned.has(kind)) return;
    this.#warned.add(kind);
    this.#onWarning(`RedisTokenStore: ${message}`);
  }
}

/** A fingerprint that names an encryption key in warnings and stored values: 8 hex digits of SHA-256, never the key. */
function keyIdOf(key: Buffer): string {
  return createHash('sha256').update('axios-oauth-queue/key-id').update(key).digest('hex').slice(0, 8);
}

function parseStored(json: string): StoredTokenSet | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return undefined;
  }
  if (parsed === null || typeof parsed !== 'object') return undefined;
  const { tokenSet, receivedAt } = parsed as { tokenSet?: unknown; receivedAt?: unknown };
  if (tokenSet === null || typeof tokenSet !== 'object' || typeof (tokenSet as { accessToken?: unknown }).accessToken !== 'string') return undefined;
  if (typeof receivedAt !== 'number') return undefined;
  const { generation } = parsed as { generation?: unknown };
  const stored: StoredTokenSet = { tokenSet: tokenSet as StoredTokenSet['tokenSet'], receivedAt };
  if (typeof generation === 'number' && Number.isSafeInteger(generation)) stored.generation = generation;
  return stored;
}

/** ioredis `Redis` and `Cluster`: `set(key, value, 'PX', ms, 'NX')`, `eval(script, numKeys, ...keysAndArgs)`, `status`. */
interface IoRedisClient {
  status: string;
  get(key: string): Promise<unknown>;
  set(key: string, value: string, ...options: (string | number)[]): Promise<unknown>;
  del(key: string): Promise<unknown>;
  eval(script: string, numKeys: number, ...keysAndArgs: string[]): Promise<unknown>;
}

/**
 * node-redis v4 to v6 (`createClient`, `createCluster`): `set(key, value, { PX, NX })`,
 * `eval(script, { keys, arguments })`, `isOpen`. `isReady` is missing from the v4/v5
 * cluster client and from the client pool: there `isOpen` alone says it is connected.
 */
interface NodeRedisClient {
  isOpen: boolean;
  isReady?: boolean;
  get(key: string): Promise<unknown>;
  set(key: string, value: string, options?: { PX?: number; NX?: boolean }): Promise<unknown>;
  del(key: string): Promise<unknown>;
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
}

/** A node-redis cluster client (v4 to v6): `sendCommand` takes the key to route by first. */
interface NodeRedisClusterClient {
  nodeClient(node: unknown): unknown;
  sendCommand(firstKey: string, isReadonly: boolean, args: string[]): Promise<unknown>;
}

function isNodeRedisCluster(client: object): client is NodeRedisClusterClient {
  const candidate = client as Partial<Record<'nodeClient' | 'sendCommand', unknown>>;
  return typeof candidate.nodeClient === 'function' && typeof candidate.sendCommand === 'function' && 'masters' in client;
}

/** The ioredis states in which a command does not answer soon ('wait' and 'connecting' queue it until connected). */
const IOREDIS_DOWN = new Set(['reconnecting', 'disconnecting', 'close', 'end']);

function dialectOf(client: unknown): RedisDialect {
  if (client === null || typeof client !== 'object') throw new ConfigurationError('RedisTokenStore client', 'must be an ioredis or node-redis client');
  if (typeof (client as { isOpen?: unknown }).isOpen === 'boolean') {
    return nodeRedisDialect(client as NodeRedisClient, commandsOf(client), isNodeRedisCluster(client) ? client : undefined);
  }
  if (typeof (client as { status?: unknown }).status === 'string') return ioRedisDialect(requireCommands(client) as IoRedisClient);
  requireCommands(client);
  throw new ConfigurationError('RedisTokenStore client', 'is neither an ioredis client (no status) nor a node-redis v4+ client (no isOpen)');
}

/**
 * The object that answers node-redis commands with promises. A v4 client in `legacyMode`
 * answers its own methods with callbacks and keeps the promise API under `client.v4`.
 */
function commandsOf(client: object): NodeRedisClient {
  const options = (client as { options?: { legacyMode?: unknown } }).options;
  if (options?.legacyMode === true) {
    const modern = (client as { v4?: unknown }).v4;
    if (modern === null || typeof modern !== 'object') throw new ConfigurationError('RedisTokenStore client', 'is a node-redis client in legacyMode without its v4 commands');
    return requireCommands(modern) as NodeRedisClient;
  }
  return requireCommands(client) as NodeRedisClient;
}

function requireCommands(client: object): object {
  const candidate = client as Partial<Record<'get' | 'set' | 'del' | 'eval', unknown>>;
  if (typeof candidate.get !== 'function' || typeof candidate.set !== 'function' || typeof candidate.del !== 'function' || typeof candidate.eval !== 'function') {
    throw new ConfigurationError('RedisTokenStore client', 'must have get, set, del and eval (an ioredis or node-redis client)');
  }
  return client;
}

function nodeRedisDialect(state: Pick<NodeRedisClient, 'isOpen' | 'isReady'>, redis: NodeRedisClient, cluster: NodeRedisClusterClient | undefined): RedisDialect {
  return {
    // Not open: connect() was never called or quit() was; open but not ready: reconnecting.
    isDisconnected: () => !state.isOpen || state.isReady === false,
    get: (key) => redis.get(key),
    set: (key, value, ttlMs, onlyIfAbsent) => {
      const options: { PX?: number; NX?: boolean } = {};
      if (ttlMs !== undefined) options.PX = ttlMs;
      if (onlyIfAbsent) options.NX = true;
      return redis.set(key, value, options);
    },
    del: (key) => redis.del(key),
    // node-redis 4's cluster client routes EVAL to a random node (its key lookup reads the script
    // argument) and gives up after a few MOVED replies: name the key to route by ourselves.
    eval: (script, key, args) =>
      cluster === undefined ? redis.eval(script, { keys: [key], arguments: args }) : cluster.sendCommand(key, false, ['EVAL', script, '1', key, ...args]),
  };
}

function ioRedisDialect(redis: IoRedisClient): RedisDialect {
  return {
    isDisconnected: () => IOREDIS_DOWN.has(redis.status),
    get: (key) => redis.get(key),
    set: (key, value, ttlMs, onlyIfAbsent) => {
      const options: (string | number)[] = [];
      if (ttlMs !== undefined) options.push('PX', ttlMs);
      if (onlyIfAbsent) options.push('NX');
      return redis.set(key, value, ...options);
    },
    del: (key) => redis.del(key),
    // `Cluster` routes by the first of the `numKeys` keys, as it does any keyed command.
    eval: (script, key, args) => redis.eval(script, 1, key, ...args),
  };
}

function encryptionKeyOf(key: string | Uint8Array): Buffer {
  if (typeof key === 'string') {
    if (key.length < 16) throw new ConfigurationError('RedisTokenStore encryptionKey', 'as a passphrase must have at least 16 characters');
    return scryptSync(key, 'axios-oauth-queue/redis-token-store', 32);
  }
  if (key instanceof Uint8Array && key.length === 32) return Buffer.from(key);
  throw new ConfigurationError('RedisTokenStore encryptionKey', 'must be a 32-byte Buffer/Uint8Array or a passphrase string');
}

function positive(value: unknown, option: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'number' && Number.isFinite(value) && value > 0) return value;
  throw new ConfigurationError(`RedisTokenStore ${option}`, 'must be a positive number of milliseconds');
}
