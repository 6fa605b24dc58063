// The parameters each grant sends to the token endpoint (RFC 6749 §4 and §6),
// and which grants can be run again when a refresh token is rejected.

import type { Grant } from './options.js';

/** The body (or query) parameters of a token request for this grant, before client authentication. */
export function grantParameters(grant: Grant, scope: string | undefined): Record<string, string> {
  const parameters: Record<string, string> = { grant_type: grant.type };
  switch (grant.type) {
    case 'client_credentials':
      break;
    case 'password':
      parameters['username'] = grant.username;
      parameters['password'] = grant.password;
      break;
    case 'refresh_token':
      parameters['refresh_token'] = grant.refreshToken;
      break;
    case 'authorization_code':
      parameters['code'] = grant.code;
      parameters['redirect_uri'] = grant.redirectUri;
      if (grant.codeVerifier !== undefined) parameters['code_verifier'] = grant.codeVerifier;
      break;
  }
  // RFC 6749 §6: a refresh may narrow the scope but not widen it; sending the same scope is allowed.
  if (scope !== undefined && grant.type !== 'authorization_code') parameters['scope'] = scope;
  return parameters;
}

/** The parameters of a refresh with `refreshToken` (RFC 6749 §6). */
export function refreshParameters(refreshToken: string, scope: string | undefined): Record<string, string> {
  return grantParameters({ type: 'refresh_token', refreshToken }, scope);
}

/** Grants that can be sent again for a new token: the credentials in them do not wear out. */
export function canRerun(grant: Grant): boolean {
  return grant.type === 'client_credentials' || grant.type === 'password';
}

/**
 * The person or thing a token is for, as part of the token identity: what stays the same
 * across refresh-token rotations, never a secret. `subject` (the `subject` option) names the
 * user or session of the grant. A refresh_token or authorization_code grant is never keyed by
 * its refresh token (it rotates) or its code (it is spent): without a subject, every handle of
 * the same client, endpoint, scope and audience shares one key, so that workers started from
 * older or newer refresh tokens of one grant share one token set and one lock.
 */
export function grantSubject(grant: Grant, subject?: string): string {
  const named = subject === undefined ? '' : `:subject:${subject}`;
  return grant.type === 'password' ? `password:${grant.username}${named}` : `${grant.type}${named}`;
}
