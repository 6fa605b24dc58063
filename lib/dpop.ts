// DPoP (RFC 9449): proves possession of a key with every token request and
// every API request, so that a stolen access token is useless without it.
// One DPoP object per handle holds the key, makes each proof (a new jti every
// time, so a replay or a nonce retry never reuses one) and remembers the
// server nonces (RFC 9449 §8, §9) per origin.

import { createPublicKey, generateKeyPairSync, type JsonWebKey } from 'node:crypto';
import { ConfigurationError } from './errors.js';
import type { DPoPOptions } from './options.js';
import { resolveSigningKey, type SigningKey } from './signing-key.js';

/** The request a proof is made for. */
export interface ProofTarget {
  /** The HTTP method, upper case. */
  htm: string;
  /** The request URL; its query and fragment are dropped (RFC 9449 §4.2). */
  url: string;
  /** For a request to a protected resource: the access token, hashed into `ath`. */
  accessToken?: string | undefined;
}

/** Keeps the proof key and the nonces servers have handed out. */
export class DPoP {
  readonly #key: SigningKey;
  readonly #publicJwk: JsonWebKey;
  readonly #now: () => number;
  readonly #nonces = new Map<string, string>();

  constructor(key: SigningKey, now: () => number) {
    this.#key = key;
    this.#now = now;
    // Only the public members: the header must never carry the private key (RFC 9449 §4.2).
    const jwk = createPublicKey(key.key).export({ format: 'jwk' });
    const publicMembers: JsonWebKey = {};
    for (const name of ['kty', 'crv', 'x', 'y', 'n', 'e'] as const) if (jwk[name] !== undefined) publicMembers[name] = jwk[name];
    this.#publicJwk = publicMembers;
  }

  /** The JWS algorithm of the proofs. */
  get alg(): string {
    return this.#key.alg;
  }

  /** A new proof for one request, carrying the nonce last seen from its origin. */
  async proof(target: ProofTarget): Promise<string> {
    // The signing code (and jose) is a chunk of its own, loaded by the first proof.
    const { signDPoPProof } = await import('./jwt-signing.js');
    return signDPoPProof(target, { key: this.#key, publicJwk: this.#publicJwk, now: this.#now, nonceFor: (origin) => this.#nonces.get(origin) });
  }

  /** Remembers a `DPoP-Nonce` header value for the origin of `url`; true when it is a new nonce. */
  rememberNonce(url: string, header: unknown): boolean {
    if (typeof header !== 'string' || !/^[\x21\x23-\x5B\x5D-\x7E]{1,1024}$/.test(header)) return false;
    const origin = new URL(url).origin;
    if (this.#nonces.get(origin) === header) return false;
    this.#nonces.set(origin, header);
    return true;
  }
}

/** A response header by name, whatever its case (axios lower-cases, adapters and mocks may not). */
export function headerOf(headers: unknown, name: string): unknown {
  if (headers === null || typeof headers !== 'object') return undefined;
  const record = headers as Record<string, unknown>;
  if (name in record) return record[name];
  const key = Object.keys(record).find((candidate) => candidate.toLowerCase() === name);
  return key === undefined ? undefined : record[key];
}

/** RFC 9449 §8: the token endpoint asks for a nonce with a 400 `use_dpop_nonce` error body. */
export function isTokenEndpointNonceError(status: number, body: string): boolean {
  if (status !== 400) return false;
  try {
    return (JSON.parse(body) as { error?: unknown }).error === 'use_dpop_nonce';
  } catch {
    return false;
  }
}

/** RFC 9449 §9: a resource server asks for a nonce with a 401 and a DPoP challenge naming `use_dpop_nonce`. */
export function isResourceNonceChallenge(status: number, challenge: unknown): boolean {
  return status === 401 && typeof challenge === 'string' && /(^|,|\s)DPoP\s[^]*error\s*=\s*"?use_dpop_nonce"?/i.test(challenge);
}

/** Validates `dpop` at attach time: `true` generates an ES256 key pair; `{ key, alg }` uses the client's own. */
export function resolveDPoP(options: boolean | DPoPOptions | undefined, now: () => number): DPoP | undefined {
  if (options === undefined || options === false) return undefined;
  if (options === true) return new DPoP(generatedKey(), now);
  if (options === null || typeof options !== 'object') throw new ConfigurationError('dpop', 'must be true or an object such as { key }');
  if (options.key === undefined) {
    if (options.alg !== undefined && options.alg !== 'ES256') throw new ConfigurationError('dpop.alg', 'can only be ES256 for a generated key; give dpop.key for another algorithm');
    return new DPoP(generatedKey(), now);
  }
  return new DPoP(resolveSigningKey(options.key, options.alg, undefined, 'dpop.key'), now);
}

/** A P-256 key pair made for this handle: proofs need no registered key, only one kept for the tokens' life. */
function generatedKey(): SigningKey {
  return { key: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, alg: 'ES256', kid: undefined };
}
