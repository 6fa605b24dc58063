// The attach-time check of the `issuer` option. It lives apart from lib/discovery.ts so
// that the main chunk holds only this check; the discovery code loads only with `issuer`.

import { ConfigurationError } from './errors.js';

/** Validates `issuer` at attach time: an absolute https URL (or loopback http) without query or fragment (RFC 8414 §2). */
export function checkIssuer(issuer: unknown, checkUrl: (url: string) => boolean): string {
  if (typeof issuer !== 'string' || issuer === '') throw new ConfigurationError('issuer', 'must be the issuer identifier, an https URL such as "https://login.example.com/tenant"');
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    throw new ConfigurationError('issuer', 'must be an absolute https URL');
  }
  if (url.search !== '' || url.hash !== '' || issuer.includes('?') || issuer.includes('#')) throw new ConfigurationError('issuer', 'must have no query or fragment (RFC 8414 §2)');
  if (!checkUrl(issuer)) throw new ConfigurationError('issuer', 'must use https (plain http only to a loopback host, or with allowInsecureHttp: true)');
  return issuer;
}
