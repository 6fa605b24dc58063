// Decides whether a request may carry the token: only to the allowed origins
// (promise 4 of design.md). The origin of each base URL is parsed once and
// remembered, so the check costs a Map lookup on the hot path.

import type { InternalAxiosRequestConfig } from 'axios';

/** axios's own test for an absolute URL (including protocol-relative `//host`). */
const ABSOLUTE_URL = /^([a-z][a-z\d+\-.]*:)?\/\//i;
/** scheme://authority, up to the first path, query or fragment character. */
const URL_PREFIX = /^[a-z][a-z\d+\-.]*:\/\/[^/?#]*/i;
const CACHE_LIMIT = 1000;

export class OriginGuard {
  readonly #origins: ReadonlySet<string>;
  readonly #decisions = new Map<string, boolean>();

  constructor(origins: ReadonlySet<string>) {
    this.#origins = origins;
  }

  /**
   * True when every place axios may send the request is on an allowed origin. axios joins
   * baseURL and a relative url. An absolute url goes where it says, except that from 1.8.2 on
   * `allowAbsoluteUrls: false` joins it to baseURL instead; releases before 1.8.2 ignore that
   * option. So the guard does not rely on it: an absolute url must be allowed whatever
   * allowAbsoluteUrls says, and with allowAbsoluteUrls false the baseURL must be too.
   */
  allowsRequest(config: InternalAxiosRequestConfig): boolean {
    const url = config.url ?? '';
    const baseURL = config.baseURL;
    if (!isAbsoluteUrl(url)) return baseURL !== undefined && baseURL !== '' && this.allowsUrl(baseURL);
    if (!this.allowsUrl(url)) return false;
    return !baseURL || config.allowAbsoluteUrls !== false || this.allowsUrl(baseURL);
  }

  /** True when `url` (absolute) is on an allowed origin. */
  allowsUrl(url: string): boolean {
    const prefix = URL_PREFIX.exec(url)?.[0];
    if (prefix === undefined) return false;
    let allowed = this.#decisions.get(prefix);
    if (allowed === undefined) {
      allowed = this.#origins.has(originOf(prefix));
      if (this.#decisions.size >= CACHE_LIMIT) this.#decisions.clear();
      this.#decisions.set(prefix, allowed);
    }
    return allowed;
  }
}

/** axios's own test for an absolute URL (including protocol-relative `//host`). */
export function isAbsoluteUrl(url: string): boolean {
  return ABSOLUTE_URL.test(url);
}

function originOf(prefix: string): string {
  try {
    return new URL(prefix).origin;
  } catch {
    return 'null';
  }
}
