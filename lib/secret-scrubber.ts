// Removes secrets from text a server sent back (an OAuth error's code, description
// and URI) and from log lines, in every spelling a server may echo them: as sent,
// percent- or form-encoded (any hex case, `+` for space, encoded twice, any mix),
// JSON-escaped (`\"`, `\\`, `\/`, `\u00e9`), HTML-escaped, and inside a Base64
// blob such as an HTTP Basic header built from `id:secret` (RFC 6749 §2.3.1).
// The text is decoded once into canonical bytes that remember where each came
// from; each secret's canonical forms are computed once and cached.

import { formEncode } from './form-encode.js';

/** What a secret is replaced with. */
export const REDACTED = '[REDACTED]';

/** Very short values would redact ordinary words; a secret that short is not a secret. */
const MIN_SECRET_LENGTH = 4;
/** A Base64 run shorter than this (six bytes) would match ordinary words. */
const MIN_BASE64_LENGTH = 8;
/** Secrets rotate (refresh and access tokens); the cache keeps the forms of the latest ones. */
const MAX_CACHED_SECRETS = 256;

const formsBySecret = new Map<string, readonly string[]>();

/**
 * Replaces every occurrence of each secret in `text`, in any spelling, with `[REDACTED]`.
 * Values shorter than four characters are left alone.
 */
export function redactSecrets(text: string, secrets: Iterable<string | undefined>): string {
  let decoded: Decoded | undefined;
  const spans: [number, number][] = [];
  for (const secret of secrets) {
    if (secret === undefined || secret.length < MIN_SECRET_LENGTH) continue;
    decoded ??= decode(text);
    for (const form of formsOf(secret)) {
      for (let at = decoded.bytes.indexOf(form); at !== -1; at = decoded.bytes.indexOf(form, at + 1)) {
        const last = at + form.length - 1;
        spans.push(decoded.starts === undefined || decoded.ends === undefined ? [at, last + 1] : [decoded.starts[at]!, decoded.ends[last]!]);
      }
    }
  }
  return spans.length === 0 ? text : replaceSpans(text, spans);
}

/** Each span (merged where they overlap) becomes one `[REDACTED]`. */
function replaceSpans(text: string, spans: [number, number][]): string {
  spans.sort((a, b) => a[0] - b[0]);
  let result = '';
  let copied = 0;
  for (const [start, end] of spans) {
    if (end <= copied) continue;
    if (start >= copied) {
      result += text.slice(copied, start) + REDACTED;
    }
    copied = end;
  }
  return result + text.slice(copied);
}

/**
 * The byte strings to look for in decoded text: the secret, its form-encoding (what
 * a Basic header carries), and the Base64 (standard and URL-safe) of both at each
 * of the three byte alignments, trimmed to the characters that depend on the secret
 * alone, so a secret anywhere inside a Base64 blob (`id:secret`) is found. Each as
 * decoding would leave it and as its raw bytes (decoding `%2B` gives `+`, a bare `+` a space).
 */
function formsOf(secret: string): readonly string[] {
  let forms = formsBySecret.get(secret);
  if (forms === undefined) {
    const spellings = new Set<string>([secret]);
    for (const form of new Set([secret, formEncode(secret)])) {
      const bytes = Buffer.from(form, 'utf8');
      for (let start = 0; start < 3; start += 1) {
        const whole = Math.floor((bytes.length - start) / 3) * 3;
        if (whole <= 0) continue;
        const base64 = bytes.subarray(start, start + whole).toString('base64');
        if (base64.length < MIN_BASE64_LENGTH) continue;
        spellings.add(base64);
        spellings.add(base64.replace(/\+/g, '-').replace(/\//g, '_'));
      }
    }
    const all = new Set<string>();
    for (const spelling of spellings) {
      all.add(decode(spelling).bytes);
      all.add(Buffer.from(spelling, 'utf8').toString('latin1'));
    }
    forms = [...all];
    if (formsBySecret.size >= MAX_CACHED_SECRETS) formsBySecret.delete(formsBySecret.keys().next().value as string);
    formsBySecret.set(secret, forms);
  }
  return forms;
}

/** Text decoded to bytes (one latin1 character each), with the span of the source each byte came from. */
interface Decoded {
  bytes: string;
  /** Undefined when the text needed no decoding: byte i is character i. */
  starts: Uint32Array | undefined;
  ends: Uint32Array | undefined;
}

const PERCENT = /%(?:25)?([0-9A-Fa-f]{2})/y;
const UNICODE_ESCAPE = /\\u([0-9A-Fa-f]{4})(?:\\u([dD][c-fC-F][0-9A-Fa-f]{2}))?/y;
const HTML_ENTITY = /&(?:#([0-9]{1,7})|#[xX]([0-9A-Fa-f]{1,6})|(amp|lt|gt|quot|apos));/y;
const JSON_SHORT: Record<string, number> = { '"': 0x22, '\\': 0x5c, '/': 0x2f, b: 0x08, f: 0x0c, n: 0x0a, r: 0x0d, t: 0x09 };
const HTML_NAMED: Record<string, number> = { amp: 0x26, lt: 0x3c, gt: 0x3e, quot: 0x22, apos: 0x27 };
/** ASCII text without `%`, `&`, `+` or a backslash is its own decoding (the common case: a plain description). */
const NOTHING_TO_DECODE = /^[^%&+\\\u0080-\uffff]*$/;

/**
 * Undoes, in one pass, every encoding a server may have applied, mixed as it likes:
 * percent-encoding (once or twice), `+` for space, JSON escapes, HTML entities.
 */
function decode(text: string): Decoded {
  if (NOTHING_TO_DECODE.test(text)) return { bytes: text, starts: undefined, ends: undefined };
  // UTF-8 takes at most three bytes per UTF-16 unit.
  const bytes = new Uint8Array(text.length * 3);
  const starts = new Uint32Array(text.length * 3);
  const ends = new Uint32Array(text.length * 3);
  let length = 0;
  const emit = (value: readonly number[], start: number, end: number): void => {
    for (const byte of value) {
      bytes[length] = byte;
      starts[length] = start;
      ends[length] = end;
      length += 1;
    }
  };
  for (let index = 0; index < text.length; ) {
    const char = text[index]!;
    const match = char === '%' ? sticky(PERCENT, text, index) : char === '\\' ? sticky(UNICODE_ESCAPE, text, index) : char === '&' ? sticky(HTML_ENTITY, text, index) : null;
    if (match !== null) {
      const end = index + match[0].length;
      if (char === '%') emit([parseInt(match[1]!, 16)], index, end);
      else if (char === '\\') emit(utf8(codePointOf(parseInt(match[1]!, 16), match[2])), index, end);
      else emit(utf8(match[1] !== undefined ? Number(match[1]) : match[2] !== undefined ? parseInt(match[2], 16) : HTML_NAMED[match[3]!]!), index, end);
      index = end;
      continue;
    }
    const short = char === '\\' ? JSON_SHORT[text[index + 1] ?? ''] : undefined;
    if (short !== undefined) {
      emit([short], index, index + 2);
      index += 2;
      continue;
    }
    if (char === '+') {
      emit([0x20], index, index + 1);
      index += 1;
      continue;
    }
    const codePoint = text.codePointAt(index)!;
    const width = codePoint > 0xffff ? 2 : 1;
    emit(utf8(codePoint), index, index + width);
    index += width;
  }
  return { bytes: Buffer.from(bytes.buffer, 0, length).toString('latin1'), starts: starts.subarray(0, length), ends: ends.subarray(0, length) };
}

function sticky(pattern: RegExp, text: string, index: number): RegExpExecArray | null {
  pattern.lastIndex = index;
  return pattern.exec(text);
}

/** A code point from a \u escape, joined with the low surrogate that may follow it. */
function codePointOf(unit: number, low: string | undefined): number {
  return low !== undefined && unit >= 0xd800 && unit <= 0xdbff ? (unit - 0xd800) * 0x400 + (parseInt(low, 16) - 0xdc00) + 0x10000 : unit;
}

function utf8(codePoint: number): number[] {
  if (codePoint < 0x80) return [codePoint];
  return [...Buffer.from(String.fromCodePoint(Math.min(codePoint, 0x10ffff)), 'utf8')];
}

/**
 * The values to scrub: the fixed ones (the client secret, a password, a code) and the
 * tokens of the moment, plus every token still used by a call in flight. A token a
 * call sent stays on the list until that call has settled, even after the token set
 * was forgotten or replaced (a revocation endpoint may echo the token it revoked).
 */
export class ScrubList {
  readonly #current: () => Iterable<string | undefined>;
  readonly #inUse = new Map<string, number>();

  constructor(current: () => Iterable<string | undefined>) {
    this.#current = current;
  }

  /** Every value to scrub right now. */
  *values(): Generator<string | undefined> {
    yield* this.#current();
    yield* this.#inUse.keys();
  }

  /** `redactSecrets` over every value on the list. */
  scrub(text: string): string {
    return redactSecrets(text, this.values());
  }

  /** Runs `call` with `values` kept on the list until it settles. */
  async using<T>(values: readonly (string | undefined)[], call: () => Promise<T>): Promise<T> {
    const held = values.filter((value): value is string => value !== undefined);
    for (const value of held) this.#inUse.set(value, (this.#inUse.get(value) ?? 0) + 1);
    try {
      return await call();
    } finally {
      for (const value of held) {
        const count = (this.#inUse.get(value) ?? 1) - 1;
        if (count === 0) this.#inUse.delete(value);
        else this.#inUse.set(value, count);
      }
    }
  }
}
