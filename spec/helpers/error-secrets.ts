// findSecret: the first secret an error shows when printed any way a user might
// (String, message, stack, JSON.stringify, util.inspect, down the cause chain).
// The renderings and the check are secret-sweep's, so both helpers agree.

import { leakedSecrets } from './secret-sweep.js';

/** The first secret found in any rendering of `error`, or undefined. Short values are ignored. */
export function findSecret(error: unknown, secrets: Iterable<string | undefined>): string | undefined {
  return leakedSecrets(error, secrets)[0]?.secret;
}
