// What handle.signIn(subject, tokens) accepts after a login: the TokenSet of a code
// exchange made with this package, or a raw token response (RFC 6749 §5.1) such as
// openid-client returns (`expires_at` in epoch seconds, or `expires_in`).

import { ConfigurationError } from './errors.js';
import { normaliseTokenResponse, type TokenResponseBody, type TokenSet } from './token-set.js';

/** A token response as openid-client and others hand it over after a code exchange. */
export interface SignInTokenResponse {
  /** The access token. */
  access_token: string;
  /** `Bearer`, in any case; other types are refused. */
  token_type?: string;
  /** The refresh token, when the server issued one (needed to renew the access token). */
  refresh_token?: string;
  /** Seconds from now. */
  expires_in?: number | string;
  /** Epoch seconds (openid-client v5's TokenSet). */
  expires_at?: number;
  /** The scope the server granted. */
  scope?: string;
}

/** An authorization code to exchange here (RFC 6749 §4.1.3), exactly once, with its PKCE verifier. */
export interface SignInCode {
  /** The `code` the authorization server sent back to the redirect URI. */
  code: string;
  /** The redirect URI of the authorization request, sent again as RFC 6749 §4.1.3 asks. */
  redirectUri: string;
  /** The PKCE code verifier (RFC 7636) from `createPkce()`. */
  codeVerifier?: string;
}

/** A TokenSet (from this package) or a raw token response (from openid-client or any other client). */
export type SignInTokens = TokenSet | SignInTokenResponse;

/** What `handle.signIn(subject, …)` takes: tokens a login produced, or the code to exchange for them. */
export type SignInInput = SignInTokens | SignInCode;

/** True for an authorization code to exchange (rather than tokens already obtained). */
export function isSignInCode(input: SignInInput): input is SignInCode {
  return input !== null && typeof input === 'object' && 'code' in input && !('accessToken' in input) && !('access_token' in input);
}

/** Validates what a sign-in produced and turns it into a TokenSet; the id_token and other fields are not kept. */
export function toTokenSet(tokens: SignInTokens, now: number, defaultExpiresIn: number | undefined): TokenSet {
  if (tokens === null || typeof tokens !== 'object') throw new ConfigurationError('signIn tokens', 'must be a TokenSet or a token response object');
  if ('accessToken' in tokens) return copyTokenSet(tokens);
  if (!('access_token' in tokens)) throw new ConfigurationError('signIn tokens', 'must have accessToken (a TokenSet) or access_token (a token response)');
  const body: TokenResponseBody = { access_token: tokens.access_token };
  for (const name of ['token_type', 'refresh_token', 'expires_in', 'scope'] as const) {
    if (tokens[name] !== undefined) body[name] = tokens[name];
  }
  const expiresAt = tokens.expires_at;
  if (expiresAt !== undefined && (typeof expiresAt !== 'number' || !Number.isFinite(expiresAt))) {
    throw new ConfigurationError('signIn tokens.expires_at', 'must be epoch seconds');
  }
  // expires_at is absolute: it wins over a default lifetime and needs no clock arithmetic here.
  const tokenSet = normaliseTokenResponse(body, { receivedAt: now, defaultExpiresIn: expiresAt === undefined ? defaultExpiresIn : undefined });
  if (expiresAt !== undefined && body.expires_in === undefined) tokenSet.expiresAt = Math.min(expiresAt * 1000, tokenSet.expiresAt ?? Number.POSITIVE_INFINITY);
  return tokenSet;
}

function copyTokenSet(tokens: TokenSet): TokenSet {
  const { accessToken, refreshToken, expiresAt, scope } = tokens;
  if (typeof accessToken !== 'string' || accessToken === '') throw new ConfigurationError('signIn tokens.accessToken', 'must be a non-empty string');
  if (refreshToken !== undefined && (typeof refreshToken !== 'string' || refreshToken === '')) {
    throw new ConfigurationError('signIn tokens.refreshToken', 'must be a non-empty string when given');
  }
  if (expiresAt !== undefined && (typeof expiresAt !== 'number' || !Number.isFinite(expiresAt))) {
    throw new ConfigurationError('signIn tokens.expiresAt', 'must be epoch milliseconds when given');
  }
  const copy: TokenSet = { accessToken, tokenType: 'Bearer', raw: tokens.raw ?? { access_token: accessToken } };
  if (expiresAt !== undefined) copy.expiresAt = expiresAt;
  if (refreshToken !== undefined) copy.refreshToken = refreshToken;
  if (typeof scope === 'string') copy.scope = scope;
  return copy;
}
