// The secret sweep: the suites record every error a caller received (`sweep`)
// and every secret in play (`rememberSecrets`: client secrets, passwords and
// each token the test servers issue), and spec/secret-sweep.spec.ts checks the
// lot at the end. `leaksIn` looks at an error every way a log line could show it.

import { inspect } from 'node:util';

/** Secrets shorter than this would match ordinary words; no test uses one. */
const MIN_SECRET_LENGTH = 6;

const recordedErrors: { error: unknown; where: string }[] = [];
const knownSecrets = new Set<string>();

/** Records an error a caller received, for the final sweep; returns it unchanged. */
export function sweep<T>(error: T, where = 'unnamed'): T {
  recordedErrors.push({ error, where });
  return error;
}

/** Adds values that must never appear in an error (the test servers call this for every token they issue). */
export function rememberSecrets(...secrets: readonly (string | undefined)[]): void {
  for (const secret of secrets) if (secret !== undefined && secret.length >= MIN_SECRET_LENGTH) knownSecrets.add(secret);
}

/** Every error recorded so far, with where it came from. */
export function recordedSweep(): readonly { error: unknown; where: string }[] {
  return recordedErrors;
}

/** Every secret remembered so far. */
export function knownSecretValues(): readonly string[] {
  return [...knownSecrets];
}

/** One way of showing an error, and what it showed. */
interface Rendering {
  how: string;
  text: string;
}

/** String(error), message, stack, JSON.stringify, toJSON() and util.inspect (depth 8, and with showHidden at any depth), for the error and each `cause` under it. */
export function renderings(error: unknown): Rendering[] {
  const out: Rendering[] = [];
  const seen = new Set<unknown>();
  let current: unknown = error;
  let depth = 0;
  while (current !== undefined && current !== null && !seen.has(current)) {
    seen.add(current);
    const path = depth === 0 ? 'error' : `error${'.cause'.repeat(depth)}`;
    out.push({ how: `String(${path})`, text: String(current) });
    if (current instanceof Error) {
      out.push({ how: `${path}.message`, text: current.message });
      out.push({ how: `${path}.stack`, text: current.stack ?? '' });
    }
    let json: string | undefined;
    try {
      json = JSON.stringify(current);
    } catch (failure) {
      // axios errors carry circular references; say so rather than skip silently.
      json = `(JSON.stringify threw: ${String(failure)})`;
    }
    out.push({ how: `JSON.stringify(${path})`, text: json ?? '' });
    const toJSON = (current as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') {
      let shown: string;
      try {
        shown = JSON.stringify(toJSON.call(current)) ?? '';
      } catch (failure) {
        shown = `(toJSON threw: ${String(failure)})`;
      }
      out.push({ how: `${path}.toJSON()`, text: shown });
    }
    out.push({ how: `inspect(${path})`, text: inspect(current, { depth: 8, showHidden: false }) });
    // showHidden prints non-enumerable properties and symbols: hiding a path is not cutting it.
    out.push({ how: `inspect(${path}, showHidden, depth Infinity)`, text: inspect(current, { depth: Infinity, showHidden: true }) });
    current = current instanceof Error ? current.cause : undefined;
    depth += 1;
  }
  return out;
}

/** A secret some rendering of an error showed, and how it was shown. */
export interface Leak {
  secret: string;
  how: string;
}

/** Each secret (in the order given) that some rendering of `error` shows; empty when clean. Short values are ignored. */
export function leakedSecrets(error: unknown, secrets: Iterable<string | undefined>): Leak[] {
  const texts = renderings(error);
  const leaks: Leak[] = [];
  for (const secret of secrets) {
    if (secret === undefined || secret.length < MIN_SECRET_LENGTH) continue;
    const shown = texts.find((rendering) => rendering.text.includes(secret));
    if (shown !== undefined) leaks.push({ secret, how: shown.how });
  }
  return leaks;
}

/** Each secret found in some rendering of `error`, with the rendering that showed it; empty when clean. */
export function leaksIn(error: unknown, secrets: Iterable<string | undefined>): string[] {
  return leakedSecrets(error, secrets).map(({ secret, how }) => `${JSON.stringify(secret)} in ${how}`);
}

/** Every leak in every recorded error, against every remembered secret (plus `extra`). */
export function leaksInRecordedErrors(extra: readonly string[] = []): string[] {
  const secrets = new Set([...knownSecrets, ...extra]);
  return recordedErrors.flatMap(({ error, where }) => leaksIn(error, secrets).map((leak) => `${where}: ${leak}`));
}
