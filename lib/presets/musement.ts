// Musement (api.musement.com): GET /api/v3/login with every parameter in the
// query string (the secret included: it lands in server logs, which is
// Musement's design, not ours); client credentials or password; lowercase
// "bearer"; every refresh returns a new refresh token (rotation).

import type { AttachAuthOptions, ClientCredentialsGrant, PasswordGrant, RefreshTokenGrant } from '../options.js';
import { originOf, requireCredentials, trimBaseUrl, type PresetOptions } from './preset-options.js';

export const MUSEMENT_BASE_URL = 'https://api.musement.com';

export interface MusementPresetOptions extends PresetOptions {
  /** Default client credentials; `password` for a customer's own data; or a stored refresh token. */
  grant?: ClientCredentialsGrant | PasswordGrant | RefreshTokenGrant;
}

/** attachAuth options for Musement. */
export function musement(options: MusementPresetOptions): AttachAuthOptions {
  requireCredentials(options, 'musement');
  const base = options.baseUrl === undefined ? MUSEMENT_BASE_URL : trimBaseUrl(options.baseUrl, 'musement');
  return {
    tokenUrl: `${base}/api/v3/login`,
    clientId: options.clientId,
    clientSecret: options.clientSecret,
    grant: options.grant ?? { type: 'client_credentials' },
    tokenRequest: { method: 'GET', encoding: 'query', clientAuth: 'body' },
    defaultExpiresIn: 3600,
    origins: options.origins ?? [originOf(base)],
  };
}
