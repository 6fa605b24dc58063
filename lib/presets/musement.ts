// Musement (api.musement.com): GET /api/v3/login with every parameter in the
// query string, the client secret and the user's password included. That URL
// lands in server and proxy logs; it is Musement's design, and the package
// never repeats it: errors and log lines name the endpoint by origin and path
// only. Client credentials or password grants; token_type "bearer" in lower
// case; every refresh returns a new refresh token that replaces the old one.

import type { AttachAuthOptions, ClientCredentialsGrant, PasswordGrant, RefreshTokenGrant } from '../options.js';
import { originOf, requireCredentials, supportedGrant, trimBaseUrl, withOverrides, type PresetOptions } from './preset-options.js';

export const MUSEMENT_BASE_URL = 'https://api.musement.com';

/** Options for the Musement API. */
export interface MusementPresetOptions extends PresetOptions {
  /**
   * Default `{ type: 'client_credentials' }` (no customer); `{ type: 'password', username, password }`
   * for a customer's own data; or `{ type: 'refresh_token', refreshToken }` to resume a stored session.
   */
  grant?: ClientCredentialsGrant | PasswordGrant | RefreshTokenGrant;
}

/**
 * attachAuth options for Musement. Any attachAuth option overrides the preset's; `tokenRequest`
 * is merged, so `tokenRequest: { timeout: 1000 }` keeps the GET-with-query dialect.
 */
export function musement(options: MusementPresetOptions): AttachAuthOptions {
  requireCredentials(options, 'musement');
  const base = options.baseUrl === undefined ? MUSEMENT_BASE_URL : trimBaseUrl(options.baseUrl, 'musement');
  const result: AttachAuthOptions = {
    tokenUrl: `${base}/api/v3/login`,
    clientId: options.clientId,
    clientSecret: options.clientSecret,
    grant: supportedGrant(options.grant, ['client_credentials', 'password', 'refresh_token'], 'musement'),
    // Musement's dialect: a GET with the credentials in the query string.
    tokenRequest: { method: 'GET', encoding: 'query', clientAuth: 'body' },
    // The document's example answers expires_in 3600; this only covers an answer without it.
    defaultExpiresIn: 3600,
    // The instance's baseURL (where the user's requests go) wins; without one, the provider's API.
    defaultOrigins: [originOf(base)],
  };
  return withOverrides(result, options, 'musement');
}
