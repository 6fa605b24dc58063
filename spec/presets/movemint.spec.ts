import { expect } from 'chai';
import { ConfigurationError, createPkce, movemintAuthorizeUrl, presets } from '../../lib/index.js';

describe('presets.movemint', () => {
  const credentials = { clientId: 'uid', clientSecret: 'secret' };

  it('asks https://www.movemint.cc/oauth/token with a form body and the credentials in it', () => {
    const options = presets.movemint(credentials);
    expect(options.tokenUrl).to.equal('https://www.movemint.cc/oauth/token');
    expect(options.tokenRequest).to.deep.equal({ method: 'POST', encoding: 'form', clientAuth: 'body' });
    expect(options.defaultOrigins).to.deep.equal(['https://www.movemint.cc']);
  });

  it('wires revocation and token info to /oauth/revoke and /oauth/token/info', () => {
    const options = presets.movemint(credentials);
    expect(options.revocationUrl).to.equal('https://www.movemint.cc/oauth/revoke');
    expect(options.tokenInfoUrl).to.equal('https://www.movemint.cc/oauth/token/info');
  });

  it('assumes the documented two-hour lifetime when an answer gives none', () => {
    expect(presets.movemint(credentials).defaultExpiresIn).to.equal(7200);
  });

  it('defaults to client credentials and passes an authorization code grant through', () => {
    expect(presets.movemint(credentials).grant).to.deep.equal({ type: 'client_credentials' });
    const grant = { type: 'authorization_code', code: 'abc', redirectUri: 'https://app.example.com/cb' } as const;
    expect(presets.movemint({ ...credentials, grant }).grant).to.deep.equal(grant);
  });

  it('refuses the password grant, which Movemint does not document', () => {
    expect(() => presets.movemint({ ...credentials, grant: { type: 'password', username: 'u', password: 'p' } as never })).to.throw(ConfigurationError, 'movemint.grant');
  });

  it('moves every endpoint to baseUrl', () => {
    const options = presets.movemint({ ...credentials, baseUrl: 'http://127.0.0.1:5000' });
    expect([options.tokenUrl, options.revocationUrl, options.tokenInfoUrl]).to.deep.equal([
      'http://127.0.0.1:5000/oauth/token',
      'http://127.0.0.1:5000/oauth/revoke',
      'http://127.0.0.1:5000/oauth/token/info',
    ]);
  });
});

describe('movemintAuthorizeUrl', () => {
  it('builds GET /oauth/authorize with client_id, redirect_uri, response_type=code and an empty scope, as documented', () => {
    const url = new URL(movemintAuthorizeUrl({ clientId: 'uid', redirectUri: 'https://app.example.com/cb' }));
    expect(`${url.origin}${url.pathname}`).to.equal('https://www.movemint.cc/oauth/authorize');
    expect(Object.fromEntries(url.searchParams)).to.deep.equal({
      client_id: 'uid',
      redirect_uri: 'https://app.example.com/cb',
      response_type: 'code',
      scope: '',
    });
  });

  it('adds the scopes, the state and a PKCE challenge when given', () => {
    const pkce = createPkce();
    const url = new URL(
      movemintAuthorizeUrl({ clientId: 'uid', redirectUri: 'https://app.example.com/cb', scope: ['read', 'write'], state: 'xyz', codeChallenge: pkce.codeChallenge, baseUrl: 'http://127.0.0.1:5000' }),
    );
    expect(url.origin).to.equal('http://127.0.0.1:5000');
    expect(url.searchParams.get('scope')).to.equal('read write');
    expect(url.searchParams.get('state')).to.equal('xyz');
    expect(url.searchParams.get('code_challenge')).to.equal(pkce.codeChallenge);
    expect(url.searchParams.get('code_challenge_method')).to.equal('S256');
  });

  it('adds extra query parameters, but not ones that would replace a named option', () => {
    const url = new URL(movemintAuthorizeUrl({ clientId: 'uid', redirectUri: 'https://app.example.com/cb', params: { prompt: 'consent' } }));
    expect(url.searchParams.get('prompt')).to.equal('consent');
    expect(() => movemintAuthorizeUrl({ clientId: 'uid', redirectUri: 'https://app.example.com/cb', params: { client_id: 'other' } })).to.throw(ConfigurationError, 'params.client_id');
  });
});
