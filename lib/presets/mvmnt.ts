// MVMNT (api.mvmnt.io): client credentials at POST /oauth2/token, form body with
// the credentials in it, one-hour JWT tokens, refreshed about five minutes early.

import type { AttachAuthOptions } from '../options.js';
import { originOf, requireCredentials, trimBaseUrl, type PresetOptions } from './preset-options.js';

export const MVMNT_BASE_URL = 'https://api.mvmnt.io';

/** Options for the MVMNT API. */
export interface MvmntPresetOptions extends PresetOptions {
  /** Scope to ask for; MVMNT's documents send none. */
  scope?: string | readonly string[];
}

/** attachAuth options for MVMNT: `attachAuth(api, presets.mvmnt({ clientId, clientSecret }))`. */
export function mvmnt(options: MvmntPresetOptions): AttachAuthOptions {
  requireCredentials(options, 'mvmnt');
  const base = options.baseUrl === undefined ? MVMNT_BASE_URL : trimBaseUrl(options.baseUrl, 'mvmnt');
  const result: AttachAuthOptions = {
    tokenUrl: `${base}/oauth2/token`,
    clientId: options.clientId,
    clientSecret: options.clientSecret,
    grant: { type: 'client_credentials' },
    // The document's advice: renew at 55 minutes of a 60-minute token.
    refreshWindow: 300,
    defaultExpiresIn: 3600,
    origins: options.origins ?? [originOf(base)],
  };
  if (options.scope !== undefined) result.scope = options.scope;
  return result;
}
