// MyParcel.com: client credentials at POST /access-token on auth.myparcel.com
// (auth.sandbox.myparcel.com for the sandbox) with a JSON body and a scope
// ('*' for every scope of the user, or space-separated scopes); JWT access
// tokens whose exp the engine reads. The API lives on its own host, so the
// token may go there, not to the auth host.

import type { AttachAuthOptions } from '../options.js';
import { ConfigurationError } from '../errors.js';
import { originOf, requireCredentials, trimBaseUrl, type PresetOptions } from './preset-options.js';

export const MYPARCEL_AUTH_URL = 'https://auth.myparcel.com';
export const MYPARCEL_SANDBOX_AUTH_URL = 'https://auth.sandbox.myparcel.com';
export const MYPARCEL_API_URL = 'https://api.myparcel.com';
export const MYPARCEL_SANDBOX_API_URL = 'https://sandbox-api.myparcel.com';

export interface MyParcelPresetOptions extends PresetOptions {
  /** Scopes, space-separated or as an array, e.g. `['shipments.manage', 'files.show']`; default `'*'` (every scope of the user). */
  scope?: string | readonly string[];
  /** Use auth.sandbox.myparcel.com and the sandbox API (sandbox-api.myparcel.com). Default false. Ignored when `baseUrl` is given. */
  sandbox?: boolean;
}

/**
 * attachAuth options for MyParcel.com. With `baseUrl`, both the token endpoint and the
 * allowed API origin move there (a test server serving both); otherwise the token is
 * requested from the auth host and allowed only on the API host.
 */
export function myparcel(options: MyParcelPresetOptions): AttachAuthOptions {
  requireCredentials(options, 'myparcel');
  const scope = options.scope ?? '*';
  if ((typeof scope === 'string' ? scope.trim() : scope.join('')) === '') {
    throw new ConfigurationError('myparcel.scope', 'must name at least one scope, or "*" for all of them (MyParcel.com requires a scope)');
  }
  const sandbox = options.sandbox === true;
  const authBase = options.baseUrl !== undefined ? trimBaseUrl(options.baseUrl, 'myparcel') : sandbox ? MYPARCEL_SANDBOX_AUTH_URL : MYPARCEL_AUTH_URL;
  const apiBase = options.baseUrl !== undefined ? authBase : sandbox ? MYPARCEL_SANDBOX_API_URL : MYPARCEL_API_URL;
  const result: AttachAuthOptions = {
    tokenUrl: `${authBase}/access-token`,
    clientId: options.clientId,
    clientSecret: options.clientSecret,
    grant: { type: 'client_credentials' },
    // The scope is required by MyParcel.com; '*' asks for every scope the user has.
    scope,
    // A JSON body, with Content-Type application/json, is the only form MyParcel.com takes.
    tokenRequest: { method: 'POST', encoding: 'json', clientAuth: 'body' },
    // The instance's baseURL (where the user's requests go) wins; without one, the provider's API.
    defaultOrigins: [originOf(apiBase)],
  };
  if (options.origins !== undefined) result.origins = options.origins;
  return result;
}
