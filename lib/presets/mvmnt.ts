// MVMNT (api.mvmnt.io): client credentials at POST /oauth2/token with a
// form-urlencoded body carrying grant_type, client_id and client_secret;
// one-hour JWT access tokens, which the document asks to renew early (at about
// 55 minutes) and to renew once on a 401.

import type { AttachAuthOptions, ClientCredentialsGrant } from '../options.js';
import { originOf, requireCredentials, supportedGrant, trimBaseUrl, withOverrides, type PresetOptions } from './preset-options.js';

export const MVMNT_BASE_URL = 'https://api.mvmnt.io';

/** Options for the MVMNT API. */
export interface MvmntPresetOptions extends PresetOptions {
  /** Scope to ask for; MVMNT's document sends none, so none is sent unless given. */
  scope?: string | readonly string[];
  /** Only client credentials: MVMNT answers `invalid_grant` to any other grant type. */
  grant?: ClientCredentialsGrant;
}

/**
 * attachAuth options for MVMNT: `attachAuth(api, presets.mvmnt({ clientId, clientSecret }))`.
 * The token endpoint and the API share the host `https://api.mvmnt.io` (or `baseUrl`).
 * Any attachAuth option overrides the preset's, e.g. `tokenRequest: { timeout: 1000 }`.
 */
export function mvmnt(options: MvmntPresetOptions): AttachAuthOptions {
  requireCredentials(options, 'mvmnt');
  const base = options.baseUrl === undefined ? MVMNT_BASE_URL : trimBaseUrl(options.baseUrl, 'mvmnt');
  const result: AttachAuthOptions = {
    tokenUrl: `${base}/oauth2/token`,
    clientId: options.clientId,
    clientSecret: options.clientSecret,
    // MVMNT answers invalid_grant to any other grant type.
    grant: supportedGrant(options.grant, ['client_credentials'], 'mvmnt'),
    tokenRequest: { method: 'POST', encoding: 'form', clientAuth: 'body' },
    // The document's advice: renew at 55 minutes of a 60-minute token. The engine caps
    // the window at half the lifetime, so a shorter-lived token is still renewed in time.
    refreshWindow: 300,
    // expires_in is always sent and the token is a JWT with exp; this only covers an answer without either.
    defaultExpiresIn: 3600,
    // The instance's baseURL (where the user's requests go) wins; without one, the provider's API.
    defaultOrigins: [originOf(base)],
  };
  return withOverrides(result, options, 'mvmnt');
}
