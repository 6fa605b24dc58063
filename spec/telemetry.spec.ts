import axios from 'axios';
import type MockAdapter from 'axios-mock-adapter';
import { expect } from 'chai';
import { attachAuth, type TelemetryAttributes, type TelemetryMeter, type TelemetryObservation, type TelemetryTracer } from '../lib/index.js';
import { rejection } from './helpers/deferred.js';
import { JSON_HEADERS, mockAxiosDefaults, oauthError, token } from './helpers/mock-token-endpoint.js';

const TOKEN_URL = 'https://auth.example.com/oauth2/token?tenant=acme';
const SECRET = 'telemetry-secret-77';

interface RecordedSpan {
  name: string;
  kind: number | undefined;
  attributes: TelemetryAttributes;
  status?: { code: number; message?: string };
  ended: boolean;
}

/** A tracer and a meter that record what they are given, standing in for an OpenTelemetry SDK. */
function recorders() {
  const spans: RecordedSpan[] = [];
  const added: { name: string; value: number; attributes: TelemetryAttributes }[] = [];
  const callbacks = new Map<string, (result: TelemetryObservation) => void>();
  const tracer: TelemetryTracer = {
    startSpan(name, options) {
      const span: RecordedSpan = { name, kind: options?.kind, attributes: { ...options?.attributes }, ended: false };
      spans.push(span);
      return {
        setAttribute: (key: string, value: string | number | boolean) => (span.attributes[key] = value),
        setStatus: (status: { code: number; message?: string }) => (span.status = status),
        end: () => (span.ended = true),
      };
    },
  };
  const meter: TelemetryMeter = {
    createCounter: (name) => ({ add: (value, attributes = {}) => added.push({ name, value, attributes }) }),
    createHistogram: (name) => ({ record: (value, attributes = {}) => added.push({ name, value, attributes }) }),
    createObservableCounter: (name) => ({ addCallback: (callback) => callbacks.set(name, callback) }),
    createObservableGauge: (name) => ({ addCallback: (callback) => callbacks.set(name, callback) }),
  };
  const observe = (name: string): number | undefined => {
    let seen: number | undefined;
    callbacks.get(name)?.({ observe: (value) => (seen = value) });
    return seen;
  };
  return { spans, added, tracer, meter, observe };
}

describe('telemetry (OpenTelemetry, opt-in)', () => {
  let mock: MockAdapter;
  beforeEach(() => {
    mock = mockAxiosDefaults();
  });
  afterEach(() => mock.restore());

  it('records a span per token request with origin, grant type, attempt and outcome, and never a secret', async () => {
    mock.onPost(TOKEN_URL).replyOnce(503, '', {}).onPost(TOKEN_URL).replyOnce(...token('access-1'));
    const { spans, added, tracer, meter } = recorders();
    const handle = attachAuth(axios.create({ baseURL: 'https://api.example.com' }), {
      tokenUrl: TOKEN_URL,
      clientId: 'client-1',
      clientSecret: SECRET,
      retry: { baseDelay: 1, maxDelay: 5 },
      telemetry: { tracer, meter },
    });
    await handle.getToken();

    expect(spans.map((span) => [span.name, span.kind, span.attributes, span.status, span.ended])).to.deep.equal([
      [
        'oauth token request',
        2,
        { 'oauth.token_endpoint.origin': 'https://auth.example.com', 'oauth.grant_type': 'client_credentials', 'oauth.attempt': 0, 'oauth.outcome': 'transient_error', 'error.type': 'ERR_TOKEN_ENDPOINT_STATUS' },
        { code: 2, message: 'ERR_TOKEN_ENDPOINT_STATUS' },
        true,
      ],
      ['oauth token request', 2, { 'oauth.token_endpoint.origin': 'https://auth.example.com', 'oauth.grant_type': 'client_credentials', 'oauth.attempt': 1, 'oauth.outcome': 'success' }, { code: 1 }, true],
    ]);
    expect(added.filter((entry) => entry.name === 'oauth_queue.token_requests').map((entry) => entry.attributes['oauth.outcome'])).to.deep.equal(['transient_error', 'success']);
    expect(added.filter((entry) => entry.name === 'oauth_queue.token_request.duration')).to.have.length(2);
    const everything = JSON.stringify([spans, added]);
    for (const secret of [SECRET, 'access-1', 'tenant=acme']) expect(everything).not.to.include(secret);
    handle.detach();
  });

  it('marks an OAuth refusal with its code, and the observable instruments read stats()', async () => {
    mock.onPost(TOKEN_URL).reply(...oauthError(401, 'invalid_client', `bad secret ${SECRET}`));
    mock.onGet('https://api.example.com/x').reply(200, {}, JSON_HEADERS);
    const { spans, tracer, meter, observe } = recorders();
    const handle = attachAuth(axios.create({ baseURL: 'https://api.example.com' }), { tokenUrl: TOKEN_URL, clientId: 'client-1', clientSecret: SECRET, telemetry: { tracer, meter } });
    await rejection(handle.getToken());
    expect(spans[0]?.attributes).to.include({ 'oauth.outcome': 'error', 'error.type': 'invalid_client' });
    expect(spans[0]?.status).to.deep.equal({ code: 2, message: 'invalid_client' });
    expect(observe('oauth_queue.refresh_failures')).to.equal(1);
    expect(observe('oauth_queue.held_requests')).to.equal(0);
    expect(observe('oauth_queue.replays')).to.equal(0);
    expect(JSON.stringify(spans)).not.to.include(SECRET);
    handle.detach();
  });

  it('telemetry: true uses @opentelemetry/api, a no-op without an SDK registered', async () => {
    mock.onPost(TOKEN_URL).reply(...token('access-2'));
    const handle = attachAuth(axios.create({ baseURL: 'https://api.example.com' }), { tokenUrl: TOKEN_URL, clientId: 'client-1', clientSecret: SECRET, telemetry: true });
    expect((await handle.getToken()).accessToken).to.equal('access-2');
    handle.detach();
  });
});
