// Turns a token endpoint's JSON answer into a TokenSet and tells, for a clock
// reading, whether a token set is fresh, stale or expired (design.md, "Expiry").

import { ErrorCodes, TokenEndpointError } from './errors.js';

/** A token response as the wire carries it (RFC 6749 §5.1, plus `created_at` from Doorkeeper servers). */
export interface TokenResponseBody {
  /** The access token (a string in a valid answer). */
  access_token?: unknown;
  /** `Bearer`, in any case. */
  token_type?: unknown;
  /** Lifetime of the access token in seconds. */
  expires_in?: unknown;
  /** A refresh token, when the grant issues one. */
  refresh_token?: unknown;
  /** The scope granted, space-separated. */
  scope?: unknown;
  /** When the token was made, in epoch seconds (Doorkeeper servers such as Movemint). */
  created_at?: unknown;
  /** An OAuth error code, when the answer is an error (RFC 6749 §5.2). */
  error?: unknown;
  /** The human-readable text of that error. */
  error_description?: unknown;
  [name: string]: unknown;
}

/** The token set the package holds, camel-cased and normalised. */
export interface TokenSet {
  /** The access token, sent as `Authorization: <tokenType> <accessToken>`. */
  accessToken: string;
  /** `Bearer`, whatever case the server used; `DPoP` for a DPoP-bound token (RFC 9449, only with the `dpop` option). */
  tokenType: 'Bearer' | 'DPoP';
  /** When the access token expires, in epoch milliseconds of the local clock; absent when unknown. */
  expiresAt?: number;
  /** The refresh token, when the server issued one. */
  refreshToken?: string;
  /** The scope the server granted, when it said. */
  scope?: string;
  /** The parsed token response as received. */
  raw: TokenResponseBody;
}

export type TokenState = 'fresh' | 'stale' | 'expired';

/** No server issues tokens for longer than ten years; a bigger `expires_in` is a broken answer. */
const MAX_EXPIRES_IN_SECONDS = 10 * 365 * 24 * 3600;

export interface NormaliseContext {
  /** Local clock reading when the answer arrived, epoch ms. */
  receivedAt: number;
  /** Server clock minus local clock, ms (from the answer's `Date` header); 0 when unknown. */
  clockOffset?: number;
  /** Lifetime to assume when the answer gives none, seconds. */
  defaultExpiresIn?: number | undefined;
  /** True when the client sent a DPoP proof: a `DPoP` token type is then expected (RFC 9449 §5). */
  dpop?: boolean | undefined;
}

/** Validates a token response and builds its TokenSet, or throws a TokenEndpointError naming what is wrong. */
export function normaliseTokenResponse(body: unknown, context: NormaliseContext): TokenSet {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw invalid('the token response is not a JSON object');
  }
  const response = body as TokenResponseBody;
  if (typeof response.access_token !== 'string' || response.access_token.length === 0) {
    throw invalid(
      response.access_token === undefined
        ? 'the token response has no access_token'
        : 'the token response has an access_token that is not a non-empty string',
    );
  }
  if (!canSendInHeader(response.access_token)) {
    // Sent as is, such a token would fail every request (Node refuses the header) or split it (CR LF).
    throw invalid('the token response has an access_token that cannot be sent in an Authorization header (whitespace, control or non-ASCII characters)');
  }
  // The header says `Bearer` (or `DPoP` for a DPoP-bound token), never the server's spelling,
  // so token_type only has to mean one of them; a missing or null token_type means Bearer.
  const tokenType = typeof response.token_type === 'string' ? response.token_type.trim().toLowerCase() : response.token_type ?? undefined;
  const isDPoP = context.dpop === true && tokenType === 'dpop';
  if (tokenType !== undefined && tokenType !== 'bearer' && !isDPoP) {
    throw invalid(`the token response has a token_type other than Bearer${context.dpop === true ? ' or DPoP' : ''}, which this package cannot send`);
  }
  const offset = context.clockOffset ?? 0;
  const expiresAt = computeExpiresAt(response, context.receivedAt, offset, context.defaultExpiresIn);
  const tokenSet: TokenSet = { accessToken: response.access_token, tokenType: isDPoP ? 'DPoP' : 'Bearer', raw: response };
  if (expiresAt !== undefined) tokenSet.expiresAt = expiresAt;
  if (typeof response.refresh_token === 'string' && response.refresh_token.length > 0) tokenSet.refreshToken = response.refresh_token;
  if (typeof response.scope === 'string') tokenSet.scope = response.scope;
  return tokenSet;
}

/**
 * True when `token` can follow `Bearer ` in an Authorization header: visible ASCII
 * only (%x21-7E), no whitespace, no control characters, nothing above U+007E.
 * RFC 6750 §2.1's b64token is narrower (letters, digits and `-._~+/`, then `=`), but
 * servers in the wild issue tokens with other visible characters (`!`, `:`, `|`),
 * and APIs accept them; what this refuses is exactly what cannot travel as one
 * header token: whitespace would split it, CR/LF would end the header, and
 * anything outside ASCII is refused by Node or mangled on the way.
 */
export function canSendInHeader(token: string): boolean {
  return /^[\x21-\x7e]+$/.test(token);
}

/**
 * The earliest of `(created_at ?? receivedAt) + expires_in` and the JWT `exp`,
 * both moved from the server's clock to ours; `defaultExpiresIn` when neither exists.
 */
function computeExpiresAt(
  response: TokenResponseBody,
  receivedAt: number,
  clockOffset: number,
  defaultExpiresIn: number | undefined,
): number | undefined {
  const candidates: number[] = [];
  const expiresIn = parseExpiresIn(response.expires_in);
  if (expiresIn !== undefined) {
    let issuedAt = receivedAt;
    const createdAt = parseNumber(response.created_at);
    if (createdAt !== undefined) {
      // created_at is the server's clock; never later than when we received the answer.
      issuedAt = Math.min(createdAt * 1000 - clockOffset, receivedAt);
    }
    candidates.push(issuedAt + expiresIn * 1000);
  }
  const exp = readJwtExpiry(response.access_token as string);
  if (exp !== undefined) candidates.push(exp * 1000 - clockOffset);
  if (candidates.length > 0) return Math.min(...candidates);
  if (defaultExpiresIn !== undefined) return receivedAt + defaultExpiresIn * 1000;
  return undefined;
}

function parseExpiresIn(value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  const seconds = parseNumber(value);
  if (seconds === undefined) throw invalid('the token response has an expires_in that is not a number');
  if (seconds <= 0) throw invalid('the token response has an expires_in that is zero or negative');
  if (seconds > MAX_EXPIRES_IN_SECONDS) throw invalid('the token response has an expires_in longer than ten years');
  return seconds;
}

function parseNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  return undefined;
}

/**
 * Reads the `exp` claim of an access token that is a JWT (decoded, not verified:
 * the token is for the API, we only want to know when it stops working).
 * Returns undefined for opaque tokens; throws for a token that claims to be a JWT
 * (its header decodes with an `alg`) but whose claims cannot be read.
 */
export function readJwtExpiry(token: string): number | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  const header = decodeSegment(parts[0] as string);
  if (header === undefined || typeof header !== 'object' || header === null || !('alg' in header)) return undefined;
  const claims = decodeSegment(parts[1] as string);
  if (claims === undefined || typeof claims !== 'object' || claims === null || Array.isArray(claims)) {
    throw invalid('the access token looks like a JWT but its claims cannot be decoded');
  }
  const exp = (claims as { exp?: unknown }).exp;
  if (exp === undefined) return undefined;
  if (typeof exp !== 'number' || !Number.isFinite(exp)) throw invalid('the access token is a JWT whose exp claim is not a number');
  return exp;
}

function decodeSegment(segment: string): unknown {
  if (!/^[A-Za-z0-9_-]+={0,2}$/.test(segment)) return undefined;
  try {
    return JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
}

/**
 * How long before `expiresAt` a background refresh starts: `refreshWindow`, but
 * never more than a quarter of the token's lifetime (a 60 s window on a 90 s token
 * would otherwise refresh after 30 s, and on a 30 s token at once), unless three
 * token round trips (`tokenLatencyMs`, as last measured) need more: then up to half.
 */
export function effectiveRefreshWindow(refreshWindowMs: number, receivedAt: number, expiresAt: number, tokenLatencyMs = 0): number {
  const lifetime = expiresAt - receivedAt;
  // A quarter of the lifetime at most, so that a short token costs at most 4/3 token
  // requests per lifetime; but never less than a few token round trips, so that the
  // new token arrives before the old one expires (capped at half the lifetime).
  const cap = Math.max(lifetime / 4, Math.min(lifetime / 2, 3 * tokenLatencyMs));
  return Math.max(0, Math.min(refreshWindowMs, cap));
}

/** fresh: use it; stale: use it and refresh in the background; expired: hold requests and refresh. */
export function tokenState(now: number, expiresAt: number | undefined, refreshAt: number): TokenState {
  if (expiresAt === undefined) return 'fresh';
  if (now >= expiresAt) return 'expired';
  return now >= refreshAt ? 'stale' : 'fresh';
}

/** Server clock minus local clock from an HTTP `Date` header, or 0 when absent, unreadable or within a few seconds. */
export function clockOffsetFromDate(dateHeader: unknown, receivedAt: number): number {
  if (typeof dateHeader !== 'string') return 0;
  const serverTime = Date.parse(dateHeader);
  if (Number.isNaN(serverTime)) return 0;
  const offset = serverTime - receivedAt;
  // The Date header has one-second resolution and the answer took time to arrive:
  // only a skew well past that is a skew.
  return Math.abs(offset) < 5000 ? 0 : offset;
}

function invalid(message: string): TokenEndpointError {
  // Every error carries a cause (design.md); here the cause is the rule the answer broke, never the answer itself.
  return new TokenEndpointError(`Token endpoint answer rejected: ${message}`, { code: ErrorCodes.TOKEN_RESPONSE_INVALID, cause: new Error(message) });
}
