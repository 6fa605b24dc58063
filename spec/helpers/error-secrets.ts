// Looks for secrets in an error every way a user might print it: String,
// JSON.stringify, util.inspect (depth 8), and each error down its cause chain.

import { inspect } from 'node:util';

/** Every rendering of `error` (and of each `cause` under it) a log line could contain. */
function renderings(error: unknown): string[] {
  const out: string[] = [];
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current !== undefined && current !== null && !seen.has(current)) {
    seen.add(current);
    out.push(String(current));
    try {
      out.push(JSON.stringify(current) ?? '');
    } catch {
      // A circular structure cannot be stringified; inspect below still sees it.
    }
    out.push(inspect(current, { depth: 8 }));
    if (current instanceof Error) {
      out.push(current.message, current.stack ?? '');
      current = current.cause;
    } else current = undefined;
  }
  return out;
}

/** The first secret found in any rendering of `error`, or undefined. Short values are ignored. */
export function findSecret(error: unknown, secrets: Iterable<string | undefined>): string | undefined {
  const text = renderings(error).join('\n');
  for (const secret of secrets) {
    if (secret !== undefined && secret.length >= 6 && text.includes(secret)) return secret;
  }
  return undefined;
}
