// What every preset takes, and how a preset turns a base URL into endpoints.

import { ConfigurationError } from '../errors.js';
import type { Grant } from '../options.js';

/** Options every preset accepts. */
export interface PresetOptions {
  /** The client id the provider issued. */
  clientId: string;
  /** The client secret the provider issued. */
  clientSecret: string;
  /**
   * Point the preset at another host (a sandbox, a test server), e.g. `http://127.0.0.1:4000`.
   * The provider's paths are kept; the token may then go to this origin.
   */
  baseUrl?: string;
  /** Where the token may go; default: the instance's baseURL origin, or without one the provider's API origin (or `baseUrl`'s). */
  origins?: readonly string[];
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

/** Checks the required clientId and clientSecret, naming the preset in the error. */
export function requireCredentials(options: PresetOptions, preset: string): void {
  if (options === null || typeof options !== 'object') throw new ConfigurationError(preset, 'takes an options object with clientId and clientSecret');
  if (typeof options.clientId !== 'string' || options.clientId === '') throw new ConfigurationError(`${preset}.clientId`, 'must be a non-empty string');
  if (typeof options.clientSecret !== 'string' || options.clientSecret === '') throw new ConfigurationError(`${preset}.clientSecret`, 'must be a non-empty string');
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
