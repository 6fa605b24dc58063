// Turns the private key a user gives (PEM, JWK or KeyObject) into a KeyObject
// and the JWS algorithm to sign with, once, at attach time: a bad key is a
// ConfigurationError naming the option, never a failure at the first request.
// Used by client assertions (RFC 7523) and DPoP proofs (RFC 9449).

import { createPrivateKey, KeyObject, type JsonWebKey } from 'node:crypto';
import { ConfigurationError } from './errors.js';

/** JWS algorithms for a private key (RFC 7518 §3, RFC 8037). */
export const ASYMMETRIC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;

/** A JWS algorithm for a private key. */
export type AsymmetricAlgorithm = (typeof ASYMMETRIC_ALGORITHMS)[number];

/** A private key as users hold it: PEM text, a private JWK, or a node:crypto KeyObject. */
export type PrivateKeyInput = string | JsonWebKey | KeyObject;

/** A usable private key with the algorithm it signs with. */
export interface SigningKey {
  readonly key: KeyObject;
  readonly alg: AsymmetricAlgorithm;
  readonly kid: string | undefined;
}

const CURVE_ALGORITHMS: Record<string, AsymmetricAlgorithm> = { prime256v1: 'ES256', secp384r1: 'ES384', secp521r1: 'ES512' };

/**
 * Reads `input` as a private key and settles the algorithm: `alg` when given (it must suit the
 * key), else the key's JWK `alg`, else the one its type implies (RSA → RS256, RSA-PSS → PS256,
 * P-256 → ES256, P-384 → ES384, P-521 → ES512, Ed25519/Ed448 → EdDSA).
 */
export function resolveSigningKey(input: unknown, alg: unknown, kid: unknown, option: string): SigningKey {
  const key = readPrivateKey(input, option);
  if (kid !== undefined && (typeof kid !== 'string' || kid === '')) throw new ConfigurationError(`${option.replace(/\.key$/, '')}.kid`, 'must be a non-empty string when given');
  const jwkAlg = isJwk(input) && typeof input['alg'] === 'string' ? input['alg'] : undefined;
  const jwkKid = isJwk(input) && typeof input['kid'] === 'string' ? input['kid'] : undefined;
  const algOption = `${option.replace(/\.key$/, '')}.alg`;
  const chosen = alg ?? jwkAlg ?? impliedAlgorithm(key);
  if (typeof chosen !== 'string' || !(ASYMMETRIC_ALGORITHMS as readonly string[]).includes(chosen)) {
    throw new ConfigurationError(algOption, `must be one of ${ASYMMETRIC_ALGORITHMS.join(', ')}${chosen === undefined ? ' (it cannot be inferred from this key)' : ''}`);
  }
  const algorithm = chosen as AsymmetricAlgorithm;
  if (!suits(key, algorithm)) throw new ConfigurationError(algOption, `"${algorithm}" does not suit a ${describeKey(key)} key`);
  return { key, alg: algorithm, kid: (kid as string | undefined) ?? jwkKid };
}

function readPrivateKey(input: unknown, option: string): KeyObject {
  const expected = 'must be a private key: PEM text, a private JWK or a KeyObject of type "private"';
  if (input instanceof KeyObject) {
    if (input.type !== 'private') throw new ConfigurationError(option, expected);
    return input;
  }
  try {
    // The message of node:crypto's error may quote the input; only the option name is kept.
    if (typeof input === 'string') return createPrivateKey(input);
    if (isJwk(input)) {
      if (typeof input['d'] !== 'string') throw new TypeError('not a private JWK');
      return createPrivateKey({ key: input, format: 'jwk' });
    }
  } catch {
    throw new ConfigurationError(option, expected);
  }
  throw new ConfigurationError(option, expected);
}

function isJwk(input: unknown): input is JsonWebKey & Record<string, unknown> {
  return input !== null && typeof input === 'object' && !(input instanceof KeyObject) && typeof (input as { kty?: unknown }).kty === 'string';
}

function impliedAlgorithm(key: KeyObject): AsymmetricAlgorithm | undefined {
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return 'RS256';
    case 'rsa-pss':
      return 'PS256';
    case 'ec':
      return CURVE_ALGORITHMS[key.asymmetricKeyDetails?.namedCurve ?? ''];
    case 'ed25519':
    case 'ed448':
      return 'EdDSA';
    default:
      return undefined;
  }
}

function suits(key: KeyObject, alg: AsymmetricAlgorithm): boolean {
  const type = key.asymmetricKeyType;
  if (alg.startsWith('RS')) return type === 'rsa';
  if (alg.startsWith('PS')) return type === 'rsa' || type === 'rsa-pss';
  if (alg === 'EdDSA') return type === 'ed25519' || type === 'ed448';
  return type === 'ec' && CURVE_ALGORITHMS[key.asymmetricKeyDetails?.namedCurve ?? ''] === alg;
}

function describeKey(key: KeyObject): string {
  const curve = key.asymmetricKeyDetails?.namedCurve;
  return `${key.asymmetricKeyType ?? key.type}${curve === undefined ? '' : ` (${curve})`}`;
}
