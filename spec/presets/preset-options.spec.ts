import { expect } from 'chai';
import { ConfigurationError, type Grant } from '../../lib/index.js';
import { originOf, requireCredentials, supportedGrant, trimBaseUrl } from '../../lib/presets/preset-options.js';

describe('preset options', () => {
  it('drops trailing slashes from baseUrl so the provider paths join cleanly', () => {
    expect(trimBaseUrl('http://127.0.0.1:4000//', 'mvmnt')).to.equal('http://127.0.0.1:4000');
  });

  it('refuses a baseUrl that is not an absolute URL, naming the preset option', () => {
    expect(() => trimBaseUrl('api.mvmnt.io', 'mvmnt')).to.throw(ConfigurationError, 'mvmnt.baseUrl');
  });

  it('requires a clientId and a clientSecret, naming the missing one', () => {
    expect(() => requireCredentials({ clientId: '', clientSecret: 's' }, 'musement')).to.throw(ConfigurationError, 'musement.clientId');
    expect(() => requireCredentials({ clientId: 'c', clientSecret: '' }, 'musement')).to.throw(ConfigurationError, 'musement.clientSecret');
  });

  it('defaults to client credentials and refuses a grant the provider does not document', () => {
    expect(supportedGrant(undefined, ['client_credentials'], 'x')).to.deep.equal({ type: 'client_credentials' });
    const grant: Grant = { type: 'password', username: 'u', password: 'p' };
    expect(() => supportedGrant<Grant>(grant, ['client_credentials', 'refresh_token'], 'movemint')).to.throw(
      ConfigurationError,
      'movemint.grant',
    );
  });

  it('reduces a URL to its origin', () => {
    expect(originOf('https://api.mvmnt.io/v1/orders')).to.equal('https://api.mvmnt.io');
  });
});
