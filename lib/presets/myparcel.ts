// MyParcel.com: client credentials at POST /access-token on auth.myparcel.com
// (auth.sandbox.myparcel.com for the sandbox) with a JSON body and a scope
// ('*' for every scope of the user, or space-separated scopes); JWT access
// tokens whose exp the engine reads. The API lives on its own host, so the
// token may go there, not to the auth host.

import type { AttachAuthOptions, ClientCredentialsGrant } from '../options.js';
import { ConfigurationError } from '../errors.js';
import { originOf, requireCredentials, supportedGrant, trimBaseUrl, withOverrides, type PresetOptions } from './preset-options.js';

export const MYPARCEL_AUTH_URL = 'https://auth.myparcel.com';
export const MYPARCEL_SANDBOX_AUTH_URL = 'https://auth.sandbox.myparcel.com';
export const MYPARCEL_API_URL = 'https://api.myparcel.com';
export const MYPARCEL_SANDBOX_API_URL = 'https://sandbox-api.myparcel.com';

/** Options for the MyParcel.com API. */
export interface MyParcelPresetOptions extends PresetOptions {
  /** Scopes, space-separated or as an array, e.g. `['shipments.manage', 'files.show']`; default `'*'` (every scope of the user). */
  scope?: string | readonly string[];
  /**
   * Use MyParcel.com's sandbox: the token from auth.sandbox.myparcel.com, for the sandbox API
   * (sandbox-api.myparcel.com). Default false. With `baseUrl`, the token comes from there and
   * may go to `baseUrl`'s origin and to the sandbox API.
   */
  sandbox?: boolean;
  /** Only client credentials, the one grant MyParcel.com documents. */
  grant?: ClientCredentialsGrant;
}

/**
 * attachAuth options for MyParcel.com. The token is requested from the auth host and
 * allowed only on the API host (`sandbox` picks the sandbox pair). With `baseUrl` (a test
 * server or a proxy standing in for the auth host), the token comes from `baseUrl` and may
 * go to `baseUrl`'s origin and, with `sandbox: true`, to the sandbox API as well. Any
 * attachAuth option overrides the preset's.
 */
export function myparcel(options: MyParcelPresetOptions): AttachAuthOptions {
  requireCredentials(options, 'myparcel');
  const scope = options.scope ?? '*';
  if ((typeof scope === 'string' ? scope.trim() : scope.join('')) === '') {
    throw new ConfigurationError('myparcel.scope', 'must name at least one scope, or "*" for all of them (MyParcel.com requires a scope)');
  }
  const sandbox = options.sandbox === true;
  const baseUrl = options.baseUrl === undefined ? undefined : trimBaseUrl(options.baseUrl, 'myparcel');
  const authBase = baseUrl ?? (sandbox ? MYPARCEL_SANDBOX_AUTH_URL : MYPARCEL_AUTH_URL);
  // A stand-in for the auth host serves the API too (a test server) or fronts it (a proxy):
  // the token may go there, since it already receives the secret. sandbox keeps its meaning.
  const apiOrigins = baseUrl === undefined ? [originOf(sandbox ? MYPARCEL_SANDBOX_API_URL : MYPARCEL_API_URL)] : [originOf(baseUrl)];
  if (baseUrl !== undefined && sandbox) apiOrigins.push(originOf(MYPARCEL_SANDBOX_API_URL));
  const result: AttachAuthOptions = {
    tokenUrl: `${authBase}/access-token`,
    clientId: options.clientId,
    clientSecret: options.clientSecret,
    grant: supportedGrant(options.grant, ['client_credentials'], 'myparcel'),
    // The scope is required by MyParcel.com; '*' asks for every scope the user has.
    scope,
    // A JSON body, with Content-Type application/json, is the only form MyParcel.com takes.
    tokenRequest: { method: 'POST', encoding: 'json', clientAuth: 'body' },
    // The instance's baseURL (where the user's requests go) wins; without one, the provider's API.
    defaultOrigins: apiOrigins,
  };
  return withOverrides(result, { ...options, scope }, 'myparcel', ['sandbox']);
}
