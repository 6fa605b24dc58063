// A short script is a process that must neither exit under a request still waiting
// (promise 1: a retry backoff a caller waits on keeps the process alive) nor stay
// alive for work nobody waits on (promise 7: a background refresh's backoff does not).
// Each case runs a script in a child process, as a user's script runs.

import { expect } from 'chai';
import { ErrorCodes } from '../../lib/index.js';
import { runScript } from '../helpers/child-script.js';
import { listen, sendJson, type Loopback } from '../helpers/emulators/loopback.js';
import { unusedLoopbackUrl } from '../helpers/test-server.js';

describe('process exit (a short script in a child process)', function () {
  this.timeout(30_000);

  it('stays alive while a request waits for the retry backoff, and prints the typed error it rejects with', async () => {
    const tokenUrl = await unusedLoopbackUrl();
    const apiOrigin = new URL(await unusedLoopbackUrl('/')).origin;

    const result = await runScript(`
      const api = axios.create({ baseURL: ${JSON.stringify(apiOrigin)} });
      attachAuth(api, { tokenUrl: ${JSON.stringify(tokenUrl)}, clientId: 'script-client', clientSecret: 'script-secret-31c9', retry: { limit: 2, baseDelay: 300, maxDelay: 300 } });
      // Nothing else keeps this process alive: only the backoff timers between the refused attempts.
      api.get('/things').then(
        () => console.log(JSON.stringify({ outcome: 'resolved' })),
        (error) => console.log(JSON.stringify({ outcome: 'rejected', code: error.code, name: error.name })),
      );
    `);

    expect(result.code, result.stderr).to.equal(0);
    expect(result.last).to.deep.equal({ outcome: 'rejected', code: ErrorCodes.TOKEN_ENDPOINT_UNREACHABLE, name: 'TokenEndpointError' });
  });

  describe('with a token endpoint that gives one token and then answers 503', () => {
    let server: Loopback;
    let tokenRequests = 0;

    before(async () => {
      server = await listen((_request, response, url) => {
        if (url.pathname !== '/token') return sendJson(response, 200, { ok: true });
        tokenRequests += 1;
        if (tokenRequests === 1) return sendJson(response, 200, { access_token: 'script-token', token_type: 'Bearer', expires_in: 3600 });
        return sendJson(response, 503, { error: 'temporarily_unavailable' });
      }, Date.now);
    });

    after(async () => {
      await server.close();
    });

    beforeEach(() => {
      tokenRequests = 0;
    });

    /**
     * The start of both scripts: one token, then a stale one, so a request goes at once and a refresh
     * starts in the background; it fails (503) and waits to retry with this `retry` option.
     */
    const backgroundRefreshInBackoff = (retry: string): string => `
      let skew = 0;
      const api = axios.create({ baseURL: ${JSON.stringify(server.origin)} });
      const handle = attachAuth(api, {
        tokenUrl: ${JSON.stringify(`${server.origin}/token`)}, clientId: 'script-client', clientSecret: 'script-secret-31c9',
        clock: { now: () => Date.now() + skew },
        retry: ${retry},
      });
      await api.get('/first');
      // 30 s before expiry: stale.
      skew = (3600 - 30) * 1000;
      await api.get('/second');
      const deadline = Date.now() + 5000;
      while (!(handle.stats().tokenRequests === 2 && handle.stats().tokenRequestsInFlight === 0)) {
        if (Date.now() > deadline) { console.log(JSON.stringify({ outcome: 'the background refresh never failed' })); process.exit(3); }
        await new Promise((resolve) => setImmediate(resolve));
      }
    `;

    it('exits while a background refresh nobody waits for sits in a long backoff', async () => {
      const result = await runScript(`
        ${backgroundRefreshInBackoff('{ limit: 5, baseDelay: 60000, maxDelay: 60000 }')}
        // The failed background refresh now waits 30-60 s to retry; the script is done.
        console.log(JSON.stringify({ outcome: 'done', tokenRequests: handle.stats().tokenRequests }));
      `);

      expect(result.code, result.stderr).to.equal(0);
      expect(result.last).to.deep.equal({ outcome: 'done', tokenRequests: 2 });
    });

    it('stays alive once a request joins a background refresh that sits in its backoff, and prints the error', async () => {
      const result = await runScript(`
        ${backgroundRefreshInBackoff('{ limit: 1, baseDelay: 400, maxDelay: 400 }')}
        // The token now expires and a request holds for that same refresh, which retries once more and fails.
        skew = 3600 * 1000;
        api.get('/third').then(
          () => console.log(JSON.stringify({ outcome: 'resolved' })),
          (error) => console.log(JSON.stringify({ outcome: 'rejected', status: error.status })),
        );
      `);

      expect(result.code, result.stderr).to.equal(0);
      expect(result.last).to.deep.equal({ outcome: 'rejected', status: 503 });
    });
  });
});
