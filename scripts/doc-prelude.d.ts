// The names the documentation's code blocks take as given, declared once so that
// each block can stay short: the credentials, an Axios instance with a baseURL,
// and the handle attachAuth returned for it. Kept small on purpose: a block that
// needs more declares or imports it itself. Used only by check-doc-code.ts.

import type { AxiosInstance } from 'axios';
import type { AuthHandle } from 'axios-oauth-queue';

declare global {
  /** The client id and secret of the examples (in real code, from the environment). */
  const clientId: string;
  const clientSecret: string;
  /** A user's credentials, for the password grant examples. */
  const username: string;
  const password: string;
  /** An Axios instance with a baseURL, as `axios.create({ baseURL })` makes it. */
  const api: AxiosInstance;
  /** The handle `attachAuth(api, …)` returned. */
  const auth: AuthHandle;
}
