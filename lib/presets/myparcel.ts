// MyParcel.com: client credentials at POST /access-token on auth.myparcel.com
// (auth.sandbox.myparcel.com for the sandbox) with a JSON body and a scope
// ('*' for all); JWT access tokens whose exp is read. The API lives on its own
// host, so the token is allowed there, not on the auth host.

import type { AttachAuthOptions } from '../options.js';
import { originOf, requireCredentials, trimBaseUrl, type PresetOptions } from './preset-options.js';

export const MYPARCEL_AUTH_URL = 'https://auth.myparcel.com';
export const MYPARCEL_SANDBOX_AUTH_URL = 'https://auth.sandbox.myparcel.com';
export const MYPARCEL_API_URL = 'https://api.myparcel.com';
export const MYPARCEL_SANDBOX_API_URL = 'https://sandbox-api.myparcel.com';

export interface MyParcelPresetOptions extends PresetOptions {
  /** Scopes, space-separated or as an array; default `*` (every scope of the user). */
  scope?: string | readonly string[];
  /** Use auth.sandbox.myparcel.com and the sandbox API. */
  sandbox?: boolean;
}

/** attachAuth options for MyParcel.com. */
export function myparcel(options: MyParcelPresetOptions): AttachAuthOptions {
  requireCredentials(options, 'myparcel');
  const sandbox = options.sandbox === true;
  const authBase = options.baseUrl !== undefined ? trimBaseUrl(options.baseUrl, 'myparcel') : sandbox ? MYPARCEL_SANDBOX_AUTH_URL : MYPARCEL_AUTH_URL;
  const apiBase = options.baseUrl !== undefined ? authBase : sandbox ? MYPARCEL_SANDBOX_API_URL : MYPARCEL_API_URL;
  return {
    tokenUrl: `${authBase}/access-token`,
    clientId: options.clientId,
    clientSecret: options.clientSecret,
    grant: { type: 'client_credentials' },
    scope: options.scope ?? '*',
    tokenRequest: { method: 'POST', encoding: 'json', clientAuth: 'body' },
    origins: options.origins ?? [originOf(apiBase)],
  };
}
