// Per-request state of the queue flow, kept in one typed place on the request
// config (a module augmentation of axios), so that it survives the replay:
// axios's mergeConfig passes a class instance through by reference.

/** What axios-oauth-queue remembers about one request. Internal; do not set it yourself. */
export class AuthAttempt {
  /** Which attachAuth handle owns this request. */
  readonly owner: number;
  /** The version of the token the request was last sent with; 0 when it went without one. */
  tokenVersion = 0;
  /** True once the request has been replayed after a 401: never a second time. */
  replayed = false;

  constructor(owner: number) {
    this.owner = owner;
  }
}

declare module 'axios' {
  interface AxiosRequestConfig {
    /** Send this request without a token (axios-oauth-queue). */
    skipAuth?: boolean;
    /** @internal State of axios-oauth-queue for this request. */
    authAttempt?: AuthAttempt;
  }
}
