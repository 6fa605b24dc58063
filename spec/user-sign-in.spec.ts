import { expect } from 'chai';
import { ConfigurationError, TokenEndpointError } from '../lib/index.js';
import { isSignInCode, toTokenSet } from '../lib/user-sign-in.js';

const NOW = 1_800_000_000_000;

describe('what signIn accepts', () => {
  it('takes a raw token response with expires_in, keeping only the token fields (not the id_token)', () => {
    const tokenSet = toTokenSet({ access_token: 'at', refresh_token: 'rt', expires_in: '3600', token_type: 'bearer', id_token: 'id' } as never, NOW, undefined);
    expect(tokenSet).to.deep.include({ accessToken: 'at', refreshToken: 'rt', expiresAt: NOW + 3_600_000, tokenType: 'Bearer' });
    expect(tokenSet.raw).to.not.have.property('id_token');
  });

  it("takes openid-client v5's TokenSet, whose expires_at is in epoch seconds", () => {
    const tokenSet = toTokenSet({ access_token: 'at', refresh_token: 'rt', expires_at: NOW / 1000 - 5 }, NOW, 60);
    expect(tokenSet.expiresAt).to.equal(NOW - 5000);
  });

  it('takes a TokenSet of this package as it is', () => {
    expect(toTokenSet({ accessToken: 'at', tokenType: 'Bearer', expiresAt: NOW, refreshToken: 'rt', raw: {} }, NOW, undefined)).to.deep.include({ accessToken: 'at', expiresAt: NOW, refreshToken: 'rt' });
  });

  it('tells an authorization code from tokens', () => {
    expect(isSignInCode({ code: 'c', redirectUri: 'https://bff.example/callback' })).to.equal(true);
    expect(isSignInCode({ access_token: 'at' })).to.equal(false);
  });

  it('refuses what is not tokens with a typed error that names the problem, not the value', () => {
    expect(() => toTokenSet({} as never, NOW, undefined)).to.throw(ConfigurationError, /accessToken|access_token/);
    expect(() => toTokenSet({ accessToken: '', tokenType: 'Bearer', raw: {} }, NOW, undefined)).to.throw(ConfigurationError, /accessToken/);
    expect(() => toTokenSet({ access_token: 'secret-at', expires_in: -1 }, NOW, undefined)).to.throw(TokenEndpointError).with.property('message').that.does.not.include('secret-at');
  });
});
