import { performance } from 'node:perf_hooks';
import { expect } from 'chai';
import { formEncode } from '../lib/form-encode.js';
import { REDACTED, ScrubList, redactSecrets } from '../lib/secret-scrubber.js';

/** A secret with every character class encoders disagree on. */
const SECRET = `s3cr3t/+&= "q"\\é~!'(x)*:%`;
const CLIENT_ID = 'client id&1';

/** Every spelling of `secret` a server is known to echo. */
function spellings(secret: string, clientId = CLIENT_ID): Record<string, string> {
  const json = JSON.stringify(secret).slice(1, -1);
  const unicodeEscaped = (text: string, upper: boolean): string =>
    [...text].map((char) => (/[A-Za-z0-9]/.test(char) ? char : `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`)).join('')[upper ? 'toUpperCase' : 'toString']();
  return {
    raw: secret,
    encodeURIComponent: encodeURIComponent(secret),
    'percent-encoded, lower-case hex': encodeURIComponent(secret).replace(/%[0-9A-F]{2}/g, (hex) => hex.toLowerCase()),
    'form-urlencoded': formEncode(secret),
    URLSearchParams: new URLSearchParams({ s: secret }).toString().slice(2),
    'percent-encoded twice': encodeURIComponent(encodeURIComponent(secret)),
    'every character percent-encoded': [...Buffer.from(secret, 'utf8')].map((byte) => `%${byte.toString(16).padStart(2, '0')}`).join(''),
    'JSON-escaped': json,
    'JSON-escaped with slashes (PHP)': json.replace(/\//g, '\\/'),
    'JSON \\u escapes (Python ensure_ascii, Go)': unicodeEscaped(secret, false).replace(/\\u0053/g, 'S'),
    'HTML entities': secret.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/'/g, '&#39;').replace(/</g, '&lt;'),
    'Base64 of id:secret (Basic, raw)': Buffer.from(`${clientId}:${secret}`).toString('base64'),
    'Base64 of id:secret (Basic, RFC 6749 §2.3.1)': Buffer.from(`${formEncode(clientId)}:${formEncode(secret)}`).toString('base64'),
    'Base64url of the secret': Buffer.from(secret).toString('base64url'),
    'Base64 of the secret after one byte': Buffer.from(`x${secret}`).toString('base64'),
    'Base64 of the secret after two bytes': Buffer.from(`xy${secret}`).toString('base64'),
  };
}

/** What of the secret a text still gives away: the secret decoded back from the spelling, or a long run of it. */
function survivors(text: string, secret: string): boolean {
  return text.includes(secret) || text.includes(secret.slice(0, 8)) || text.includes(encodeURIComponent(secret).slice(0, 12));
}

describe('secret scrubber', () => {
  it('replaces every occurrence of every secret and keeps the text around them', () => {
    expect(redactSecrets('s3cret-a and s3cret-a, pw-1234', ['s3cret-a', 'pw-1234', undefined])).to.equal(`${REDACTED} and ${REDACTED}, ${REDACTED}`);
  });

  it('leaves values shorter than four characters alone, so ordinary words survive', () => {
    expect(redactSecrets('an error in the client', ['an', 'e'])).to.equal('an error in the client');
  });

  for (const [kind, secret] of [
    ['a client secret with reserved characters', SECRET],
    ['a password with spaces and non-ASCII', 'pass wörd 100% "sûr"'],
    ['an opaque refresh token', 'rt_8f3k+Qw/zz9=='],
    ['a JWT access token', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.c2lnbmF0dXJlLXZhbHVl'],
    ['an authorization code', 'SplxlOBeZQQYbYS6WxSbIA'],
    ['a PKCE code verifier', 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk'],
  ] as const) {
    it(`finds ${kind} in every spelling a server may echo`, () => {
      for (const [how, spelled] of Object.entries(spellings(secret))) {
        const text = `error near <${spelled}> in the request`;
        const scrubbed = redactSecrets(text, [secret]);
        expect(scrubbed, how).to.include(REDACTED).and.to.include('error near <').and.to.include('in the request');
        expect(scrubbed, how).not.to.include(spelled);
        // Outside a Base64 blob nothing of the secret is left; inside one, at most the bytes it shares with its neighbours.
        if (!how.startsWith('Base64')) expect(scrubbed, how).to.equal(`error near <${REDACTED}> in the request`);
        expect(survivors(scrubbed, secret), how).to.equal(false);
      }
    });
  }

  it('builds the pattern of a secret once, so scrubbing many lines costs little', () => {
    const secrets = Array.from({ length: 6 }, (_, index) => `secret-${index}-${'x'.repeat(40)}/+=`);
    const line = `the server said: ${encodeURIComponent(secrets[3]!)} and more text `.repeat(5);
    redactSecrets(line, secrets);
    const started = performance.now();
    for (let round = 0; round < 2000; round += 1) redactSecrets(line, secrets);
    const perLine = (performance.now() - started) / 2000;
    expect(redactSecrets(line, secrets)).not.to.include('secret-3');
    // Reported, not asserted: timings are not a test's business.
    console.log(`        scrubbing a ${line.length}-character line of 6 secrets: ${(perLine * 1000).toFixed(1)} µs`);
  });

  describe('ScrubList', () => {
    it('keeps a value on the list until every call that used it has settled', async () => {
      let current: string | undefined = 'token-one-1234';
      const list = new ScrubList(() => [current]);
      let release!: () => void;
      const first = list.using([current], () => new Promise<void>((resolve) => (release = resolve)));
      const second = list.using(['token-one-1234'], async () => {});
      current = undefined;
      await second;

      expect(list.scrub('echo token-one-1234')).to.equal(`echo ${REDACTED}`);
      release();
      await first;
      expect(list.scrub('echo token-one-1234')).to.equal('echo token-one-1234');
    });
  });
});
