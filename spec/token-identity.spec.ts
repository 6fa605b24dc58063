import axios from 'axios';
import { expect } from 'chai';
import type { AttachAuthOptions } from '../lib/options.js';
import { resolveOptions } from '../lib/resolve-options.js';
import { ConfigurationError } from '../lib/index.js';
import { tokenKey, type TokenIdentity } from '../lib/token-identity.js';

const BASE: TokenIdentity = {
  tokenUrl: 'https://auth.example.com/oauth2/token',
  clientId: 'client-1',
  grant: { type: 'password', username: 'ann', password: 'pw-secret-99' },
  scope: 'read',
  params: { audience: 'https://api.example.com' },
};

describe('token-identity', () => {
  it('gives the same key to the same identity', () => {
    expect(tokenKey({ ...BASE })).to.equal(tokenKey({ ...BASE, params: { ...BASE.params } }));
  });

  const variations: [string, Partial<TokenIdentity>][] = [
    ['token URL', { tokenUrl: 'https://auth.example.com/other/token' }],
    ['client', { clientId: 'client-2' }],
    ['grant subject (username)', { grant: { type: 'password', username: 'bob', password: 'pw-secret-99' } }],
    ['grant type', { grant: { type: 'client_credentials' } }],
    ['scope', { scope: 'read write' }],
    ['missing scope', { scope: undefined }],
    ['audience parameter', { params: { audience: 'https://other.example.com' } }],
    ['resource parameter', { params: { audience: 'https://api.example.com', resource: 'https://api.example.com/orders' } }],
  ];
  for (const [what, change] of variations) {
    it(`gives a different key when the ${what} differs`, () => {
      expect(tokenKey({ ...BASE, ...change })).not.to.equal(tokenKey(BASE));
    });
  }

  it('does not depend on the order in which parameters were written', () => {
    const a = tokenKey({ ...BASE, params: { audience: 'x', resource: 'y' } });
    const b = tokenKey({ ...BASE, params: { resource: 'y', audience: 'x' } });
    expect(a).to.equal(b);
  });

  it('keeps every secret out of the key, including a refresh token that starts the grant', () => {
    const key = tokenKey({ ...BASE, grant: { type: 'refresh_token', refreshToken: 'refresh-secret-77' } });
    expect(key).to.match(/^axios-oauth-queue:[A-Za-z0-9_-]{43}$/);
    expect(key).not.to.include('refresh-secret-77');
    expect(tokenKey(BASE)).not.to.include('pw-secret-99');
  });

  it('is the store key of resolved options, unchanged by a different client secret or password of the same user', () => {
    const api = axios.create({ baseURL: 'https://api.example.com' });
    const options: AttachAuthOptions = {
      tokenUrl: BASE.tokenUrl,
      clientId: BASE.clientId,
      clientSecret: 'secret-one',
      grant: { type: 'password', username: 'ann', password: 'pw-one' },
      scope: ['read'],
      tokenRequest: { params: { audience: 'https://api.example.com' } },
    };
    const first = resolveOptions(api, options).storeKey;
    const second = resolveOptions(api, { ...options, clientSecret: 'secret-two', grant: { type: 'password', username: 'ann', password: 'pw-two' } }).storeKey;
    expect(first).to.equal(second);
    expect(first).to.equal(tokenKey(BASE));
  });

  it('keys a refresh-token grant by its subject, the same whichever refresh token of the grant a handle starts from', () => {
    const grant = (refreshToken: string): TokenIdentity => ({ ...BASE, grant: { type: 'refresh_token', refreshToken }, subject: 'user-42' });
    expect(tokenKey(grant('refresh-one'))).to.equal(tokenKey(grant('refresh-two')));
    expect(tokenKey(grant('refresh-one'))).not.to.equal(tokenKey({ ...grant('refresh-one'), subject: 'user-43' }));
  });

  it('keys a refresh-token or authorization-code grant without a subject by client, endpoint and scope, never by the refresh token or code', () => {
    const grant = (refreshToken: string): TokenIdentity => ({ ...BASE, grant: { type: 'refresh_token', refreshToken } });
    expect(tokenKey(grant('refresh-one')), 'older and newer refresh tokens of one grant share a key and a lock').to.equal(tokenKey(grant('refresh-two')));
    expect(tokenKey(grant('refresh-one'))).not.to.equal(tokenKey({ ...grant('refresh-one'), scope: 'other' }));
    expect(tokenKey(grant('refresh-one'))).not.to.equal(tokenKey({ ...grant('refresh-one'), subject: 'user-42' }));
    const code = (value: string): TokenIdentity => ({ ...BASE, grant: { type: 'authorization_code', code: value, redirectUri: 'https://app.example.com/cb' } });
    expect(tokenKey(code('code-one'))).to.equal(tokenKey(code('code-two')));
  });

  it('accepts a refresh-token grant with a shared store without a subject, and refuses an empty subject', () => {
    const api = axios.create({ baseURL: 'https://api.example.com' });
    const store = { get: async () => undefined, set: async () => undefined, delete: async () => undefined, acquire: async () => undefined };
    const options: AttachAuthOptions = { tokenUrl: BASE.tokenUrl, clientId: BASE.clientId, grant: { type: 'refresh_token', refreshToken: 'refresh-secret-77' }, store };
    expect(() => resolveOptions(api, options)).not.to.throw();
    expect(() => resolveOptions(api, { ...options, subject: '' })).to.throw(ConfigurationError, /subject/);
  });
});
