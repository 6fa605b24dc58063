// Helpers for servers that start the authorization code flow themselves
// (RFC 6749 §4.1.1) with PKCE (RFC 7636, S256): build the URL to send the
// user's browser to, and make the verifier and challenge.

import { createHash, randomBytes } from 'node:crypto';
import { ConfigurationError } from './errors.js';

/** What `authorizeUrl` needs to build an authorization request URL (RFC 6749 §4.1.1). */
export interface AuthorizeUrlOptions {
  /** The authorization endpoint, e.g. `https://www.movemint.cc/oauth/authorize`. */
  authorizationUrl: string;
  /** The client id the provider issued. */
  clientId: string;
  /** Where the provider sends the user back with `?code=…`; must be registered with the provider. */
  redirectUri: string;
  /** Space-separated string or array. Sent even when empty if given as `''` (Movemint's example does). */
  scope?: string | readonly string[];
  /** An unguessable value to check when the user comes back (CSRF protection). */
  state?: string;
  /** The S256 code challenge from `createPkce()`. */
  codeChallenge?: string;
  /** More query parameters, e.g. `{ prompt: 'consent' }`. */
  params?: Record<string, string>;
}

const RESERVED_PARAMETERS = new Set(['client_id', 'redirect_uri', 'response_type', 'scope', 'state', 'code_challenge', 'code_challenge_method']);

/** The URL to redirect the user's browser to, with `response_type=code`. */
export function authorizeUrl(options: AuthorizeUrlOptions): string {
  let url: URL;
  try {
    url = new URL(options.authorizationUrl);
  } catch {
    throw new ConfigurationError('authorizationUrl', 'must be an absolute URL');
  }
  if (typeof options.clientId !== 'string' || options.clientId === '') throw new ConfigurationError('clientId', 'must be a non-empty string');
  if (typeof options.redirectUri !== 'string' || options.redirectUri === '') throw new ConfigurationError('redirectUri', 'must be a non-empty string');
  const query = url.searchParams;
  query.set('client_id', options.clientId);
  query.set('redirect_uri', options.redirectUri);
  query.set('response_type', 'code');
  if (options.scope !== undefined) query.set('scope', typeof options.scope === 'string' ? options.scope : options.scope.join(' '));
  if (options.state !== undefined) query.set('state', options.state);
  if (options.codeChallenge !== undefined) {
    query.set('code_challenge', options.codeChallenge);
    query.set('code_challenge_method', 'S256');
  }
  for (const [name, value] of Object.entries(options.params ?? {})) {
    // The named options own these; a second copy in params would silently replace them.
    if (RESERVED_PARAMETERS.has(name)) throw new ConfigurationError(`params.${name}`, 'is set by its own option (clientId, redirectUri, scope, state, codeChallenge), not by params');
    query.set(name, value);
  }
  return url.toString();
}

/** A PKCE pair: keep `codeVerifier` for the token request, send `codeChallenge` in the authorize URL. */
export interface Pkce {
  /** The secret half: keep it in the user's session and send it as the grant's `codeVerifier`. */
  codeVerifier: string;
  /** The S256 hash of the verifier: send it in the authorization URL (`codeChallenge`). */
  codeChallenge: string;
  /** Always `S256` (the plain method is not offered). */
  codeChallengeMethod: 'S256';
}

/** Makes a PKCE verifier (43 characters of base64url, 256 random bits) and its S256 challenge. */
export function createPkce(): Pkce {
  const codeVerifier = randomBytes(32).toString('base64url');
  const codeChallenge = createHash('sha256').update(codeVerifier, 'ascii').digest('base64url');
  return { codeVerifier, codeChallenge, codeChallengeMethod: 'S256' };
}
