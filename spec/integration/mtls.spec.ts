// mTLS client authentication and certificate-bound tokens (RFC 8705) over real
// loopback TLS: a token endpoint and an API on one https server that asks for a
// client certificate, with certificates made by openssl at test time.

import { createHash, X509Certificate } from 'node:crypto';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { inspect } from 'node:util';
import axios from 'axios';
import { expect } from 'chai';
import { attachAuth, ConfigurationError, type AuthHandle } from '../../lib/index.js';
import { rejection } from '../helpers/deferred.js';
import { hasOpenssl, makeSelfSignedCertificate, type SelfSignedCertificate } from '../helpers/self-signed-certificate.js';

describe('mTLS (RFC 8705): tls_client_auth and certificate-bound tokens', function () {
  let server: https.Server;
  let base: string;
  let serverCert: SelfSignedCertificate;
  let clientCert: SelfSignedCertificate;
  /** Access token → the SHA-256 thumbprint of the certificate it was issued to (cnf x5t#S256). */
  const bound = new Map<string, string>();
  const tokenBodies: URLSearchParams[] = [];
  const handles: AuthHandle[] = [];

  before(function () {
    if (!hasOpenssl()) this.skip();
    serverCert = makeSelfSignedCertificate('localhost');
    clientCert = makeSelfSignedCertificate('client-mtls');
    server = https.createServer({ cert: serverCert.cert, key: serverCert.key, requestCert: true, rejectUnauthorized: false }, (request, response) => {
      const peer = (request.socket as TLSSocket).getPeerCertificate();
      const thumbprint = peer.raw === undefined ? undefined : createHash('sha256').update(peer.raw).digest('base64url');
      const send = (status: number, body: unknown): void => {
        response.writeHead(status, { 'content-type': 'application/json' });
        response.end(JSON.stringify(body));
      };
      let text = '';
      request.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      request.on('end', () => {
        if (request.url === '/token') {
          tokenBodies.push(new URLSearchParams(text));
          if (thumbprint === undefined) return send(401, { error: 'invalid_client', error_description: 'no client certificate' });
          const token = `bound-${bound.size + 1}`;
          bound.set(token, thumbprint);
          return send(200, { access_token: token, token_type: 'Bearer', expires_in: 3600 });
        }
        const token = /^Bearer (\S+)$/.exec(request.headers.authorization ?? '')?.[1];
        if (token === undefined || bound.get(token) !== thumbprint) return send(401, { error: 'invalid_token' });
        return request.url === '/fail' ? send(500, { error: 'boom' }) : send(200, { bound: true });
      });
    });
    return new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve)).then(() => {
      base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
  });

  after(async () => {
    for (const handle of handles.splice(0)) handle.detach();
    if (server !== undefined) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  function connect() {
    const agent = new https.Agent({ cert: clientCert.cert, key: clientCert.key, ca: serverCert.cert });
    const api = axios.create({ baseURL: base, httpsAgent: agent, timeout: 5000 });
    const handle = attachAuth(api, { tokenUrl: `${base}/token`, clientId: 'mtls-client', clientSecret: 'never-sent-1', tokenRequest: { clientAuth: 'tls_client_auth', httpsAgent: agent } });
    handles.push(handle);
    return { api, handle, agent };
  }

  it('authenticates the token request with the client certificate, sends no secret, and the API takes the bound token over the same certificate', async () => {
    const { api } = connect();
    expect((await api.get('/orders')).data).to.deep.equal({ bound: true });
    expect(tokenBodies.at(-1)?.get('client_id')).to.equal('mtls-client');
    expect(tokenBodies.at(-1)?.has('client_secret')).to.equal(false);
    const expected = createHash('sha256').update(new X509Certificate(clientCert.cert).raw).digest('base64url');
    expect([...bound.values()].at(-1)).to.equal(expected);
  });

  it('the bound token is refused over a connection without the certificate', async () => {
    const { handle } = connect();
    const { accessToken } = await handle.getToken();
    const stranger = await axios.get(`${base}/orders`, { headers: { Authorization: `Bearer ${accessToken}` }, httpsAgent: new https.Agent({ ca: serverCert.cert }), validateStatus: () => true });
    expect(stranger.status).to.equal(401);
  });

  it('an API error printed whole (JSON.stringify, util.inspect) shows the agent by name, never its private key', async () => {
    const { api } = connect();
    const error = await rejection(api.get('/fail'));
    const keyLines = clientCert.key.split('\n').filter((line) => line.length > 20);
    for (const text of [JSON.stringify(error), inspect(error, { depth: 20 }), JSON.stringify((error as { toJSON?: () => unknown }).toJSON?.())]) {
      for (const line of keyLines) expect(text).not.to.include(line);
    }
  });

  describe('options checked at attach time', () => {
    const api = axios.create({ baseURL: 'https://api.example.com' });
    it('tls_client_auth without an agent names tokenRequest.httpsAgent', () => {
      expect(() => attachAuth(api, { tokenUrl: 'https://auth.example.com/token', clientId: 'c', tokenRequest: { clientAuth: 'tls_client_auth' } }))
        .to.throw(ConfigurationError)
        .with.property('option', 'tokenRequest.httpsAgent');
    });
    it('an agent without a certificate names tokenRequest.httpsAgent', () => {
      expect(() => attachAuth(api, { tokenUrl: 'https://auth.example.com/token', clientId: 'c', tokenRequest: { clientAuth: 'self_signed_tls_client_auth', httpsAgent: new https.Agent() } }))
        .to.throw(ConfigurationError)
        .with.property('option', 'tokenRequest.httpsAgent');
    });
    it('a plain http token endpoint with a client certificate names tokenRequest.httpsAgent', () => {
      const agent = new https.Agent({ cert: 'x', key: 'y' });
      expect(() => attachAuth(api, { tokenUrl: 'http://127.0.0.1:1/token', clientId: 'c', tokenRequest: { clientAuth: 'tls_client_auth', httpsAgent: agent } }))
        .to.throw(ConfigurationError)
        .with.property('option', 'tokenRequest.httpsAgent');
    });
  });
});
