// Movemint (www.movemint.cc): a Doorkeeper-style server. Authorization code
// (the user is sent to GET /oauth/authorize), refresh token and client
// credentials grants at POST /oauth/token with the client credentials in the
// body; two-hour tokens with created_at; a refresh token for every grant but
// client credentials; POST /oauth/revoke (token, client_id, client_secret;
// always 200); GET /oauth/token/info with the Bearer token.

import { authorizeUrl } from '../authorization-code.js';
import type { AttachAuthOptions, AuthorizationCodeGrant, ClientCredentialsGrant, RefreshTokenGrant } from '../options.js';
import { originOf, requireCredentials, supportedGrant, trimBaseUrl, withOverrides, type PresetOptions } from './preset-options.js';

export const MOVEMINT_BASE_URL = 'https://www.movemint.cc';

/** Options for the Movemint API. */
export interface MovemintPresetOptions extends PresetOptions {
  /**
   * Default `{ type: 'client_credentials' }` (no user); `{ type: 'authorization_code', code, redirectUri }`
   * with the code from the redirect (exchanged once, then renewed with the refresh token);
   * or `{ type: 'refresh_token', refreshToken }` to resume a stored session.
   */
  grant?: ClientCredentialsGrant | AuthorizationCodeGrant | RefreshTokenGrant;
  /** Scope to ask for with client credentials (an authorization code carries the scope it was issued with). */
  scope?: string | readonly string[];
}

/** attachAuth options for Movemint, with `handle.revoke()` and `handle.tokenInfo()` wired to its endpoints. */
export function movemint(options: MovemintPresetOptions): AttachAuthOptions {
  requireCredentials(options, 'movemint');
  const base = movemintBase(options.baseUrl);
  const result: AttachAuthOptions = {
    tokenUrl: `${base}/oauth/token`,
    clientId: options.clientId,
    clientSecret: options.clientSecret,
    grant: supportedGrant(options.grant, ['client_credentials', 'authorization_code', 'refresh_token'], 'movemint'),
    // The document names the body parameters but no media type; a form body is what
    // Doorkeeper and RFC 6749 §4.1.3 expect, and the revocation request uses the same.
    tokenRequest: { method: 'POST', encoding: 'form', clientAuth: 'body' },
    // expires_in is always sent; this only covers an answer without it (the documented default).
    defaultExpiresIn: 7200,
    revocationUrl: `${base}/oauth/revoke`,
    tokenInfoUrl: `${base}/oauth/token/info`,
    // The instance's baseURL (where the user's requests go) wins; without one, the provider's API.
    defaultOrigins: [originOf(base)],
  };
  return withOverrides(result, options, 'movemint');
}

/** What `movemintAuthorizeUrl` needs to build the URL of Movemint's authorization page. */
export interface MovemintAuthorizeOptions {
  /** The client id Movemint issued. */
  clientId: string;
  /** One of the redirect URIs registered with Movemint; the code comes back to it. */
  redirectUri: string;
  /** Scopes to ask for; default `''` (the application's default scopes), sent as the document shows. */
  scope?: string | readonly string[];
  /** An unguessable value to check when the user comes back (CSRF protection). */
  state?: string;
  /** An S256 code challenge from `createPkce()`, when you use PKCE. */
  codeChallenge?: string;
  /** Another host, e.g. a test server; default https://www.movemint.cc. */
  baseUrl?: string;
  /** More query parameters, e.g. `{ prompt: 'consent' }`; the ones above cannot be set this way. */
  params?: Record<string, string>;
}

/**
 * The URL to send the user's browser to: Movemint's GET /oauth/authorize with
 * client_id, redirect_uri, response_type=code and scope. The user comes back to
 * `redirectUri?code=…`; pass that code as the authorization_code grant.
 */
export function movemintAuthorizeUrl(options: MovemintAuthorizeOptions): string {
  const { baseUrl, scope, ...rest } = options;
  return authorizeUrl({ ...rest, scope: scope ?? '', authorizationUrl: `${movemintBase(baseUrl)}/oauth/authorize` });
}

function movemintBase(baseUrl: string | undefined): string {
  return baseUrl === undefined ? MOVEMINT_BASE_URL : trimBaseUrl(baseUrl, 'movemint');
}
