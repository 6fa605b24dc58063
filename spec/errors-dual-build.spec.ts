// One class, two module systems: the ESM build (dist/index.mjs) and the CommonJS
// build (dist/index.cjs) each carry their own error classes, and one process may
// load both (a CommonJS dependency inside an ES module app). `instanceof` and the
// static `is()` guards must hold across them, and subclass checks stay right.
// Needs the builds: `npm test` builds first; without a current dist this suite is skipped, saying why.

import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import axios from 'axios';
import { expect } from 'chai';
import type * as Package from '../lib/index.js';
import { listen, sendJson, type Loopback } from './helpers/emulators/loopback.js';
import { sweep } from './helpers/secret-sweep.js';

type Build = typeof Package;

const ESM_BUILD = fileURLToPath(new URL('../dist/index.mjs', import.meta.url));
const CJS_BUILD = fileURLToPath(new URL('../dist/index.cjs', import.meta.url));
const ERRORS_SOURCE = fileURLToPath(new URL('../lib/errors.ts', import.meta.url));

describe('error classes across the ESM and CommonJS builds', function () {
  let esm: Build;
  let cjs: Build;
  let server: Loopback | undefined;

  before(async function () {
    const missing = [ESM_BUILD, CJS_BUILD].filter((path) => !existsSync(path) || statSync(path).mtimeMs < statSync(ERRORS_SOURCE).mtimeMs);
    if (missing.length > 0) {
      console.log(`        skipped: ${missing.join(', ')} missing or older than lib/errors.ts; run \`npm run build\` (npm test does)`);
      this.skip();
    }
    esm = (await import(pathToFileURL(ESM_BUILD).href)) as Build;
    cjs = createRequire(import.meta.url)(CJS_BUILD) as Build;
    server = await listen((_request, response) => sendJson(response, 400, { error: 'invalid_client', error_description: 'unknown client' }), Date.now);
  });

  after(async () => {
    await server?.close();
  });

  it('loads two distinct copies of each class (the situation being tested)', function () {
    expect(esm.OAuthError).to.not.equal(cjs.OAuthError);
  });

  it('makes instanceof hold in both directions for every class', function () {
    for (const [from, to] of [
      [esm, cjs],
      [cjs, esm],
    ] as const) {
      const oauth = new from.OAuthError('no', { code: 'invalid_client' });
      const endpoint = new from.TokenEndpointError('down', { code: from.ErrorCodes.TOKEN_ENDPOINT_UNREACHABLE });
      const configuration = new from.ConfigurationError('tokenUrl', 'must be a URL');

      expect(oauth instanceof to.OAuthError).to.equal(true);
      expect(oauth instanceof to.OAuthQueueError).to.equal(true);
      expect(endpoint instanceof to.TokenEndpointError).to.equal(true);
      expect(endpoint instanceof to.OAuthQueueError).to.equal(true);
      expect(configuration instanceof to.ConfigurationError).to.equal(true);
      expect(oauth instanceof Error).to.equal(true);
      expect(to.OAuthError.is(oauth)).to.equal(true);
      expect(to.OAuthQueueError.is(endpoint)).to.equal(true);
    }
  });

  it('keeps subclass checks right: a TokenEndpointError is no OAuthError, an OAuthError no TokenEndpointError', function () {
    for (const [from, to] of [
      [esm, cjs],
      [cjs, esm],
      [esm, esm],
    ] as const) {
      const endpoint = new from.TokenEndpointError('down', { code: from.ErrorCodes.TOKEN_ENDPOINT_TIMEOUT });
      const oauth = new from.OAuthError('no', { code: 'invalid_grant' });

      expect(endpoint instanceof to.OAuthError).to.equal(false);
      expect(oauth instanceof to.TokenEndpointError).to.equal(false);
      expect(oauth instanceof to.ConfigurationError).to.equal(false);
      expect(to.OAuthError.is(endpoint)).to.equal(false);
      expect(to.OAuthQueueError.is(new Error('plain'))).to.equal(false);
      expect(new Error('plain') instanceof to.OAuthQueueError).to.equal(false);
      expect(to.OAuthQueueError.is(null)).to.equal(false);
    }
  });

  it('keeps the ordinary check for a subclass an app makes itself', function () {
    class PaymentAuthError extends esm.OAuthError {}
    const own = new PaymentAuthError('no', { code: 'invalid_client' });

    expect(own instanceof cjs.OAuthError).to.equal(true);
    expect(own instanceof PaymentAuthError).to.equal(true);
    expect(new cjs.OAuthError('no', { code: 'invalid_client' }) instanceof PaymentAuthError).to.equal(false);
  });

  it('lets an ES module app recognise the error a CommonJS copy rejected a request with (loopback token endpoint)', async function () {
    const api = axios.create({ baseURL: server!.origin });
    const handle = cjs.attachAuth(api, { tokenUrl: `${server!.origin}/token`, clientId: 'dual-client', clientSecret: 'dual-secret-9931', retry: { limit: 0 } });
    try {
      const error = await api.get('/things').then(() => undefined, (failure: unknown) => sweep(failure, 'errors-dual-build'));

      expect(error instanceof esm.OAuthError).to.equal(true);
      expect(esm.OAuthError.is(error) && error.code).to.equal('invalid_client');
    } finally {
      handle.detach();
    }
  });
});
