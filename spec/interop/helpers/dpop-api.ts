// A resource server that accepts only DPoP-bound access tokens (RFC 9449 §7):
// the token is introspected at oidc-provider, whose answer binds it to a key
// thumbprint (cnf.jkt); the proof is verified with jose against the key in its
// header, and its htm, htu, ath, iat, jti (never twice) and nonce are checked.
// The nonce is the API's own (RFC 9449 §9), and a test can change it.

import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { EmbeddedJWK, calculateJwkThumbprint, jwtVerify } from 'jose';
import { introspect, type ProtectedApiOptions } from './protected-api.js';

export interface DPoPApiRecord {
  scheme: string | undefined;
  status: number;
  /** Why a request was refused, in the words of RFC 9449. */
  error?: string;
  nonce?: unknown;
  jti?: unknown;
}

export interface DPoPApi {
  readonly baseURL: string;
  readonly requests: DPoPApiRecord[];
  /** From now on, proofs must carry this nonce (undefined: no nonce required). */
  requireNonce(nonce: string | undefined): void;
  reset(): void;
  close(): Promise<void>;
}

export async function startDPoPApi(options: Pick<ProtectedApiOptions, 'introspectionUrl' | 'client'>): Promise<DPoPApi> {
  const requests: DPoPApiRecord[] = [];
  const seenJti = new Set<string>();
  let nonce: string | undefined;
  let baseURL = '';

  const check = async (request: http.IncomingMessage): Promise<{ status: number; error?: string; body: unknown; record: Partial<DPoPApiRecord> }> => {
    const match = /^(\S+) (\S+)$/.exec(request.headers.authorization ?? '');
    const proof = request.headers['dpop'];
    if (match?.[1] !== 'DPoP' || typeof proof !== 'string') return { status: 401, error: 'invalid_token', body: {}, record: {} };
    const token = match[2]!;
    let payload: Record<string, unknown>;
    let jwk: Record<string, unknown>;
    try {
      const verified = await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: ['ES256', 'EdDSA', 'PS256', 'RS256'] });
      payload = verified.payload as Record<string, unknown>;
      jwk = verified.protectedHeader.jwk as Record<string, unknown>;
    } catch {
      return { status: 401, error: 'invalid_dpop_proof', body: {}, record: {} };
    }
    const record = { nonce: payload['nonce'], jti: payload['jti'] };
    const htu = `${baseURL}${(request.url ?? '/').split('?')[0]}`;
    const ath = createHash('sha256').update(token).digest('base64url');
    const fresh = typeof payload['iat'] === 'number' && Math.abs(Date.now() / 1000 - payload['iat']) < 60;
    if (payload['htm'] !== request.method || payload['htu'] !== htu || payload['ath'] !== ath || !fresh || typeof payload['jti'] !== 'string' || seenJti.has(payload['jti'])) {
      return { status: 401, error: 'invalid_dpop_proof', body: {}, record };
    }
    seenJti.add(payload['jti']);
    if (nonce !== undefined && payload['nonce'] !== nonce) return { status: 401, error: 'use_dpop_nonce', body: {}, record };
    const answer = await introspect(options, token);
    const cnf = answer['cnf'] as { jkt?: unknown } | undefined;
    if (answer['active'] !== true || answer['token_type'] !== 'DPoP' || cnf?.jkt !== (await calculateJwkThumbprint(jwk))) return { status: 401, error: 'invalid_token', body: {}, record };
    return { status: 200, body: { clientId: answer['client_id'], bound: true }, record };
  };

  const server = http.createServer((request, response) => {
    check(request).then(
      ({ status, error, body, record }) => {
        requests.push({ scheme: request.headers.authorization?.split(' ')[0], status, ...(error === undefined ? {} : { error }), ...record });
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        if (error !== undefined) headers['www-authenticate'] = `DPoP error="${error}", algs="ES256 EdDSA PS256 RS256"`;
        if (nonce !== undefined) headers['dpop-nonce'] = nonce;
        response.writeHead(status, headers);
        response.end(JSON.stringify(error === undefined ? body : { error }));
      },
      (failure: unknown) => {
        response.writeHead(502, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ error: 'introspection_failed', message: String(failure) }));
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    baseURL,
    requests,
    requireNonce(value) {
      nonce = value;
    },
    reset() {
      requests.length = 0;
      nonce = undefined;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
