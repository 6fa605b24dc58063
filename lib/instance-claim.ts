// One Axios instance carries one token source: a second attachAuth (or an
// attachAuth beside attachUserAuth) on the same instance would let one handle's
// token ride on the other's requests (promise 9 of design.md). Each attach claims
// the instance here; detach releases it.

import type { AxiosInstance } from 'axios';
import { ConfigurationError } from './errors.js';

/** What claimed an instance. */
export type InstanceClaimant = 'attachAuth' | 'attachUserAuth';

const claims = new WeakMap<AxiosInstance, InstanceClaimant>();

/**
 * Marks `instance` as served by `claimant`, or throws a ConfigurationError when it is
 * served already. Returns the release that `detach()` calls.
 */
export function claimInstance(instance: AxiosInstance, claimant: InstanceClaimant): () => void {
  const holder = claims.get(instance);
  if (holder !== undefined) {
    throw new ConfigurationError(
      claimant,
      `cannot be used on an Axios instance that ${holder}() already serves: detach() the first handle, create another instance ` +
        '(axios.create()) for another client, or use attachUserAuth() to serve many users\' tokens from one instance',
    );
  }
  claims.set(instance, claimant);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (claims.get(instance) === claimant) claims.delete(instance);
  };
}
