// HS256 JSON Web Tokens for the emulators whose providers issue JWT access
// tokens (MVMNT, MyParcel.com): signed with a per-emulator key, verified on
// every API call, with `exp` in whole seconds as RFC 7519 has it.

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export interface JwtClaims {
  sub: string;
  iat: number;
  exp: number;
  jti: string;
  scope?: string;
}

function encodeSegment(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

/** Signs and verifies the tokens of one emulator instance (each instance has its own key). */
export class JwtSigner {
  readonly #key = randomBytes(32);

  sign(claims: JwtClaims): string {
    const head = `${encodeSegment({ alg: 'HS256', typ: 'JWT' })}.${encodeSegment(claims)}`;
    return `${head}.${createHmac('sha256', this.#key).update(head).digest('base64url')}`;
  }

  /** The claims of a token this signer issued, or undefined for anything else. Expiry is the caller's check. */
  verify(token: string): JwtClaims | undefined {
    const parts = token.split('.');
    if (parts.length !== 3) return undefined;
    const [header, payload, signature] = parts as [string, string, string];
    const expected = createHmac('sha256', this.#key).update(`${header}.${payload}`).digest();
    const given = Buffer.from(signature, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    try {
      return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as JwtClaims;
    } catch {
      return undefined;
    }
  }
}

/**
 * The JWT access tokens one emulator issued and still honours: each is signed
 * by the emulator's own key, tracked by its `jti` until `revokeAll()`, and
 * refused from its `exp` on, by the emulator's clock.
 */
export class JwtAccessTokens {
  readonly #signer = new JwtSigner();
  readonly #live = new Set<string>();
  readonly #now: () => number;

  constructor(now: () => number) {
    this.#now = now;
  }

  /** A new token for `sub`, valid `lifetimeSeconds` from now. */
  issue(sub: string, lifetimeSeconds: number, scope: string): string {
    const iat = Math.floor(this.#now() / 1000);
    const jti = randomId(12);
    this.#live.add(jti);
    return this.#signer.sign({ sub, iat, exp: iat + lifetimeSeconds, jti, scope });
  }

  /** True when `token` was issued here, is not revoked and has not expired. */
  accepts(token: string | undefined): boolean {
    const claims = token === undefined ? undefined : this.#signer.verify(token);
    return claims !== undefined && this.#live.has(claims.jti) && this.#now() < claims.exp * 1000;
  }

  /** Every token issued so far stops working at once. */
  revokeAll(): void {
    this.#live.clear();
  }
}

/** A random identifier for a token or a code. */
export function randomId(bytes = 24): string {
  return randomBytes(bytes).toString('base64url');
}
