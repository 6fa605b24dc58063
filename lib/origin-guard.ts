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

  /** True when the request's full URL (as axios will build it) is on an allowed origin. */
  allowsRequest(config: InternalAxiosRequestConfig): boolean {
    const url = config.url ?? '';
    const baseURL = config.baseURL;
    // axios joins baseURL and url unless url is absolute (and absolute URLs are allowed).
    const full = baseURL && (!ABSOLUTE_URL.test(url) || config.allowAbsoluteUrls === false) ? baseURL : url;
    return this.allowsUrl(full);
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

function originOf(prefix: string): string {
  try {
    return new URL(prefix).origin;
  } catch {
    return 'null';
  }
}
