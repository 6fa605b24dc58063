// Client authentication with a signed JWT (RFC 7523 §2.2, OpenID Connect Core
// §9): private_key_jwt (the client's private key) and client_secret_jwt (HMAC
// with the client secret). A new assertion, with a new `jti`, is signed for every
// request that authenticates: a retry, a DPoP nonce retry (the server has
// already spent the first `jti`), a revocation or an introspection call.

import { createHash, createSecretKey, X509Certificate, type KeyObject } from 'node:crypto';
import { ConfigurationError } from './errors.js';
import type { ClientAssertionOptions } from './options.js';
import { resolveSigningKey, type SigningKey } from './signing-key.js';

/** RFC 7523 §2.2: the value of `client_assertion_type`. */
export const JWT_BEARER_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** How many assertions sent lately are kept to be scrubbed from what servers answer. */
const RECENT_ASSERTIONS = 8;

export type ClientAssertionSigner =
  | { method: 'private_key_jwt'; signingKey: SigningKey; thumbprints?: CertificateThumbprints | undefined }
  | { method: 'client_secret_jwt'; secret: string; alg: 'HS256' | 'HS384' | 'HS512' };

/** The `x5t` and `x5t#S256` headers (RFC 7515 §4.1.7-8) naming the client's certificate. */
export interface CertificateThumbprints {
  x5t: string;
  'x5t#S256': string;
}

export interface ClientAssertionConfig {
  clientId: string;
  signer: ClientAssertionSigner;
  /** Seconds from `iat` to `exp`. */
  lifetime: number;
  now: () => number;
}

/** Signs client assertions; keeps the last few to scrub them from server answers. */
export class ClientAssertion {
  readonly #config: ClientAssertionConfig;
  readonly #key: KeyObject;
  readonly #alg: string;
  readonly #kid: string | undefined;
  readonly #thumbprints: CertificateThumbprints | undefined;
  readonly #recent: string[] = [];

  constructor(config: ClientAssertionConfig) {
    this.#config = config;
    const { signer } = config;
    if (signer.method === 'private_key_jwt') {
      this.#key = signer.signingKey.key;
      this.#alg = signer.signingKey.alg;
      this.#kid = signer.signingKey.kid;
      this.#thumbprints = signer.thumbprints;
    } else {
      this.#key = createSecretKey(Buffer.from(signer.secret, 'utf8'));
      this.#alg = signer.alg;
      this.#kid = undefined;
      this.#thumbprints = undefined;
    }
  }

  /** `private_key_jwt` or `client_secret_jwt`. */
  get method(): ClientAssertionSigner['method'] {
    return this.#config.signer.method;
  }

  /** The token request parameters of RFC 7523 §2.2 with a newly signed assertion for `audience`. */
  async parameters(audience: string): Promise<Record<string, string>> {
    // The signing code (and jose) is a chunk of its own, loaded by the first assertion.
    const { signClientAssertion } = await import('./jwt-signing.js');
    const { clientId } = this.#config;
    const header: { alg: string; kid?: string; x5t?: string; 'x5t#S256'?: string } = { alg: this.#alg, ...this.#thumbprints };
    if (this.#kid !== undefined) header.kid = this.#kid;
    const assertion = await signClientAssertion({ header, clientId, audience, now: this.#config.now, lifetime: this.#config.lifetime, key: this.#key });
    this.#recent.push(assertion);
    if (this.#recent.length > RECENT_ASSERTIONS) this.#recent.shift();
    return { client_id: clientId, client_assertion_type: JWT_BEARER_ASSERTION_TYPE, client_assertion: assertion };
  }

  /** Assertions sent lately: secrets to scrub from any text a server sends back. */
  recent(): readonly string[] {
    return this.#recent;
  }
}

const HMAC_ALGORITHMS = ['HS256', 'HS384', 'HS512'] as const;

/**
 * Validates `tokenRequest.clientAssertion` for a JWT client authentication method, at attach
 * time; every problem is a ConfigurationError naming the option (never quoting a key or secret).
 */
export function resolveClientAssertion(
  method: 'private_key_jwt' | 'client_secret_jwt',
  options: ClientAssertionOptions | undefined,
  client: { clientId: string; clientSecret: string | undefined; issuer: string | undefined },
  now: () => number,
): { assertion: ClientAssertion; audience: 'token_endpoint' | 'issuer' } {
  const option = 'tokenRequest.clientAssertion';
  const given: ClientAssertionOptions = options ?? {};
  if (typeof given !== 'object' || given === null) throw new ConfigurationError(option, 'must be an object');
  const lifetime = given.lifetime ?? 60;
  if (typeof lifetime !== 'number' || !Number.isFinite(lifetime) || lifetime <= 0 || lifetime > 3600) {
    throw new ConfigurationError(`${option}.lifetime`, 'must be a number of seconds above 0 and at most 3600');
  }
  const audience = given.audience ?? 'token_endpoint';
  if (audience !== 'token_endpoint' && audience !== 'issuer') throw new ConfigurationError(`${option}.audience`, 'must be "token_endpoint" or "issuer"');
  if (audience === 'issuer' && client.issuer === undefined) throw new ConfigurationError(`${option}.audience`, 'is "issuer", which needs the issuer option');
  let signer: ClientAssertionSigner;
  if (method === 'private_key_jwt') {
    if (given.key === undefined) throw new ConfigurationError(`${option}.key`, 'is required for clientAuth "private_key_jwt" (PEM text, a private JWK or a KeyObject)');
    const signingKey = resolveSigningKey(given.key, given.alg, given.kid, `${option}.key`);
    signer = { method, signingKey, thumbprints: given.certificate === undefined ? undefined : thumbprintsOf(given.certificate, signingKey.key) };
  } else {
    if (client.clientSecret === undefined || client.clientSecret === '') throw new ConfigurationError('clientSecret', 'is required for clientAuth "client_secret_jwt" (the HMAC key)');
    if (given.certificate !== undefined) throw new ConfigurationError(`${option}.certificate`, 'is used only with clientAuth "private_key_jwt"');
    if (given.key !== undefined) throw new ConfigurationError(`${option}.key`, 'is not used by clientAuth "client_secret_jwt" (it signs with clientSecret); use "private_key_jwt" for a private key');
    const alg = given.alg ?? 'HS256';
    if (!(HMAC_ALGORITHMS as readonly string[]).includes(alg)) throw new ConfigurationError(`${option}.alg`, `must be one of ${HMAC_ALGORITHMS.join(', ')} for clientAuth "client_secret_jwt"`);
    signer = { method, secret: client.clientSecret, alg: alg as (typeof HMAC_ALGORITHMS)[number] };
  }
  return { assertion: new ClientAssertion({ clientId: client.clientId, signer, lifetime, now }), audience };
}

/** Microsoft Entra ID finds the client's certificate by its thumbprint, not by `kid`. */
function thumbprintsOf(certificate: unknown, key: KeyObject): CertificateThumbprints {
  const option = 'tokenRequest.clientAssertion.certificate';
  let parsed: X509Certificate;
  try {
    parsed = new X509Certificate(certificate as string | Buffer);
  } catch {
    throw new ConfigurationError(option, 'must be an X.509 certificate (PEM text or DER bytes)');
  }
  if (!parsed.checkPrivateKey(key)) throw new ConfigurationError(option, 'does not hold the public key of tokenRequest.clientAssertion.key');
  return { x5t: createHash('sha1').update(parsed.raw).digest('base64url'), 'x5t#S256': createHash('sha256').update(parsed.raw).digest('base64url') };
}
