import { expect } from 'chai';
import { ConfigurationError, presets } from '../../lib/index.js';

describe('presets.mvmnt', () => {
  const credentials = { clientId: 'id', clientSecret: 'secret' };

  it('asks https://api.mvmnt.io/oauth2/token for client credentials in a form body', () => {
    const options = presets.mvmnt(credentials);
    expect(options.tokenUrl).to.equal('https://api.mvmnt.io/oauth2/token');
    expect(options.grant).to.deep.equal({ type: 'client_credentials' });
    expect(options.tokenRequest).to.deep.equal({ method: 'POST', encoding: 'form', clientAuth: 'body' });
    expect(options.clientId).to.equal('id');
    expect(options.clientSecret).to.equal('secret');
  });

  it('renews five minutes early, as the document advises (55 minutes into a one-hour token)', () => {
    expect(presets.mvmnt(credentials).refreshWindow).to.equal(300);
  });

  it('lets the token go to the API host only', () => {
    expect(presets.mvmnt(credentials).defaultOrigins).to.deep.equal(['https://api.mvmnt.io']);
  });

  it('sends no scope unless one is given', () => {
    expect(presets.mvmnt(credentials)).not.to.have.property('scope');
    expect(presets.mvmnt({ ...credentials, scope: ['orders'] }).scope).to.deep.equal(['orders']);
  });

  it('moves the token endpoint and the allowed origin to baseUrl', () => {
    const options = presets.mvmnt({ ...credentials, baseUrl: 'http://127.0.0.1:4000/' });
    expect(options.tokenUrl).to.equal('http://127.0.0.1:4000/oauth2/token');
    expect(options.defaultOrigins).to.deep.equal(['http://127.0.0.1:4000']);
  });

  it('keeps origins the caller lists', () => {
    expect(presets.mvmnt({ ...credentials, origins: ['https://eu.api.mvmnt.io'] }).origins).to.deep.equal(['https://eu.api.mvmnt.io']);
  });

  it('refuses missing credentials with a ConfigurationError naming the option', () => {
    expect(() => presets.mvmnt({ clientId: 'id' } as never)).to.throw(ConfigurationError, 'mvmnt.clientSecret');
  });
});
