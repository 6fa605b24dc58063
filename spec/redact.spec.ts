import { inspect } from 'node:util';
import { AxiosError, AxiosHeaders, type AxiosResponse, type InternalAxiosRequestConfig } from 'axios';
import { expect } from 'chai';
import { REDACTED_AUTHORIZATION, redactAxiosError } from '../lib/redact.js';

const TOKEN = 'access-token-secret-55';

function failedRequest(): AxiosError {
  const config: InternalAxiosRequestConfig = { url: '/orders', headers: new AxiosHeaders({ Authorization: `Bearer ${TOKEN}` }) };
  // What an http.ClientRequest exposes: the raw header text with the token in it.
  const request = { _header: `GET /orders HTTP/1.1\r\nAuthorization: Bearer ${TOKEN}\r\n\r\n` };
  const response: AxiosResponse = { data: { error: 'nope' }, status: 500, statusText: 'Server Error', headers: {}, config, request };
  return new AxiosError('Request failed with status code 500', 'ERR_BAD_RESPONSE', config, request, response);
}

describe('redact', () => {
  it('replaces the Bearer token in the failed request config', () => {
    const error = redactAxiosError(failedRequest());
    expect(error.config?.headers.get('Authorization')).to.equal(REDACTED_AUTHORIZATION);
  });

  it('keeps the raw request readable but out of util.inspect, JSON.stringify and Object.keys', () => {
    const error = redactAxiosError(failedRequest());
    expect(error.request).to.have.property('_header');
    expect(Object.keys(error)).not.to.include('request');
    expect(Object.keys(error.response ?? {})).not.to.include('request');
    expect(inspect(error, { depth: 10 })).not.to.include(TOKEN);
    expect(JSON.stringify(error)).not.to.include(TOKEN);
  });

  it('leaves an error without an Authorization header as it was', () => {
    const config: InternalAxiosRequestConfig = { headers: new AxiosHeaders({ Accept: 'application/json' }) };
    const error = redactAxiosError(new AxiosError('boom', 'ERR_NETWORK', config));
    expect(error.config?.headers.has('Authorization')).to.equal(false);
    expect(error.message).to.equal('boom');
  });
});
