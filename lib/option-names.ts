// The option names attachAuth knows, in one place, and the check that turns an
// unknown name (a typo a JavaScript caller gets no compiler error for) into a
// ConfigurationError that suggests the closest known name.
//
// Each list is typed as "exactly the keys of the option type", so adding a field
// to an option interface in options.ts fails the typecheck here until its name is
// added: one line, next to the others.

import { ConfigurationError } from './errors.js';
import type { AttachAuthOptions, AuthEvents, Grant, RetryOptions, TokenRequestOptions } from './options.js';

/** Every key of `T`, no more and no fewer (the compiler checks both ways). */
type NamesOf<T> = { readonly [K in keyof Required<T>]: true };

const TOKEN_REQUEST_NAMES: NamesOf<TokenRequestOptions> = {
  method: true,
  encoding: true,
  clientAuth: true,
  params: true,
  headers: true,
  timeout: true,
  clientAssertion: true,
  httpsAgent: true,
};

const RETRY_NAMES: NamesOf<RetryOptions> = { limit: true, baseDelay: true, maxDelay: true };

const EVENT_NAMES: NamesOf<AuthEvents> = { onToken: true, onRefreshError: true, onReplay: true };

/** The fields of each grant, by its `type`. */
const GRANT_NAMES: { readonly [G in Grant as G['type']]: NamesOf<G> } = {
  client_credentials: { type: true },
  password: { type: true, username: true, password: true },
  refresh_token: { type: true, refreshToken: true },
  authorization_code: { type: true, code: true, redirectUri: true, codeVerifier: true },
};

const ATTACH_AUTH_NAMES: NamesOf<AttachAuthOptions> = {
  tokenUrl: true,
  issuer: true,
  clientId: true,
  clientSecret: true,
  grant: true,
  scope: true,
  tokenRequest: true,
  refreshWindow: true,
  defaultExpiresIn: true,
  retryStatusCodes: true,
  origins: true,
  defaultOrigins: true,
  allowInsecureHttp: true,
  store: true,
  subject: true,
  revocationUrl: true,
  tokenInfoUrl: true,
  introspectionUrl: true,
  dpop: true,
  telemetry: true,
  retry: true,
  refreshTimeout: true,
  failureCoolDown: true,
  events: true,
  logger: true,
  clock: true,
};

/**
 * The option objects whose own keys are checked, one level deep. `logger`, `store`
 * and `clock` are not: they are often objects with more methods than the package
 * uses (a pino logger, a Redis store). `tokenRequest.params`/`headers` are free-form.
 */
const NESTED_NAMES: Readonly<Record<string, readonly string[]>> = {
  tokenRequest: Object.keys(TOKEN_REQUEST_NAMES),
  retry: Object.keys(RETRY_NAMES),
  events: Object.keys(EVENT_NAMES),
};

/** The top-level names attachAuth takes; presets add their own to these. */
export const ATTACH_AUTH_OPTION_NAMES: readonly string[] = Object.keys(ATTACH_AUTH_NAMES);

/** Every known name as a dotted path, for suggestions across levels (`timeout` → `tokenRequest.timeout`). */
function knownPaths(topLevel: readonly string[]): string[] {
  const grantFields = new Set(Object.values(GRANT_NAMES).flatMap((fields) => Object.keys(fields)));
  return [
    ...topLevel,
    ...Object.entries(NESTED_NAMES).flatMap(([parent, names]) => names.map((name) => `${parent}.${name}`)),
    ...[...grantFields].map((name) => `grant.${name}`),
  ];
}

/**
 * Throws a ConfigurationError for the first name in `options` (top level, the
 * nested option objects, and the grant's fields) that is not known. `extraNames`
 * are the top-level names a preset adds (`baseUrl`, `sandbox`); `prefix` names the
 * preset in the error (`mvmnt.`).
 */
export function rejectUnknownOptions(options: object, extraNames: readonly string[] = [], prefix = ''): void {
  const topLevel = [...ATTACH_AUTH_OPTION_NAMES, ...extraNames];
  const paths = knownPaths(topLevel);
  checkNames(options, topLevel, '', paths, prefix);
  const record = options as Record<string, unknown>;
  for (const [parent, names] of Object.entries(NESTED_NAMES)) {
    const value = record[parent];
    if (isPlainObject(value)) checkNames(value, names, `${parent}.`, paths, prefix);
  }
  const grant = record['grant'];
  if (isPlainObject(grant) && typeof grant['type'] === 'string' && Object.hasOwn(GRANT_NAMES, grant['type'])) {
    const fields = Object.keys(GRANT_NAMES[grant['type'] as Grant['type']]);
    checkNames(grant, fields, 'grant.', fields.map((field) => `grant.${field}`), prefix);
  }
}

function checkNames(value: object, allowed: readonly string[], parent: string, paths: readonly string[], prefix: string): void {
  for (const name of Object.keys(value)) {
    if (allowed.includes(name)) continue;
    const path = `${parent}${name}`;
    const suggestion = closestName(name, path, paths);
    const hint = suggestion === undefined ? `; known here: ${allowed.join(', ')}` : `; did you mean "${prefix}${suggestion}"?`;
    throw new ConfigurationError(`${prefix}${path}`, `is not an option axios-oauth-queue knows${hint}`);
  }
}

/**
 * The known path nearest to an unknown name: by its own name against each path's
 * last part, and by its full path against each full path; ties go to the shorter
 * path (the same level). Nothing is suggested when the nearest is too far to be a typo.
 */
export function closestName(name: string, path: string, paths: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of paths) {
    const leaf = candidate.slice(candidate.lastIndexOf('.') + 1);
    const distance = Math.min(editDistance(name.toLowerCase(), leaf.toLowerCase()), editDistance(path.toLowerCase(), candidate.toLowerCase()));
    if (distance < bestDistance || (distance === bestDistance && best !== undefined && candidate.length < best.length)) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

/** Damerau–Levenshtein distance (optimal string alignment): a swapped pair of letters counts as one edit. */
export function editDistance(a: string, b: string): number {
  const rows: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  const at = (i: number, j: number): number => rows[i]?.[j] ?? Number.POSITIVE_INFINITY;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let distance = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) distance = Math.min(distance, at(i - 2, j - 2) + 1);
      (rows[i] as number[])[j] = distance;
    }
  }
  return at(a.length, b.length);
}

/** A non-null, non-array object: an options object whose keys can be checked or merged. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
