// Every preset takes every attachAuth option as an override, merged one level deep
// for the object options, and refuses names it does not know.
import axios from 'axios';
import { expect } from 'chai';
import { ConfigurationError, presets, type AttachAuthOptions } from '../../lib/index.js';
import { resolveOptions } from '../../lib/resolve-options.js';

const credentials = { clientId: 'id', clientSecret: 'secret' };
const each: [string, (options: typeof credentials & Partial<AttachAuthOptions>) => AttachAuthOptions][] = [
  ['mvmnt', (options) => presets.mvmnt(options as never)],
  ['movemint', (options) => presets.movemint(options as never)],
  ['musement', (options) => presets.musement(options as never)],
  ['myparcel', (options) => presets.myparcel(options as never)],
];

describe('preset overrides', () => {
  for (const [name, preset] of each) {
    describe(`presets.${name}`, () => {
      it('keeps its token request dialect when tokenRequest overrides only the timeout', () => {
        const own = preset(credentials).tokenRequest;
        const options = preset({ ...credentials, tokenRequest: { timeout: 1000 } });
        expect(options.tokenRequest).to.deep.equal({ ...own, timeout: 1000 });
      });

      it('takes top-level attachAuth options, replacing its own', () => {
        const onToken = (): void => {};
        const options = preset({ ...credentials, refreshWindow: 5, failureCoolDown: 0, retry: { limit: 0 }, events: { onToken }, revocationUrl: 'https://id.example.com/revoke' });
        expect(options).to.include({ refreshWindow: 5, failureCoolDown: 0, revocationUrl: 'https://id.example.com/revoke' });
        expect(options.retry).to.deep.equal({ limit: 0 });
        expect(options.events?.onToken).to.equal(onToken);
      });

      it('passes on no preset-only option (baseUrl) to attachAuth', () => {
        const options = preset({ ...credentials, baseUrl: 'http://127.0.0.1:4000' } as never);
        expect(options).not.to.have.property('baseUrl');
        expect(() => resolveOptions(axios.create(), options)).not.to.throw();
      });

      it('refuses an option name it does not know, naming the closest one', () => {
        expect(() => preset({ ...credentials, tokenRequst: { timeout: 1000 } } as never)).to.throw(ConfigurationError, `did you mean "${name}.tokenRequest"?`);
        expect(() => preset({ ...credentials, tokenRequest: { timout: 1000 } } as never)).to.throw(ConfigurationError, `option "${name}.tokenRequest.timout"`);
        expect(() => preset({ ...credentials, timeout: 1000 } as never)).to.throw(ConfigurationError, `did you mean "${name}.tokenRequest.timeout"?`);
      });

      it("requires a client secret, as the provider's document does for every grant", () => {
        expect(() => preset({ clientId: 'id' } as never)).to.throw(ConfigurationError, `${name}.clientSecret`);
      });
    });
  }

  it('keeps Musement GET-with-query dialect through attachAuth when only the timeout is overridden', () => {
    const resolved = resolveOptions(axios.create(), presets.musement({ ...credentials, tokenRequest: { timeout: 1000 } }));
    expect(resolved.endpoint).to.include({ method: 'GET', encoding: 'query', timeout: 1000 });
  });

  it('refuses a grant the provider does not document, even when given as an override', () => {
    expect(() => presets.mvmnt({ ...credentials, grant: { type: 'password', username: 'u', password: 'p' } } as never)).to.throw(ConfigurationError, 'mvmnt.grant');
    expect(() => presets.myparcel({ ...credentials, grant: { type: 'refresh_token', refreshToken: 'r' } } as never)).to.throw(ConfigurationError, 'myparcel.grant');
  });
});
