import { inspect } from 'node:util';
import { AxiosError, AxiosHeaders, type AxiosResponse, type InternalAxiosRequestConfig } from 'axios';
import { expect } from 'chai';
import { AgentStandIn, REDACTED_AUTHORIZATION, RequestSummary, cleanCauseChain, redactAxiosError } from '../lib/redact.js';

const TOKEN = 'access-token-secret-55';

function failedRequest(): AxiosError {
  const config: InternalAxiosRequestConfig = { url: '/orders', headers: new AxiosHeaders({ Authorization: `Bearer ${TOKEN}` }) };
  // What an http.ClientRequest exposes: the raw header text with the token in it.
  const request = { method: 'GET', path: '/orders', host: 'api.example', protocol: 'https:', _header: `GET /orders HTTP/1.1\r\nAuthorization: Bearer ${TOKEN}\r\n\r\n` };
  const response: AxiosResponse = { data: { error: 'nope' }, status: 500, statusText: 'Server Error', headers: {}, config, request };
  return new AxiosError('Request failed with status code 500', 'ERR_BAD_RESPONSE', config, request, response);
}

describe('redact', () => {
  it('replaces the Bearer token in the failed request config', () => {
    const error = redactAxiosError(failedRequest());
    expect(error.config?.headers.get('Authorization')).to.equal(REDACTED_AUTHORIZATION);
  });

  it('replaces the raw request by a summary of its request line, out of reach of util.inspect with showHidden and JSON.stringify', () => {
    const error = redactAxiosError(failedRequest());
    expect(error.request).to.be.instanceOf(RequestSummary);
    expect(error.request).to.deep.include({ method: 'GET', path: '/orders', host: 'api.example' });
    expect(error.response?.request).to.be.instanceOf(RequestSummary);
    expect(inspect(error, { depth: Infinity, showHidden: true })).not.to.include(TOKEN);
    expect(JSON.stringify(error)).not.to.include(TOKEN);
  });

  it('puts a stand-in for the agent in the config: it sends through the agent and shows none of it', () => {
    const sent: unknown[] = [];
    const agent = { protocol: 'http:', keepAlive: true, sockets: { secret: `Bearer ${TOKEN}` }, addRequest: (request: unknown) => sent.push(request) };
    const error = failedRequest();
    (error.config as { httpAgent?: unknown }).httpAgent = agent;
    redactAxiosError(error);
    const standIn = (error.config as { httpAgent?: AgentStandIn }).httpAgent!;
    expect(standIn).to.be.instanceOf(AgentStandIn);
    expect(inspect(error, { depth: Infinity, showHidden: true })).not.to.include(TOKEN);
    expect(JSON.stringify(error)).not.to.include(TOKEN);
    standIn.addRequest('request', {});
    expect(sent).to.deep.equal(['request']);
    expect([standIn.protocol, standIn.keepAlive]).to.deep.equal(['http:', true]);
  });

  it("copies the transport's error in `cause` keeping its code and message but no object it linked to", () => {
    const cause = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED', socket: { _header: `Bearer ${TOKEN}` } });
    const error = failedRequest();
    Object.defineProperty(error, 'cause', { value: cause, enumerable: false, writable: true, configurable: true });
    redactAxiosError(error);
    expect(error.cause).to.be.instanceOf(Error).and.to.include({ code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' });
    expect(inspect(error, { depth: Infinity, showHidden: true })).not.to.include(TOKEN);
  });

  it('cleans an axios error an app error holds as its cause or in a property of its own', () => {
    const inCause = failedRequest();
    const inProperty = failedRequest();
    const wrapper = Object.assign(new Error('orders failed', { cause: inCause }), { original: inProperty });

    const found: unknown[] = [];
    cleanCauseChain(wrapper, (axiosError) => found.push(axiosError));

    expect(found).to.have.members([inCause, inProperty]);
    expect(inCause.request).to.be.instanceOf(RequestSummary);
    expect(inProperty.request).to.be.instanceOf(RequestSummary);
  });

  it('leaves an error without an Authorization header as it was', () => {
    const config: InternalAxiosRequestConfig = { headers: new AxiosHeaders({ Accept: 'application/json' }) };
    const error = redactAxiosError(new AxiosError('boom', 'ERR_NETWORK', config));
    expect(error.config?.headers.has('Authorization')).to.equal(false);
    expect(error.message).to.equal('boom');
  });
});
