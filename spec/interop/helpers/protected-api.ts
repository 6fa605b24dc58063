// A small resource server (node:http) that trusts only oidc-provider: opaque
// access tokens are checked at the provider's introspection endpoint (RFC 7662)
// on every request, JWT access tokens (RFC 9068) are verified with the
// provider's JWKS and node:crypto. Anything else is a 401 with an RFC 6750
// challenge. Every request is recorded with the token it carried and the answer.

import { createPublicKey, verify, type JsonWebKey, type KeyObject } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ApiRequestRecord {
  token: string | undefined;
  status: number;
}

export interface ProtectedApiOptions {
  issuer: string;
  introspectionUrl: string;
  jwksUrl: string;
  /** The `aud` a JWT access token must carry. */
  audience: string;
  /** The API's own client, which authenticates to the introspection endpoint. */
  client: { id: string; secret: string };
}

export interface ProtectedApi {
  readonly baseURL: string;
  readonly requests: ApiRequestRecord[];
  /** Requests answered 401 since the last reset. */
  unauthorized(): number;
  reset(): void;
  close(): Promise<void>;
}

/** What the API answers with a 200: who the token was issued to. */
export interface ApiAnswer {
  clientId: string;
  subject: string | undefined;
  tokenKind: 'opaque' | 'jwt';
}

/** RFC 7662 introspection, authenticated with HTTP Basic as RFC 6749 §2.3.1 asks. */
export async function introspect(options: Pick<ProtectedApiOptions, 'introspectionUrl' | 'client'>, token: string): Promise<Record<string, unknown>> {
  const credentials = `${encodeURIComponent(options.client.id)}:${encodeURIComponent(options.client.secret)}`;
  const response = await fetch(options.introspectionUrl, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(credentials).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    },
    body: new URLSearchParams({ token }).toString(),
    signal: AbortSignal.timeout(5000),
  });
  if (response.status !== 200) throw new Error(`introspection answered ${response.status}`);
  return (await response.json()) as Record<string, unknown>;
}

/** Starts the API on 127.0.0.1, port 0. */
export async function startProtectedApi(options: ProtectedApiOptions): Promise<ProtectedApi> {
  const requests: ApiRequestRecord[] = [];
  let keys: Promise<Map<string, KeyObject>> | undefined;
  const signingKeys = (): Promise<Map<string, KeyObject>> => {
    keys ??= fetch(options.jwksUrl, { signal: AbortSignal.timeout(5000) })
      .then((response) => response.json() as Promise<{ keys: (JsonWebKey & { kid: string })[] }>)
      .then((jwks) => new Map(jwks.keys.map((jwk) => [jwk.kid, createPublicKey({ key: jwk, format: 'jwk' })])));
    return keys;
  };

  const check = async (token: string): Promise<ApiAnswer | undefined> => {
    const parts = token.split('.');
    if (parts.length === 3) return verifyJwt(parts as [string, string, string], await signingKeys(), options);
    const answer = await introspect(options, token);
    // A refresh token is active too, but it is not an access token (it has no token_type).
    if (answer['active'] !== true || answer['token_type'] !== 'Bearer') return undefined;
    return { clientId: String(answer['client_id']), subject: typeof answer['sub'] === 'string' ? answer['sub'] : undefined, tokenKind: 'opaque' };
  };

  const server = http.createServer((request, response) => {
    const match = /^Bearer ([^\s]+)$/.exec(request.headers.authorization ?? '');
    const token = match?.[1];
    const answer = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      requests.push({ token, status });
      response.writeHead(status, { 'content-type': 'application/json', ...headers });
      response.end(JSON.stringify(body));
    };
    const refuse = (): void => answer(401, { error: 'invalid_token' }, { 'www-authenticate': 'Bearer error="invalid_token"' });
    if (token === undefined) {
      refuse();
      return;
    }
    check(token).then(
      (accepted) => (accepted === undefined ? refuse() : answer(200, accepted)),
      (error: unknown) => answer(502, { error: 'introspection_failed', message: String(error) }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

  return {
    baseURL: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    unauthorized: () => requests.filter((record) => record.status === 401).length,
    reset: () => {
      requests.length = 0;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

/** RFC 9068: an ES256 `at+jwt` from the provider, for this audience, not expired. */
function verifyJwt(
  [header, payload, signature]: [string, string, string],
  keys: Map<string, KeyObject>,
  options: Pick<ProtectedApiOptions, 'issuer' | 'audience'>,
): ApiAnswer | undefined {
  const head = decode(header);
  const claims = decode(payload);
  if (head === undefined || claims === undefined || head['alg'] !== 'ES256' || head['typ'] !== 'at+jwt') return undefined;
  const key = typeof head['kid'] === 'string' ? keys.get(head['kid']) : undefined;
  if (key === undefined) return undefined;
  const signed = verify('sha256', Buffer.from(`${header}.${payload}`), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(signature, 'base64url'));
  if (!signed || claims['iss'] !== options.issuer) return undefined;
  const audience = claims['aud'];
  if (!(audience === options.audience || (Array.isArray(audience) && audience.includes(options.audience)))) return undefined;
  if (typeof claims['exp'] !== 'number' || claims['exp'] * 1000 <= Date.now()) return undefined;
  return { clientId: String(claims['client_id']), subject: typeof claims['sub'] === 'string' ? claims['sub'] : undefined, tokenKind: 'jwt' };
}

function decode(segment: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
