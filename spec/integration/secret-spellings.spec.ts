// Promise 5 against a token endpoint that echoes what it was sent, in the spellings
// servers really use: in the OAuth `error` code itself, form- and percent-encoded
// (lower-case hex too), JSON-escaped, HTML-escaped, and the Basic header's Base64.
// Every secret the client sends (client secret, password, refresh token, access
// token, authorization code, code verifier) must be gone from the error however it
// is printed, while the server's words around it stay readable.

import type { IncomingMessage, ServerResponse } from 'node:http';
import axios, { type AxiosInstance } from 'axios';
import { expect } from 'chai';
import { attachAuth, OAuthError, type AttachAuthOptions, type AuthHandle, type Grant } from '../../lib/index.js';
import { formEncode } from '../../lib/form-encode.js';
import { within } from '../helpers/deferred.js';
import { listen, sendJson, type Loopback } from '../helpers/emulators/loopback.js';
import { renderings, rememberSecrets, sweep } from '../helpers/secret-sweep.js';

const CLIENT_ID = 'spelling client';
const CLIENT_SECRET = 'sec/ret+&="x" é~9';
const PASSWORD = 'pass wörd&100%';
const REFRESH_TOKEN = 'rt+/spelling=0c1d';
const CODE = 'code/with+chars=7';
const VERIFIER = 'verifier-~.chars_0123456789abcdefghijklmnopqrstuv';
const BOUND_MS = 5000;

/** What the token endpoint received. */
interface Received {
  params: URLSearchParams;
  authorization: string;
  body: string;
}

type Answer = (received: Received) => { status: number; body: Record<string, unknown> };

/** Lower-case percent-encoding of every byte but letters and digits (as some frameworks write it). */
function lowerPercent(value: string): string {
  return [...Buffer.from(value, 'utf8')].map((byte) => (/[A-Za-z0-9]/.test(String.fromCharCode(byte)) ? String.fromCharCode(byte) : `%${byte.toString(16)}`)).join('');
}

/** JSON \u escapes of everything but letters and digits (Python's ensure_ascii and Go go part of the way). */
function unicodeEscaped(value: string): string {
  return [...value].map((char) => (/[A-Za-z0-9]/.test(char) ? char : `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`)).join('');
}

describe('secrets echoed by the token endpoint in other spellings', function () {
  let server: Loopback;
  let answer: Answer;
  /** Every spelling the server put in an answer, to look for in the errors. */
  const echoed: string[] = [];
  const handles: AuthHandle[] = [];
  let issued = 0;

  before(async () => {
    rememberSecrets(CLIENT_SECRET, PASSWORD, REFRESH_TOKEN, CODE, VERIFIER);
    server = await listen((request: IncomingMessage, response: ServerResponse, url: URL, body: string) => {
      const params = request.headers['content-type']?.includes('json')
        ? new URLSearchParams(Object.entries(JSON.parse(body) as Record<string, string>))
        : new URLSearchParams(body === '' ? url.search : body);
      if (url.pathname !== '/token') {
        sendJson(response, 200, { ok: true });
        return;
      }
      const { status, body: answerBody } = answer({ params, authorization: request.headers.authorization ?? '', body });
      sendJson(response, status, answerBody);
    }, Date.now);
  });

  after(async () => {
    await server.close();
  });

  beforeEach(() => {
    echoed.length = 0;
  });

  afterEach(() => {
    for (const handle of handles.splice(0)) handle.detach();
  });

  function connect(options: Partial<AttachAuthOptions> = {}): { api: AxiosInstance; handle: AuthHandle } {
    const api = axios.create({ baseURL: server.origin });
    const handle = attachAuth(api, { tokenUrl: `${server.origin}/token`, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, retry: { limit: 0 }, failureCoolDown: 0, ...options });
    handles.push(handle);
    return { api, handle };
  }

  /** An OAuth error whose code, description and URI are built from the spellings, each recorded. */
  function echo(status: number, code: string, description: string, uri?: string): { status: number; body: Record<string, unknown> } {
    echoed.push(code, description, ...(uri === undefined ? [] : [uri]));
    return { status, body: { error: code, error_description: description, ...(uri === undefined ? {} : { error_uri: uri }) } };
  }

  function issue(extra: Record<string, unknown> = {}): { status: number; body: Record<string, unknown> } {
    issued += 1;
    // Header-safe, with characters the encoders treat differently.
    const accessToken = `at.spelling~${issued}-${Math.random().toString(36).slice(2)}`;
    rememberSecrets(accessToken);
    return { status: 200, body: { access_token: accessToken, token_type: 'Bearer', expires_in: 3600, ...extra } };
  }

  async function failure(request: Promise<unknown>): Promise<OAuthError> {
    const outcome = await within(request.then(() => undefined, (error: unknown) => error), BOUND_MS, 'the request');
    expect(outcome, 'the request should fail').to.be.instanceOf(OAuthError);
    return sweep(outcome as OAuthError, 'secret-spellings');
  }

  /** Each secret, and each spelling the server echoed that carries one, that some rendering shows. */
  function shown(error: unknown, secrets: readonly string[]): string[] {
    const texts = renderings(error);
    const spelled = echoed.flatMap((text) => secrets.flatMap((secret) => spellingsIn(text, secret)));
    return [...secrets, ...spelled].flatMap((needle) => texts.filter((rendering) => rendering.text.includes(needle)).map((rendering) => `${needle} in ${rendering.how}`));
  }

  it('scrubs the client secret from the error code, the Basic header echoed in Base64 and the error_uri, form-encoded', async function () {
    answer = ({ authorization }) =>
      echo(
        401,
        `invalid_client:${encodeURIComponent(CLIENT_SECRET)}`,
        `Client authentication failed for header ${authorization}`,
        `https://errors.example/invalid_client?secret=${formEncode(CLIENT_SECRET)}`,
      );
    const { api } = connect({ tokenRequest: { clientAuth: 'basic' } });

    const error = await failure(api.get('/things'));

    expect(error.code).to.equal('invalid_client:[REDACTED]');
    expect(error.description).to.match(/^Client authentication failed for header Basic /).and.to.include('[REDACTED]');
    expect(shown(error, [CLIENT_SECRET])).to.deep.equal([]);
  });

  it('scrubs the client secret of the raw Basic form (id:secret unencoded) and of a JSON body echoed JSON-escaped', async function () {
    answer = ({ body }) => echo(400, 'invalid_client', `raw ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}, body ${body}`);
    const { api } = connect({ tokenRequest: { encoding: 'json' } });

    const error = await failure(api.get('/things'));

    expect(error.description).to.include('[REDACTED]').and.not.to.include(JSON.stringify(CLIENT_SECRET).slice(1, -1));
    expect(shown(error, [CLIENT_SECRET])).to.deep.equal([]);
  });

  it('scrubs the password echoed form-encoded, lower-case percent-encoded and \\u-escaped', async function () {
    answer = ({ body }) => echo(400, 'invalid_grant', `body was ${body}; password ${lowerPercent(PASSWORD)} or ${unicodeEscaped(PASSWORD)}`);
    const { api } = connect({ grant: { type: 'password', username: 'someone', password: PASSWORD } });

    const error = await failure(api.get('/things'));

    expect(error.code).to.equal('invalid_grant');
    expect(shown(error, [PASSWORD, CLIENT_SECRET])).to.deep.equal([]);
  });

  it('scrubs the authorization code and the code verifier echoed HTML-escaped and percent-encoded', async function () {
    const grant: Grant = { type: 'authorization_code', code: CODE, redirectUri: 'https://app.example/callback', codeVerifier: VERIFIER };
    answer = ({ params }) =>
      echo(400, `invalid_grant:${encodeURIComponent(params.get('code') ?? '')}`, `code ${(params.get('code') ?? '').replace(/&/g, '&amp;').replace(/\//g, '&#x2F;')} verifier ${encodeURIComponent(params.get('code_verifier') ?? '').toLowerCase()}`);
    const { api } = connect({ grant });

    const error = await failure(api.get('/things'));

    expect(shown(error, [CODE, VERIFIER, CLIENT_SECRET])).to.deep.equal([]);
  });

  it('scrubs the refresh token and the access token a refused refresh echoes, in the code and in Base64', async function () {
    let accessToken = '';
    answer = ({ params }) => {
      if (params.get('grant_type') === 'refresh_token' && params.get('refresh_token') === REFRESH_TOKEN) {
        const answered = issue({ refresh_token: 'rotated+/refresh=token-1' });
        accessToken = answered.body['access_token'] as string;
        rememberSecrets('rotated+/refresh=token-1', accessToken);
        return answered;
      }
      const presented = params.get('refresh_token') ?? '';
      return echo(400, `invalid_grant:${encodeURIComponent(presented)}`, `token ${Buffer.from(presented).toString('base64')} with ${JSON.stringify(accessToken)} as ${unicodeEscaped(accessToken)}`);
    };
    const { api, handle } = connect({ grant: { type: 'refresh_token', refreshToken: REFRESH_TOKEN } });
    await within(api.get('/warm-up'), BOUND_MS, 'the first request');

    const error = await failure(handle.refresh());

    expect(error.code).to.equal('invalid_grant:[REDACTED]');
    expect(shown(error, ['rotated+/refresh=token-1', accessToken, REFRESH_TOKEN, CLIENT_SECRET])).to.deep.equal([]);
  });
});

/** The spellings of `secret` that `text` contains (so a test can look for them in an error). */
function spellingsIn(text: string, secret: string): string[] {
  const candidates = [
    encodeURIComponent(secret),
    formEncode(secret),
    lowerPercent(secret),
    unicodeEscaped(secret),
    JSON.stringify(secret).slice(1, -1),
    Buffer.from(secret).toString('base64').slice(0, -4),
    Buffer.from(`${formEncode(CLIENT_ID)}:${formEncode(secret)}`).toString('base64'),
    Buffer.from(`${CLIENT_ID}:${secret}`).toString('base64'),
  ];
  return candidates.filter((candidate) => candidate.length >= 8 && candidate !== secret && text.includes(candidate));
}
