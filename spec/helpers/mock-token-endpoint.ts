// Token endpoint answers for specs that run the library against axios-mock-adapter
// instead of a server: the adapter is installed on axios's defaults (for the API
// instances) and on the library's internal token transport (the private token
// instance ignores axios.defaults.adapter by design).
import axios from 'axios';
import MockAdapter from 'axios-mock-adapter';
import { tokenTransport } from '../../lib/token-endpoint.js';
import { deferred, type Deferred } from './deferred.js';

/** axios-mock-adapter's types name axios's CommonJS typings; the instance is the same. */
type MockedAxios = ConstructorParameters<typeof MockAdapter>[0];

export const JSON_HEADERS = { 'content-type': 'application/json' };

/** A mock adapter reply: status, JSON body as text, headers. */
export type Reply = [number, string, Record<string, string>];

/**
 * Mocks axios's default instance. Instances created afterwards (the API instance,
 * attachAuth's token instance) copy its adapter. Call `restore()` after each test.
 */
export function mockAxiosDefaults(): MockAdapter {
  const mock = new MockAdapter(axios as unknown as MockedAxios);
  tokenTransport.override = axios.defaults.adapter as typeof tokenTransport.override;
  const restore = mock.restore.bind(mock);
  mock.restore = () => {
    tokenTransport.override = undefined;
    restore();
  };
  return mock;
}

/** A token endpoint answer carrying `accessToken`, valid one hour unless `extra` says otherwise. */
export function token(accessToken: string, extra: Record<string, unknown> = {}): Reply {
  return [200, JSON.stringify({ access_token: accessToken, token_type: 'Bearer', expires_in: 3600, ...extra }), JSON_HEADERS];
}

/** An OAuth error answer (RFC 6749 §5.2) with `status`, `error` and an optional description. */
export function oauthError(status: number, error: string, description?: string): Reply {
  return [status, JSON.stringify({ error, ...(description === undefined ? {} : { error_description: description }) }), JSON_HEADERS];
}

/**
 * The token endpoint at `tokenUrl` answers `first` at once, then holds its next
 * answer, `second`, until the returned gate is resolved.
 */
export function secondTokenHeld(mock: MockAdapter, tokenUrl: string, first: string, second: string): Deferred<void> {
  const gate = deferred();
  mock
    .onPost(tokenUrl)
    .replyOnce(...token(first))
    .onPost(tokenUrl)
    .replyOnce(() => gate.promise.then(() => token(second)));
  return gate;
}
