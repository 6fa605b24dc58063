// A token stays on the scrub list until every call that used it has settled:
// `handle.revoke()` forgets the token set before it calls the revocation endpoint,
// and `handle.tokenInfo()` may see the token replaced by a refresh while it waits,
// yet an endpoint that answers an error echoing the token it was sent must not put
// that token into the error. Real loopback sockets.

import axios from 'axios';
import { expect } from 'chai';
import { attachAuth, OAuthError, type AuthHandle } from '../../lib/index.js';
import { deferred, within, until, type Deferred } from '../helpers/deferred.js';
import { listen, sendJson, type Loopback } from '../helpers/emulators/loopback.js';
import { leaksIn, rememberSecrets, sweep } from '../helpers/secret-sweep.js';

const CLIENT_ID = 'revocation-client';
const CLIENT_SECRET = 'revocation-secret-51d0aa';
const BOUND_MS = 5000;

describe('revocation and token info keep the tokens they sent out of their errors', function () {
  let server: Loopback;
  const issued: string[] = [];
  let tokenInfoGate: Deferred<void> | undefined;
  let tokenInfoArrived = 0;
  const handles: AuthHandle[] = [];

  before(async () => {
    rememberSecrets(CLIENT_SECRET);
    server = await listen(async (request, response, url, body) => {
      const params = new URLSearchParams(body);
      if (url.pathname === '/token') {
        const accessToken = `revocation-at-${issued.length}-${Math.random().toString(36).slice(2, 10)}`;
        const refreshToken = `revocation-rt-${issued.length}-${Math.random().toString(36).slice(2, 10)}`;
        issued.push(accessToken, refreshToken);
        rememberSecrets(accessToken, refreshToken);
        sendJson(response, 200, { access_token: accessToken, refresh_token: refreshToken, token_type: 'Bearer', expires_in: 3600 });
      } else if (url.pathname === '/revoke') {
        // Echoes the token it was sent, plain, form-encoded and in the error code.
        const token = params.get('token') ?? '';
        sendJson(response, 400, { error: `invalid_request:${token}`, error_description: `cannot revoke ${token} (${encodeURIComponent(token)})` });
      } else if (url.pathname === '/tokeninfo') {
        tokenInfoArrived += 1;
        await tokenInfoGate?.promise;
        const token = (request.headers.authorization ?? '').replace(/^Bearer /, '');
        sendJson(response, 401, { error: 'invalid_token', error_description: `the token ${token} has expired` });
      } else sendJson(response, 200, { ok: true });
    }, Date.now);
  });

  after(async () => {
    tokenInfoGate?.resolve();
    await server.close();
  });

  afterEach(() => {
    for (const handle of handles.splice(0)) handle.detach();
  });

  function connect(): AuthHandle {
    const api = axios.create({ baseURL: server.origin });
    const handle = attachAuth(api, {
      tokenUrl: `${server.origin}/token`,
      revocationUrl: `${server.origin}/revoke`,
      tokenInfoUrl: `${server.origin}/tokeninfo`,
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      grant: { type: 'client_credentials' },
    });
    handles.push(handle);
    return handle;
  }

  async function failure(call: Promise<unknown>, what: string): Promise<OAuthError> {
    const error = await within(call.then(() => undefined, (failed: unknown) => failed), BOUND_MS, what);
    expect(error, `${what} should fail with an OAuthError`).to.be.instanceOf(OAuthError);
    return sweep(error as OAuthError, `revocation-secrets: ${what}`);
  }

  it('keeps the refresh token out of the error of a revocation endpoint that echoes it, though the token set is already forgotten', async function () {
    const handle = connect();
    const tokenSet = await within(handle.getToken(), BOUND_MS, 'the first token');

    const error = await failure(handle.revoke(), 'revoke()');

    expect(error.code).to.equal('invalid_request:[REDACTED]');
    expect(error.description).to.equal('cannot revoke [REDACTED] ([REDACTED])');
    expect(leaksIn(error, [tokenSet.refreshToken, tokenSet.accessToken])).to.deep.equal([]);
  });

  it('keeps the access token out of a token info error that arrives after a refresh replaced it', async function () {
    const handle = connect();
    const first = await within(handle.getToken(), BOUND_MS, 'the first token');
    tokenInfoGate = deferred();
    const before = tokenInfoArrived;
    const info = handle.tokenInfo();
    await until(() => tokenInfoArrived > before, 'the token info request arrives');
    const second = await within(handle.refresh(), BOUND_MS, 'the refresh');
    tokenInfoGate.resolve();

    const error = await failure(info, 'tokenInfo()');

    expect(second.accessToken).to.not.equal(first.accessToken);
    expect(error.description).to.equal('the token [REDACTED] has expired');
    expect(leaksIn(error, [first.accessToken, second.accessToken])).to.deep.equal([]);
  });
});
