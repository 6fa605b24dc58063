// An access_token that cannot be sent as an Authorization header value (CR, LF,
// other control characters, whitespace, anything outside visible ASCII) is a bad
// token response (promise 6): refused with ERR_TOKEN_RESPONSE_INVALID, the valid
// cached token kept and still sent, and requests held for that refresh rejected
// with the typed error. A token_type of any spelling never reaches the header.
// Real loopback sockets; the API records every header it receives.

import axios, { type AxiosInstance } from 'axios';
import { expect } from 'chai';
import { attachAuth, ErrorCodes, TokenEndpointError, type AuthHandle } from '../../lib/index.js';
import { settleAll, within } from '../helpers/deferred.js';
import { listen, sendJson, type Loopback } from '../helpers/emulators/loopback.js';
import { leaksIn, rememberSecrets, sweep } from '../helpers/secret-sweep.js';

const BOUND_MS = 5000;
const UNSAFE_TOKENS: Record<string, string> = {
  'CR LF (header injection)': 'unsafe-token-1\r\nX-Injected: yes',
  'a bare line feed': 'unsafe-token-2\nX-Injected: yes',
  'a space': 'unsafe token 3',
  'a NUL': 'unsafe-token-4\u0000',
  'a character above U+00FF': 'unsafe-token-5-令牌',
  'a Latin-1 letter': 'unsafe-token-6-é',
};

describe('access tokens that cannot be sent in a header', function () {
  let server: Loopback;
  /** What the token endpoint answers next (one body per token request; the last one repeats). */
  let answers: Record<string, unknown>[] = [];
  let tokenRequests = 0;
  /** Every API request's headers, raw. */
  const apiHeaders: string[][] = [];
  const handles: AuthHandle[] = [];
  let good = 0;

  before(async () => {
    server = await listen((request, response, url) => {
      if (url.pathname === '/token') {
        tokenRequests += 1;
        sendJson(response, 200, answers.length > 1 ? answers.shift()! : answers[0]!);
        return;
      }
      apiHeaders.push(request.rawHeaders);
      sendJson(response, 200, { authorization: request.headers.authorization ?? null });
    }, Date.now);
  });

  after(async () => {
    await server.close();
  });

  beforeEach(() => {
    apiHeaders.length = 0;
    tokenRequests = 0;
  });

  afterEach(() => {
    for (const handle of handles.splice(0)) handle.detach();
  });

  function goodToken(): string {
    good += 1;
    const token = `good-token-${good}-${Math.random().toString(36).slice(2, 10)}`;
    rememberSecrets(token);
    return token;
  }

  function connect(): { api: AxiosInstance; handle: AuthHandle } {
    const api = axios.create({ baseURL: server.origin });
    const handle = attachAuth(api, { tokenUrl: `${server.origin}/token`, clientId: 'header-client', clientSecret: 'header-secret-77ab02', retry: { limit: 0 } });
    handles.push(handle);
    return { api, handle };
  }

  function expectTypedRefusal(error: unknown, token: string): void {
    expect(error).to.be.instanceOf(TokenEndpointError);
    expect((error as TokenEndpointError).code).to.equal(ErrorCodes.TOKEN_RESPONSE_INVALID);
    expect((error as TokenEndpointError).message).to.include('cannot be sent in an Authorization header');
    expect(leaksIn(error, [token.replace(/[^\x21-\x7e]/g, '').slice(0, 14)])).to.deep.equal([]);
  }

  for (const [what, unsafe] of Object.entries(UNSAFE_TOKENS)) {
    it(`refuses a token with ${what}, keeps the valid cached token and keeps sending it`, async function () {
      const valid = goodToken();
      answers = [{ access_token: valid, token_type: 'Bearer', expires_in: 3600 }, { access_token: unsafe, token_type: 'Bearer', expires_in: 3600 }];
      const { api, handle } = connect();
      await within(api.get('/first'), BOUND_MS, 'the first request');

      const refused = await within(handle.refresh().then(() => undefined, (error: unknown) => sweep(error, 'header-unsafe refresh')), BOUND_MS, 'the refresh');
      const after = await within(api.get('/after'), BOUND_MS, 'the request after the refusal');

      expectTypedRefusal(refused, unsafe);
      expect(after.data).to.deep.equal({ authorization: `Bearer ${valid}` });
      expect(apiHeaders.flat().some((header) => header.startsWith('X-Injected'))).to.equal(false);
    });
  }

  it('rejects every request held for the refresh that brought an unsafe token with the typed error, and sends none of them', async function () {
    answers = [{ access_token: UNSAFE_TOKENS['CR LF (header injection)']!, token_type: 'Bearer', expires_in: 3600 }];
    const { api } = connect();

    const results = await settleAll(Array.from({ length: 50 }, (_, index) => api.get(`/held/${index}`)), BOUND_MS);

    expect(tokenRequests).to.equal(1);
    expect(apiHeaders).to.deep.equal([]);
    for (const result of results) {
      expect(result.status).to.equal('rejected');
      if (result.status === 'rejected') expectTypedRefusal(sweep(result.reason, 'header-unsafe held'), UNSAFE_TOKENS['CR LF (header injection)']!);
    }
  });

  it('always sends "Bearer", whatever token_type spelling the server used', async function () {
    const tokens: string[] = [];
    for (const tokenType of ['BEARER', 'bearer', ' Bearer ', null]) {
      const token = goodToken();
      tokens.push(token);
      answers = [{ access_token: token, token_type: tokenType, expires_in: 3600 }];
      const { api } = connect();
      await within(api.get('/typed'), BOUND_MS, `the request with token_type ${String(tokenType)}`);
    }

    expect(apiHeaders.map((headers) => headers[headers.findIndex((name) => name.toLowerCase() === 'authorization') + 1])).to.deep.equal(tokens.map((token) => `Bearer ${token}`));
  });
});
