import { createHash } from 'node:crypto';
import { expect } from 'chai';
import { authorizeUrl, createPkce } from '../lib/authorization-code.js';
import { ConfigurationError } from '../lib/errors.js';

/** RFC 7636 Appendix B: the example verifier and the S256 challenge it yields. */
const RFC7636_VERIFIER = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
const RFC7636_CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';

const s256 = (verifier: string): string => createHash('sha256').update(verifier, 'ascii').digest('base64url');

describe('authorization-code', () => {
  describe('authorizeUrl', () => {
    it('builds a response_type=code URL with the client, redirect, scope, state and PKCE challenge', () => {
      const url = new URL(
        authorizeUrl({
          authorizationUrl: 'https://www.example.com/oauth/authorize',
          clientId: 'client-1',
          redirectUri: 'https://app.example.com/callback?from=login',
          scope: ['read', 'write'],
          state: 'state-42',
          codeChallenge: RFC7636_CHALLENGE,
          params: { prompt: 'consent' },
        }),
      );
      expect(`${url.origin}${url.pathname}`).to.equal('https://www.example.com/oauth/authorize');
      expect(Object.fromEntries(url.searchParams)).to.deep.equal({
        client_id: 'client-1',
        redirect_uri: 'https://app.example.com/callback?from=login',
        response_type: 'code',
        scope: 'read write',
        state: 'state-42',
        code_challenge: RFC7636_CHALLENGE,
        code_challenge_method: 'S256',
        prompt: 'consent',
      });
    });

    it('keeps the query parameters already on the authorization URL and sends an empty scope when given one', () => {
      const url = new URL(authorizeUrl({ authorizationUrl: 'https://id.example.com/authorize?tenant=7', clientId: 'c', redirectUri: 'https://app/cb', scope: '' }));
      expect(url.searchParams.get('tenant')).to.equal('7');
      expect(url.searchParams.has('scope')).to.equal(true);
      expect(url.searchParams.get('scope')).to.equal('');
      expect(url.searchParams.has('code_challenge')).to.equal(false);
    });

    it('names the option at fault when the authorization URL, client or redirect is missing', () => {
      const cases: [Parameters<typeof authorizeUrl>[0], string][] = [
        [{ authorizationUrl: '/authorize', clientId: 'c', redirectUri: 'https://app/cb' }, 'authorizationUrl'],
        [{ authorizationUrl: 'https://id.example.com/authorize', clientId: '', redirectUri: 'https://app/cb' }, 'clientId'],
        [{ authorizationUrl: 'https://id.example.com/authorize', clientId: 'c', redirectUri: '' }, 'redirectUri'],
      ];
      for (const [options, option] of cases) {
        expect(() => authorizeUrl(options)).to.throw(ConfigurationError).with.property('option', option);
      }
    });
  });

  describe('createPkce', () => {
    it('computes S256 the way RFC 7636 Appendix B does', () => {
      expect(s256(RFC7636_VERIFIER)).to.equal(RFC7636_CHALLENGE);
    });

    it('makes a 43-character base64url verifier and its S256 challenge', () => {
      const pkce = createPkce();
      expect(pkce.codeVerifier).to.match(/^[A-Za-z0-9_-]{43}$/);
      expect(pkce.codeChallenge).to.equal(s256(pkce.codeVerifier));
      expect(pkce.codeChallengeMethod).to.equal('S256');
    });

    it('makes a new verifier each time', () => {
      expect(createPkce().codeVerifier).not.to.equal(createPkce().codeVerifier);
    });
  });
});
