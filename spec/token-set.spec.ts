import { expect } from 'chai';
import { ErrorCodes, TokenEndpointError } from '../lib/errors.js';
import { clockOffsetFromDate, effectiveRefreshWindow, normaliseTokenResponse, readJwtExpiry, tokenState } from '../lib/token-set.js';
import { FAKE_EPOCH } from './helpers/fake-clock.js';

const T = FAKE_EPOCH;
const seconds = (ms: number): number => Math.floor(ms / 1000);

function segment(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

/** An unsigned JWT (alg none), as a server might issue to itself in tests. */
function unsignedJwt(claims: Record<string, unknown>): string {
  return `${segment({ alg: 'none', typ: 'JWT' })}.${segment(claims)}.`;
}

/** A JWT that looks HS256-signed; the signature is never checked. */
function hs256LookingJwt(claims: Record<string, unknown>): string {
  return `${segment({ alg: 'HS256', typ: 'JWT' })}.${segment(claims)}.c2lnbmF0dXJlLW5vdC1jaGVja2Vk`;
}

function rejection(body: unknown): TokenEndpointError {
  try {
    normaliseTokenResponse(body, { receivedAt: T });
  } catch (error) {
    expect(error).to.be.instanceOf(TokenEndpointError);
    return error as TokenEndpointError;
  }
  expect.fail('the token response was accepted');
}

describe('token-set', () => {
  describe('normaliseTokenResponse', () => {
    it('builds a Bearer token set that expires expires_in seconds after the answer arrived', () => {
      const tokenSet = normaliseTokenResponse({ access_token: 'opaque-1', token_type: 'Bearer', expires_in: 3600 }, { receivedAt: T });
      expect(tokenSet.accessToken).to.equal('opaque-1');
      expect(tokenSet.tokenType).to.equal('Bearer');
      expect(tokenSet.expiresAt).to.equal(T + 3600_000);
    });

    it('accepts expires_in sent as a string', () => {
      const tokenSet = normaliseTokenResponse({ access_token: 'opaque-1', token_type: 'Bearer', expires_in: '7200' }, { receivedAt: T });
      expect(tokenSet.expiresAt).to.equal(T + 7200_000);
    });

    it('accepts tokens of every visible ASCII character real servers issue, beyond the b64token set', () => {
      for (const token of ['eyJhbGciOiJub25lIn0.e30.', 'abc+/def==', '00Dxx0000001gPL!AR8AQJXg5', 'v1:opaque|token~_-.', 'ya29.a0AfH6SM']) {
        expect(normaliseTokenResponse({ access_token: token }, { receivedAt: T }).accessToken).to.equal(token);
      }
    });

    it('reads a token_type of any case, padded or null, as Bearer', () => {
      for (const tokenType of ['BEARER', ' Bearer ', null]) {
        expect(normaliseTokenResponse({ access_token: 'opaque-1', token_type: tokenType }, { receivedAt: T }).tokenType).to.equal('Bearer');
      }
    });

    it('accepts a lowercase token_type and always reports Bearer', () => {
      const tokenSet = normaliseTokenResponse({ access_token: 'opaque-1', token_type: 'bearer', expires_in: 60 }, { receivedAt: T });
      expect(tokenSet.tokenType).to.equal('Bearer');
    });

    it('keeps the refresh token, the granted scope and the raw answer', () => {
      const raw = { access_token: 'opaque-1', token_type: 'Bearer', refresh_token: 'refresh-1', scope: 'read write', vendor: 42 };
      const tokenSet = normaliseTokenResponse(raw, { receivedAt: T });
      expect(tokenSet.refreshToken).to.equal('refresh-1');
      expect(tokenSet.scope).to.equal('read write');
      expect(tokenSet.raw).to.deep.equal(raw);
    });

    it('counts expires_in from created_at (seconds, Doorkeeper style) when the server sends it', () => {
      const createdAt = seconds(T) - 600;
      const tokenSet = normaliseTokenResponse({ access_token: 'opaque-1', expires_in: 7200, created_at: createdAt }, { receivedAt: T });
      expect(tokenSet.expiresAt).to.equal(createdAt * 1000 + 7200_000);
    });

    it('never counts from a created_at later than the moment the answer arrived', () => {
      const tokenSet = normaliseTokenResponse({ access_token: 'opaque-1', expires_in: 60, created_at: seconds(T) + 3600 }, { receivedAt: T });
      expect(tokenSet.expiresAt).to.equal(T + 60_000);
    });

    it('reads the exp claim of a JWT access token when there is no expires_in', () => {
      const token = unsignedJwt({ sub: 'client', exp: seconds(T) + 300 });
      expect(normaliseTokenResponse({ access_token: token }, { receivedAt: T }).expiresAt).to.equal(T + 300_000);
    });

    it('uses the earlier of expires_in and the JWT exp', () => {
      const shortJwt = hs256LookingJwt({ exp: seconds(T) + 300 });
      expect(normaliseTokenResponse({ access_token: shortJwt, expires_in: 3600 }, { receivedAt: T }).expiresAt).to.equal(T + 300_000);
      const longJwt = hs256LookingJwt({ exp: seconds(T) + 86_400 });
      expect(normaliseTokenResponse({ access_token: longJwt, expires_in: 3600 }, { receivedAt: T }).expiresAt).to.equal(T + 3600_000);
    });

    it('moves created_at and exp from the server clock to the local clock using the Date header offset', () => {
      const serverAhead = 120_000;
      const clockOffset = clockOffsetFromDate(new Date(T + serverAhead).toUTCString(), T);
      expect(clockOffset).to.equal(serverAhead);
      const viaCreatedAt = normaliseTokenResponse(
        { access_token: 'opaque-1', expires_in: 3600, created_at: seconds(T + serverAhead) },
        { receivedAt: T, clockOffset },
      );
      expect(viaCreatedAt.expiresAt).to.equal(T + 3600_000);
      const viaExp = normaliseTokenResponse({ access_token: unsignedJwt({ exp: seconds(T + serverAhead) + 300 }) }, { receivedAt: T, clockOffset });
      expect(viaExp.expiresAt).to.equal(T + 300_000);
    });

    it('assumes defaultExpiresIn only when the answer says nothing about expiry', () => {
      expect(normaliseTokenResponse({ access_token: 'opaque-1' }, { receivedAt: T, defaultExpiresIn: 900 }).expiresAt).to.equal(T + 900_000);
      expect(normaliseTokenResponse({ access_token: 'opaque-1', expires_in: 60 }, { receivedAt: T, defaultExpiresIn: 900 }).expiresAt).to.equal(T + 60_000);
    });

    it('leaves expiresAt unset when nothing tells when the token expires', () => {
      expect(normaliseTokenResponse({ access_token: 'opaque-1' }, { receivedAt: T })).not.to.have.property('expiresAt');
    });

    it('treats a three-part opaque token that is not a JWT as having no exp', () => {
      expect(normaliseTokenResponse({ access_token: 'abc.def.ghi' }, { receivedAt: T }).expiresAt).to.equal(undefined);
      expect(readJwtExpiry('abc.def.ghi')).to.equal(undefined);
    });

    const badAnswers: [string, unknown][] = [
      ['a body that is not a JSON object', 'access_token=secret-token-value'],
      ['a JSON array', [{ access_token: 'secret-token-value' }]],
      ['a JSON null', null],
      ['no access_token', { token_type: 'Bearer', expires_in: 3600 }],
      ['an empty access_token', { access_token: '' }],
      ['an access_token that is not a string', { access_token: 12345 }],
      ['a negative expires_in', { access_token: 'secret-token-value', expires_in: -5 }],
      ['a zero expires_in', { access_token: 'secret-token-value', expires_in: 0 }],
      ['an absurdly long expires_in', { access_token: 'secret-token-value', expires_in: 400 * 365 * 24 * 3600 }],
      ['a non-numeric expires_in', { access_token: 'secret-token-value', expires_in: 'soon' }],
      ['a CR LF in the access_token', { access_token: 'secret-token-value\r\nX-Injected: 1' }],
      ['a line feed in the access_token', { access_token: 'secret-token-value\nmore' }],
      ['a space in the access_token', { access_token: 'secret-token-value more' }],
      ['a tab in the access_token', { access_token: 'secret-token-value\tmore' }],
      ['a NUL in the access_token', { access_token: 'secret-token-value\u0000' }],
      ['a DEL in the access_token', { access_token: 'secret-token-value\u007f' }],
      ['a Latin-1 letter in the access_token', { access_token: 'secret-token-valué' }],
      ['a character above U+00FF in the access_token', { access_token: 'secret-token-value令牌' }],
      ['a token_type that would split the header', { access_token: 'secret-token-value', token_type: 'Bearer\r\nX-Injected: 1' }],
      ['a token_type mac', { access_token: 'secret-token-value', token_type: 'mac' }],
      ['a token_type that is not a string', { access_token: 'secret-token-value', token_type: 7 }],
      ['JWT claims that are not JSON', { access_token: `${segment({ alg: 'HS256' })}.bm90LWpzb24.c2ln` }],
      ['a JWT exp that is not a number', { access_token: hs256LookingJwt({ exp: 'tomorrow', secret: 'secret-token-value' }) }],
    ];
    for (const [what, body] of badAnswers) {
      it(`rejects an answer with ${what} as ERR_TOKEN_RESPONSE_INVALID with a cause and no token in the message`, () => {
        const error = rejection(body);
        expect(error.code).to.equal(ErrorCodes.TOKEN_RESPONSE_INVALID);
        expect(error.transient).to.equal(false);
        expect(error.cause).to.be.instanceOf(Error);
        expect(error.message).not.to.include('secret-token-value');
        expect(String((error.cause as Error).message)).not.to.include('secret-token-value');
        expect(error.message).not.to.include('bm90LWpzb24');
      });
    }
  });

  describe('clockOffsetFromDate', () => {
    it('ignores a missing, unreadable or nearly matching Date header', () => {
      expect(clockOffsetFromDate(undefined, T)).to.equal(0);
      expect(clockOffsetFromDate('not a date', T)).to.equal(0);
      expect(clockOffsetFromDate(new Date(T + 2000).toUTCString(), T)).to.equal(0);
    });

    it('reports a server clock that runs behind as a negative offset', () => {
      expect(clockOffsetFromDate(new Date(T - 60_000).toUTCString(), T)).to.equal(-60_000);
    });
  });

  describe('effectiveRefreshWindow', () => {
    it('uses the configured window when the token lives long enough', () => {
      expect(effectiveRefreshWindow(60_000, T, T + 3600_000)).to.equal(60_000);
    });

    it('never exceeds a quarter of the token lifetime, so a short token costs at most 4/3 token requests per lifetime', () => {
      expect(effectiveRefreshWindow(60_000, T, T + 90_000)).to.equal(22_500);
      expect(effectiveRefreshWindow(60_000, T, T + 1000)).to.equal(250);
    });

    it('widens up to half the lifetime when three token round trips need more than a quarter', () => {
      expect(effectiveRefreshWindow(60_000, T, T + 1000, 100)).to.equal(300);
      expect(effectiveRefreshWindow(60_000, T, T + 1000, 400)).to.equal(500);
    });
  });

  describe('tokenState', () => {
    it('is fresh before the refresh point, stale inside the window and expired from expiresAt on', () => {
      const refreshAt = T + 3540_000;
      const expiresAt = T + 3600_000;
      expect(tokenState(T, expiresAt, refreshAt)).to.equal('fresh');
      expect(tokenState(refreshAt, expiresAt, refreshAt)).to.equal('stale');
      expect(tokenState(expiresAt - 1, expiresAt, refreshAt)).to.equal('stale');
      expect(tokenState(expiresAt, expiresAt, refreshAt)).to.equal('expired');
    });

    it('is always fresh for a token without a known expiry', () => {
      expect(tokenState(T + 10 * 365 * 24 * 3600_000, undefined, Number.POSITIVE_INFINITY)).to.equal('fresh');
    });
  });
});
