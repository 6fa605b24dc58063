import { expect } from 'chai';
import { canRerun, grantParameters, grantSubject, refreshParameters } from '../lib/grants.js';
import type { Grant } from '../lib/options.js';

describe('grants', () => {
  describe('grantParameters', () => {
    it('sends grant_type=client_credentials and the scope', () => {
      expect(grantParameters({ type: 'client_credentials' }, 'read write')).to.deep.equal({ grant_type: 'client_credentials', scope: 'read write' });
    });

    it('sends no scope parameter when no scope is configured', () => {
      expect(grantParameters({ type: 'client_credentials' }, undefined)).to.deep.equal({ grant_type: 'client_credentials' });
    });

    it('sends username and password for the password grant', () => {
      expect(grantParameters({ type: 'password', username: 'ann', password: 'pw-1234' }, '*')).to.deep.equal({
        grant_type: 'password',
        username: 'ann',
        password: 'pw-1234',
        scope: '*',
      });
    });

    it('sends the refresh token for the refresh_token grant, and refreshParameters builds the same', () => {
      const expected = { grant_type: 'refresh_token', refresh_token: 'refresh-1', scope: 'read' };
      expect(grantParameters({ type: 'refresh_token', refreshToken: 'refresh-1' }, 'read')).to.deep.equal(expected);
      expect(refreshParameters('refresh-1', 'read')).to.deep.equal(expected);
    });

    it('sends code, redirect_uri and the PKCE verifier for the authorization code, without scope', () => {
      const grant: Grant = { type: 'authorization_code', code: 'code-1', redirectUri: 'https://app.example.com/cb', codeVerifier: 'verifier-1' };
      expect(grantParameters(grant, 'read')).to.deep.equal({
        grant_type: 'authorization_code',
        code: 'code-1',
        redirect_uri: 'https://app.example.com/cb',
        code_verifier: 'verifier-1',
      });
    });

    it('leaves code_verifier out when the authorization request had no PKCE', () => {
      const parameters = grantParameters({ type: 'authorization_code', code: 'code-1', redirectUri: 'https://app.example.com/cb' }, undefined);
      expect(parameters).not.to.have.property('code_verifier');
    });
  });

  describe('canRerun', () => {
    it('re-runs client credentials and password grants, whose credentials do not wear out', () => {
      expect(canRerun({ type: 'client_credentials' })).to.equal(true);
      expect(canRerun({ type: 'password', username: 'ann', password: 'pw' })).to.equal(true);
    });

    it('never re-runs a refresh token or an authorization code', () => {
      expect(canRerun({ type: 'refresh_token', refreshToken: 'r' })).to.equal(false);
      expect(canRerun({ type: 'authorization_code', code: 'c', redirectUri: 'https://app/cb' })).to.equal(false);
    });
  });

  describe('grantSubject', () => {
    it('names the user of a password grant but never the password', () => {
      const subject = grantSubject({ type: 'password', username: 'ann', password: 'pw-secret-99' });
      expect(subject).to.include('ann');
      expect(subject).not.to.include('pw-secret-99');
    });

    it('tells apart two users, by username or by the subject given', () => {
      expect(grantSubject({ type: 'password', username: 'ann', password: 'x' })).not.to.equal(grantSubject({ type: 'password', username: 'bob', password: 'x' }));
      expect(grantSubject({ type: 'refresh_token', refreshToken: 'r1' }, 'ann')).not.to.equal(grantSubject({ type: 'refresh_token', refreshToken: 'r1' }, 'bob'));
    });

    it('names a refresh-token or authorization-code grant by its subject, never by the token or code that rotates or is spent', () => {
      expect(grantSubject({ type: 'refresh_token', refreshToken: 'r1' }, 'ann')).to.equal(grantSubject({ type: 'refresh_token', refreshToken: 'r2' }, 'ann'));
      expect(grantSubject({ type: 'refresh_token', refreshToken: 'r1' }, 'ann')).not.to.include('r1');
      expect(grantSubject({ type: 'authorization_code', code: 'c1', redirectUri: 'https://app/cb' }, 'ann')).not.to.include('c1');
      // Without a subject, the grant type names them: every refresh token of one grant meets under one key.
      expect(grantSubject({ type: 'refresh_token', refreshToken: 'r1' })).to.equal(grantSubject({ type: 'refresh_token', refreshToken: 'r2' }));
      expect(grantSubject({ type: 'authorization_code', code: 'c1', redirectUri: 'https://app/cb' })).not.to.include('c1');
    });
  });
});
