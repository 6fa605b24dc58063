import { expect } from 'chai';
import {
  ConfigurationError,
  ErrorCodes,
  OAuthError,
  OAuthQueueError,
  TokenEndpointError,
  isTransientError,
  isTransientStatus,
  type ErrorCode,
} from '../lib/errors.js';

describe('errors', () => {
  it('puts every error of the package under OAuthQueueError and Error, each with its own name', () => {
    const errors = [
      new OAuthError('no', { code: 'invalid_client' }),
      new TokenEndpointError('down', { code: ErrorCodes.TOKEN_ENDPOINT_UNREACHABLE }),
      new ConfigurationError('tokenUrl', 'must be a URL'),
    ];
    expect(errors.map((error) => error.name)).to.deep.equal(['OAuthError', 'TokenEndpointError', 'ConfigurationError']);
    for (const error of errors) {
      expect(error).to.be.instanceOf(OAuthQueueError);
      expect(error).to.be.instanceOf(Error);
    }
  });

  it('gives an OAuthError the server error value as code, with its description, status and cause', () => {
    const cause = new Error('HTTP 400');
    const error = new OAuthError('denied', { code: 'invalid_client', description: 'bad client', status: 400, cause });
    expect(error.code).to.equal('invalid_client');
    expect(error.description).to.equal('bad client');
    expect(error.status).to.equal(400);
    expect(error.cause).to.equal(cause);
  });

  it('classifies OAuth errors that may pass as transient and the rest as terminal', () => {
    for (const code of ['temporarily_unavailable', 'server_error', 'slow_down']) {
      expect(new OAuthError(code, { code, status: 400 }).transient, code).to.equal(true);
    }
    expect(new OAuthError('busy', { code: 'invalid_request', status: 503 }).transient).to.equal(true);
    expect(new OAuthError('busy', { code: 'invalid_request', status: 429 }).transient).to.equal(true);
    for (const code of ['invalid_client', 'invalid_grant', 'unauthorized_client', 'invalid_scope']) {
      expect(new OAuthError(code, { code, status: 400 }).transient, code).to.equal(false);
    }
  });

  it('classifies token endpoint failures: network, timeout, not JSON and 5xx are transient', () => {
    const transient = (code: ErrorCode, extra: { status?: number; oauthCode?: string } = {}): boolean =>
      new TokenEndpointError('x', { code, ...extra }).transient;
    expect(transient(ErrorCodes.TOKEN_ENDPOINT_UNREACHABLE)).to.equal(true);
    expect(transient(ErrorCodes.TOKEN_ENDPOINT_TIMEOUT)).to.equal(true);
    expect(transient(ErrorCodes.TOKEN_RESPONSE_NOT_JSON)).to.equal(true);
    expect(transient(ErrorCodes.TOKEN_ENDPOINT_STATUS, { status: 502 })).to.equal(true);
    expect(transient(ErrorCodes.TOKEN_ENDPOINT_STATUS, { status: 404 })).to.equal(false);
    expect(transient(ErrorCodes.TOKEN_RESPONSE_ERROR_BODY, { oauthCode: 'temporarily_unavailable' })).to.equal(true);
    expect(transient(ErrorCodes.TOKEN_RESPONSE_ERROR_BODY, { oauthCode: 'invalid_client' })).to.equal(false);
    expect(transient(ErrorCodes.TOKEN_RESPONSE_INVALID)).to.equal(false);
    expect(transient(ErrorCodes.TOKEN_RESPONSE_TOO_LARGE)).to.equal(false);
  });

  it('treats only errors of this package as transient', () => {
    expect(isTransientError(new TokenEndpointError('x', { code: ErrorCodes.TOKEN_ENDPOINT_TIMEOUT }))).to.equal(true);
    expect(isTransientError(Object.assign(new Error('ECONNRESET'), { transient: true }))).to.equal(false);
    expect(isTransientError('timeout')).to.equal(false);
  });

  it('counts 408, 425, 429 and every 5xx as transient statuses', () => {
    expect([408, 425, 429, 500, 503, 599].every(isTransientStatus)).to.equal(true);
    expect([undefined, 400, 401, 403, 404].some(isTransientStatus)).to.equal(false);
  });

  it('names the option at fault in a ConfigurationError', () => {
    const error = new ConfigurationError('tokenRequest.encoding', 'must be one of "form", "json", "query"');
    expect(error.option).to.equal('tokenRequest.encoding');
    expect(error.code).to.equal(ErrorCodes.INVALID_OPTION);
    expect(error.message).to.include('tokenRequest.encoding').and.to.include('"json"');
  });
});
