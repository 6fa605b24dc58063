// Movemint (www.movemint.cc): a Doorkeeper-style server. Authorization code,
// refresh token and client credentials grants at POST /oauth/token; two-hour
// tokens with created_at; POST /oauth/revoke (always 200); GET /oauth/token/info.

import { authorizeUrl } from '../authorization-code.js';
import type { AttachAuthOptions, AuthorizationCodeGrant, ClientCredentialsGrant, RefreshTokenGrant } from '../options.js';
import { originOf, requireCredentials, trimBaseUrl, type PresetOptions } from './preset-options.js';

export const MOVEMINT_BASE_URL = 'https://www.movemint.cc';

export interface MovemintPresetOptions extends PresetOptions {
  /** Default client credentials; an authorization code from the redirect, or a stored refresh token. */
  grant?: ClientCredentialsGrant | AuthorizationCodeGrant | RefreshTokenGrant;
  /** Scope to ask for. */
  scope?: string | readonly string[];
}

/** attachAuth options for Movemint, with revocation and token info wired. */
export function movemint(options: MovemintPresetOptions): AttachAuthOptions {
  requireCredentials(options, 'movemint');
  const base = options.baseUrl === undefined ? MOVEMINT_BASE_URL : trimBaseUrl(options.baseUrl, 'movemint');
  const result: AttachAuthOptions = {
    tokenUrl: `${base}/oauth/token`,
    clientId: options.clientId,
    clientSecret: options.clientSecret,
    grant: options.grant ?? { type: 'client_credentials' },
    defaultExpiresIn: 7200,
    revocationUrl: `${base}/oauth/revoke`,
    tokenInfoUrl: `${base}/oauth/token/info`,
    origins: options.origins ?? [originOf(base)],
  };
  if (options.scope !== undefined) result.scope = options.scope;
  return result;
}

export interface MovemintAuthorizeOptions {
  clientId: string;
  redirectUri: string;
  scope?: string | readonly string[];
  state?: string;
  codeChallenge?: string;
  baseUrl?: string;
}

/** The URL of Movemint's authorization page (GET /oauth/authorize, response_type=code). */
export function movemintAuthorizeUrl(options: MovemintAuthorizeOptions): string {
  const base = options.baseUrl === undefined ? MOVEMINT_BASE_URL : trimBaseUrl(options.baseUrl, 'movemint');
  const { baseUrl: _ignored, ...rest } = options;
  return authorizeUrl({ ...rest, scope: options.scope ?? '', authorizationUrl: `${base}/oauth/authorize` });
}
