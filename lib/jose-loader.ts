// Loads the `jose` library (JWS signing for client assertions and DPoP proofs)
// on first use only. A client that authenticates with a shared secret never
// loads it, and the package's own bundle never contains it: `jose` is an ES
// module imported dynamically, which works from the CommonJS build too.

import type * as Jose from 'jose';
import { ConfigurationError } from './errors.js';

/** The parts of `jose` this package uses. */
export type JoseModule = typeof Jose;

let loading: Promise<JoseModule> | undefined;

/** The `jose` module, imported once per process. A failed import is tried again next time. */
export function loadJose(): Promise<JoseModule> {
  loading ??= import('jose').catch((error: unknown) => {
    loading = undefined;
    const reason = error instanceof Error ? error.message.split('\n')[0] : 'import failed';
    const failure = new ConfigurationError('tokenRequest.clientAuth', `needs the "jose" package (npm install jose), which could not be loaded: ${reason}`);
    throw failure;
  });
  return loading;
}
