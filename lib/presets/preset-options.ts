// What every preset takes, and how a preset turns a base URL into endpoints and
// lays the caller's attachAuth options over its own.

import { ConfigurationError } from '../errors.js';
import { isPlainObject, rejectUnknownOptions } from '../option-names.js';
import type { AttachAuthOptions, Grant } from '../options.js';

/**
 * Options every preset accepts: the client credentials, `baseUrl`, and any
 * `attachAuth` option as an override of what the preset sets. Object options
 * (`tokenRequest`, `retry`, `events`) are merged one level deep, so
 * `tokenRequest: { timeout: 1000 }` keeps the provider's method and encoding.
 */
export interface PresetOptions extends Partial<AttachAuthOptions> {
  /** The client id the provider issued. */
  clientId: string;
  /** The client secret the provider issued. Every provider served here requires one (none documents public clients). */
  clientSecret: string;
  /**
   * Point the preset at another host (a sandbox, a test server), e.g. `http://127.0.0.1:4000`.
   * The provider's paths are kept; the token may then go to this origin.
   */
  baseUrl?: string;
}

/** The attachAuth options merged one level deep when both the preset and the caller set them. */
const MERGED_ONE_LEVEL = new Set<string>(['tokenRequest', 'retry', 'events']);

/**
 * The preset's options with the caller's laid over them: every attachAuth option the
 * caller gave wins, object options merged one level deep. Names that neither attachAuth
 * nor the preset knows are refused first (a typo must not be dropped silently).
 * `presetNames` are the preset's own options (`baseUrl`, `sandbox`), never passed on.
 */
export function withOverrides(preset: AttachAuthOptions, options: PresetOptions, presetName: string, presetNames: readonly string[] = []): AttachAuthOptions {
  const ownNames = ['baseUrl', ...presetNames];
  rejectUnknownOptions(options, ownNames, `${presetName}.`);
  const result: Record<string, unknown> = { ...preset };
  for (const [name, value] of Object.entries(options)) {
    if (value === undefined || ownNames.includes(name)) continue;
    const current = result[name];
    result[name] = MERGED_ONE_LEVEL.has(name) && isPlainObject(current) && isPlainObject(value) ? { ...current, ...value } : value;
  }
  return result as unknown as AttachAuthOptions;
}

/** `baseUrl` without a trailing slash, after checking it is an absolute URL. */
export function trimBaseUrl(baseUrl: string, preset: string): string {
  try {
    new URL(baseUrl);
  } catch {
    throw new ConfigurationError(`${preset}.baseUrl`, 'must be an absolute URL such as https://sandbox.example.com');
  }
  return baseUrl.replace(/\/+$/, '');
}

/**
 * Checks the required clientId and clientSecret, naming the preset in the error. The
 * secret is required because each provider's document requires it: none of them
 * registers public clients (PKCE is an extra check on top of the secret, not a replacement).
 */
export function requireCredentials(options: PresetOptions, preset: string): void {
  if (options === null || typeof options !== 'object') throw new ConfigurationError(preset, 'takes an options object with clientId and clientSecret');
  if (typeof options.clientId !== 'string' || options.clientId === '') throw new ConfigurationError(`${preset}.clientId`, 'must be a non-empty string');
  if (typeof options.clientSecret !== 'string' || options.clientSecret === '') {
    throw new ConfigurationError(`${preset}.clientSecret`, "must be a non-empty string (the provider's document requires a client secret for every grant)");
  }
}

/**
 * The grant a preset was given, or client credentials, after checking at run time
 * that the provider supports it (JavaScript callers get no type check).
 */
export function supportedGrant<T extends Grant>(grant: T | undefined, allowed: readonly T['type'][], preset: string): T | { type: 'client_credentials' } {
  if (grant === undefined) return { type: 'client_credentials' };
  if (grant === null || typeof grant !== 'object' || !(allowed as readonly string[]).includes(grant.type)) {
    throw new ConfigurationError(`${preset}.grant`, `must have a type among ${allowed.map((type) => `"${type}"`).join(', ')} (the grants the provider documents)`);
  }
  return grant;
}

/** The origin of an absolute URL, e.g. `https://api.mvmnt.io`. */
export function originOf(url: string): string {
  return new URL(url).origin;
}
