// The token identity of design.md: what makes two option sets share a token.
// Hashed, so that no secret (a refresh token that starts a grant) appears in a key.

import { createHash } from 'node:crypto';
import { grantSubject } from './grants.js';
import type { Grant } from './options.js';

export interface TokenIdentity {
  tokenUrl: string;
  clientId: string;
  grant: Grant;
  scope: string | undefined;
  params: Record<string, string>;
}

/** A stable key for this identity: `<prefix>` plus a SHA-256 of its parts. */
export function tokenKey(identity: TokenIdentity, prefix = 'axios-oauth-queue:'): string {
  const audience = Object.keys(identity.params)
    .sort()
    .map((name) => [name, identity.params[name]]);
  const material = JSON.stringify([identity.tokenUrl, identity.clientId, grantSubject(identity.grant), identity.scope ?? '', audience]);
  return `${prefix}${createHash('sha256').update(material).digest('base64url')}`;
}
