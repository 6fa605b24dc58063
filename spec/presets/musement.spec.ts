import { expect } from 'chai';
import { ConfigurationError, presets } from '../../lib/index.js';

describe('presets.musement', () => {
  const credentials = { clientId: 'id', clientSecret: 'secret' };

  it('asks GET https://api.musement.com/api/v3/login with every parameter in the query string', () => {
    const options = presets.musement(credentials);
    expect(options.tokenUrl).to.equal('https://api.musement.com/api/v3/login');
    expect(options.tokenRequest).to.deep.equal({ method: 'GET', encoding: 'query', clientAuth: 'body' });
    expect(options.defaultOrigins).to.deep.equal(['https://api.musement.com']);
  });

  it('defaults to client credentials and passes a password grant through', () => {
    expect(presets.musement(credentials).grant).to.deep.equal({ type: 'client_credentials' });
    const grant = { type: 'password', username: 'customer@example.com', password: 'pw' } as const;
    expect(presets.musement({ ...credentials, grant }).grant).to.deep.equal(grant);
  });

  it('refuses the authorization code grant, which Musement does not offer', () => {
    expect(() => presets.musement({ ...credentials, grant: { type: 'authorization_code', code: 'c', redirectUri: 'https://x' } as never })).to.throw(
      ConfigurationError,
      'musement.grant',
    );
  });

  it('moves the login endpoint and the allowed origin to baseUrl', () => {
    const options = presets.musement({ ...credentials, baseUrl: 'http://127.0.0.1:6000' });
    expect(options.tokenUrl).to.equal('http://127.0.0.1:6000/api/v3/login');
    expect(options.defaultOrigins).to.deep.equal(['http://127.0.0.1:6000']);
  });
});
