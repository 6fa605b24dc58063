import { expect } from 'chai';
import { ConfigurationError, presets } from '../../lib/index.js';

describe('presets.myparcel', () => {
  const credentials = { clientId: 'id', clientSecret: 'secret' };

  it('asks POST https://auth.myparcel.com/access-token with a JSON body', () => {
    const options = presets.myparcel(credentials);
    expect(options.tokenUrl).to.equal('https://auth.myparcel.com/access-token');
    expect(options.tokenRequest).to.deep.equal({ method: 'POST', encoding: 'json', clientAuth: 'body' });
    expect(options.grant).to.deep.equal({ type: 'client_credentials' });
  });

  it("asks for every scope ('*') unless told otherwise, and keeps a scope array", () => {
    expect(presets.myparcel(credentials).scope).to.equal('*');
    expect(presets.myparcel({ ...credentials, scope: ['shipments.manage', 'files.show'] }).scope).to.deep.equal(['shipments.manage', 'files.show']);
  });

  it('refuses an empty scope, which MyParcel.com would reject', () => {
    expect(() => presets.myparcel({ ...credentials, scope: [] })).to.throw(ConfigurationError, 'myparcel.scope');
  });

  it('lets the token go to the API host, not to the auth host', () => {
    expect(presets.myparcel(credentials).defaultOrigins).to.deep.equal(['https://api.myparcel.com']);
  });

  it('points at auth.sandbox.myparcel.com and the sandbox API with sandbox: true', () => {
    const options = presets.myparcel({ ...credentials, sandbox: true });
    expect(options.tokenUrl).to.equal('https://auth.sandbox.myparcel.com/access-token');
    expect(options.defaultOrigins).to.deep.equal(['https://sandbox-api.myparcel.com']);
  });

  it('moves the token endpoint and the token to baseUrl, for a test server that serves both', () => {
    const options = presets.myparcel({ ...credentials, baseUrl: 'http://127.0.0.1:7000' });
    expect(options.tokenUrl).to.equal('http://127.0.0.1:7000/access-token');
    expect(options.defaultOrigins).to.deep.equal(['http://127.0.0.1:7000']);
  });

  it('keeps sandbox meaningful beside baseUrl: the token comes from baseUrl and may also go to the sandbox API', () => {
    const options = presets.myparcel({ ...credentials, sandbox: true, baseUrl: 'http://127.0.0.1:7000' });
    expect(options.tokenUrl).to.equal('http://127.0.0.1:7000/access-token');
    expect(options.defaultOrigins).to.deep.equal(['http://127.0.0.1:7000', 'https://sandbox-api.myparcel.com']);
  });

  it('refuses a misspelt sandbox, suggesting the preset option', () => {
    expect(() => presets.myparcel({ ...credentials, sandbx: true } as never)).to.throw(ConfigurationError, 'did you mean "myparcel.sandbox"?');
  });
});
