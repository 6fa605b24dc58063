// Signs client assertions (RFC 7523) and DPoP proofs (RFC 9449) with `jose`. This
// module is loaded with import() by the first signature only, so that rollup emits
// it as a chunk of its own: a client that authenticates with a shared secret loads
// neither it nor `jose` (lib/jose-loader.ts). The keys and claims it signs were
// checked at attach time (lib/client-assertion.ts, lib/dpop.ts, lib/signing-key.ts).

import { createHash, randomUUID, type JsonWebKey, type KeyObject } from 'node:crypto';
import { ConfigurationError } from './errors.js';
import { loadJose } from './jose-loader.js';
import type { ProofTarget } from './dpop.js';
import type { SigningKey } from './signing-key.js';

/** What a DPoP proof is signed with, and where its nonce comes from. */
export interface DPoPSigner {
  key: SigningKey;
  publicJwk: JsonWebKey;
  now: () => number;
  /** The nonce last seen from an origin, read once jose is loaded (a nonce may arrive meanwhile). */
  nonceFor: (origin: string) => string | undefined;
}

/** A new DPoP proof for one request (a new jti every time). */
export async function signDPoPProof(target: ProofTarget, signer: DPoPSigner): Promise<string> {
  const { SignJWT } = await loadJose();
  const url = new URL(target.url);
  const claims: Record<string, string | number> = {
    htm: target.htm.toUpperCase(),
    htu: `${url.origin}${url.pathname}`,
    jti: randomUUID(),
    iat: Math.floor(signer.now() / 1000),
  };
  if (target.accessToken !== undefined) claims['ath'] = createHash('sha256').update(target.accessToken, 'ascii').digest('base64url');
  const nonce = signer.nonceFor(url.origin);
  if (nonce !== undefined) claims['nonce'] = nonce;
  try {
    return await new SignJWT(claims).setProtectedHeader({ alg: signer.key.alg, typ: 'dpop+jwt', jwk: signer.publicJwk }).sign(signer.key.key);
  } catch (error) {
    throw new ConfigurationError('dpop.key', `could not sign a DPoP proof: ${error instanceof Error ? error.message : 'signing failed'}`);
  }
}

/** What a client assertion is signed with. */
export interface AssertionSigner {
  header: { alg: string; kid?: string; x5t?: string; 'x5t#S256'?: string };
  clientId: string;
  audience: string;
  now: () => number;
  /** Seconds from `iat` to `exp`. */
  lifetime: number;
  key: KeyObject;
}

/** A newly signed client assertion (RFC 7523 §3), with a new jti. */
export async function signClientAssertion(signer: AssertionSigner): Promise<string> {
  const { SignJWT } = await loadJose();
  const issuedAt = Math.floor(signer.now() / 1000);
  try {
    return await new SignJWT({})
      .setProtectedHeader(signer.header)
      .setIssuer(signer.clientId)
      .setSubject(signer.clientId)
      .setAudience(signer.audience)
      .setJti(randomUUID())
      .setIssuedAt(issuedAt)
      .setExpirationTime(issuedAt + signer.lifetime)
      .sign(signer.key);
  } catch (error) {
    // jose names what is wrong with the key or algorithm; its message never holds key material.
    throw new ConfigurationError('tokenRequest.clientAssertion', `could not be signed: ${error instanceof Error ? error.message : 'signing failed'}`);
  }
}
