// The token identity of design.md: what makes two option sets share a token, and
// stays the same across refresh-token rotations. Hashed, so that nothing a caller
// passes (a username, a subject) appears in a key.

import { createHash } from 'node:crypto';
import { grantSubject } from './grants.js';
import type { Grant } from './options.js';

export interface TokenIdentity {
  tokenUrl: string;
  clientId: string;
  grant: Grant;
  scope: string | undefined;
  params: Record<string, string>;
  /** The `subject` option: the user or session a refresh_token or authorization_code grant belongs to. */
  subject?: string | undefined;
}

/**
 * A stable key for this identity: `<prefix>` plus a SHA-256 of its parts. The secret that
 * rotates (a refresh token) or is spent (a code) never names it: workers started from older
 * or newer refresh tokens of one grant meet under one key and one lock. `subject` tells apart
 * the grants of several users of one client that share a store.
 */
export function tokenKey(identity: TokenIdentity, prefix = 'axios-oauth-queue:'): string {
  const audience = Object.keys(identity.params)
    .sort()
    .map((name) => [name, identity.params[name]]);
  const material = JSON.stringify([identity.tokenUrl, identity.clientId, grantSubject(identity.grant, identity.subject), identity.scope ?? '', audience]);
  return `${prefix}${createHash('sha256').update(material).digest('base64url')}`;
}
