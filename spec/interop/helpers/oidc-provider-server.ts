// panva's oidc-provider 8 as a real authorization server on a loopback port, set
// up with the clients the interoperability tests need, and with a record of
// every token and revocation request it answered. Nothing here imitates a
// server: the answers are oidc-provider's own.

import { generateKeyPairSync } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider, { type ProviderContext } from 'oidc-provider';

/**
 * A client secret full of characters that must be form-urlencoded before they go
 * into HTTP Basic (RFC 6749 §2.3.1): `:` splits id from secret, `+` means space,
 * `%20` must survive as three characters. oidc-provider only accepts printable
 * ASCII in a secret (RFC 6749 Appendix A, VSCHAR), so no `é` here.
 */
export const RESERVED_SECRET = 's3cr:t/+&=%20 ?#@!';
/** The secret of `app`, the client that holds a refresh token. */
export const APP_SECRET = 'app-secret-7c1e94b2';
/** The secret the protected API uses to call the introspection endpoint. */
export const API_CLIENT = { id: 'protected-api', secret: 'api-secret-5d08aa31' } as const;
/** The resource indicator (RFC 8707) for which oidc-provider issues JWT access tokens. */
export const JWT_AUDIENCE = 'urn:interop:protected-api';
/** The user a minted refresh token belongs to. */
export const ACCOUNT_ID = 'alice';
/** Lifetime of the access tokens of `cc-short`, seconds. */
export const SHORT_TTL_SECONDS = 2;
/** Lifetime of every other access token, seconds. */
export const LONG_TTL_SECONDS = 600;

/** One POST to the token endpoint, as oidc-provider answered it. */
export interface TokenRequestRecord {
  clientId: string | undefined;
  grantType: string | undefined;
  /** How the client authenticated: an Authorization header or parameters in the body. */
  clientAuth: 'basic' | 'body';
  status: number;
}

/** One POST to the revocation endpoint, as oidc-provider answered it. */
export interface RevocationRecord {
  tokenTypeHint: string | undefined;
  status: number;
  body: unknown;
}

export interface OidcProviderServer {
  readonly provider: Provider;
  readonly issuer: string;
  readonly tokenUrl: string;
  readonly revocationUrl: string;
  readonly introspectionUrl: string;
  readonly jwksUrl: string;
  readonly tokenRequests: TokenRequestRecord[];
  readonly revocations: RevocationRecord[];
  /** Grant ids oidc-provider revoked (a spent refresh token presented again, or a revoked refresh token). */
  readonly revokedGrants: string[];
  /** Errors oidc-provider answered with a 500. */
  readonly serverErrors: unknown[];
  /** Token requests that reached oidc-provider, answered or not (since the last reset). */
  tokenRequestsArrived(): number;
  /** Holds every token request before oidc-provider sees it, until `release()`. */
  holdTokenEndpoint(): { release(): void };
  /**
   * Makes the revocation endpoint decline JWT access tokens with `unsupported_token_type`
   * (RFC 7009 §2.2.1), as a deployment may; oidc-provider 8 itself answers 200 and does nothing.
   */
  declineJwtRevocation(decline: boolean): void;
  /** Token requests `clientId` made since the last reset. */
  tokenRequestsOf(clientId: string): TokenRequestRecord[];
  /** A grant for `app` and a refresh token in it, minted with oidc-provider's own models. */
  mintRefreshToken(): Promise<{ refreshToken: string; grantId: string }>;
  grantExists(grantId: string): Promise<boolean>;
  /** 'active', 'consumed' (rotated away) or 'gone' (revoked, or never existed). */
  refreshTokenState(refreshToken: string): Promise<'active' | 'consumed' | 'gone'>;
  /** Destroys a stored access token server-side, as an administrator revoking it would. */
  destroyAccessToken(accessToken: string): Promise<boolean>;
  /** Forgets the records, not the tokens. */
  reset(): void;
  close(): Promise<void>;
}

/** What a suite adds to the standard set-up: its own clients and features (DPoP, …). */
export interface OidcProviderExtras {
  clients?: Record<string, unknown>[];
  features?: Record<string, unknown>;
}

/** Starts oidc-provider on 127.0.0.1, port 0. */
export async function startOidcProvider(extras: OidcProviderExtras = {}): Promise<OidcProviderServer> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'interop-es256', alg: 'ES256', use: 'sig' };
  const noClientCredentialsFlow = { redirect_uris: [], response_types: [] };

  const configuration: Record<string, unknown> = {
    clients: [
      { client_id: 'cc-basic', client_secret: RESERVED_SECRET, grant_types: ['client_credentials'], token_endpoint_auth_method: 'client_secret_basic', ...noClientCredentialsFlow },
      { client_id: 'cc-post', client_secret: RESERVED_SECRET, grant_types: ['client_credentials'], token_endpoint_auth_method: 'client_secret_post', ...noClientCredentialsFlow },
      { client_id: 'cc-short', client_secret: RESERVED_SECRET, grant_types: ['client_credentials'], token_endpoint_auth_method: 'client_secret_post', ...noClientCredentialsFlow },
      {
        client_id: 'app',
        client_secret: APP_SECRET,
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        redirect_uris: ['https://app.interop.test/callback'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
      { client_id: API_CLIENT.id, client_secret: API_CLIENT.secret, grant_types: [], token_endpoint_auth_method: 'client_secret_basic', ...noClientCredentialsFlow },
      ...(extras.clients ?? []).map((client) => ({ ...noClientCredentialsFlow, ...client })),
    ],
    jwks: { keys: [signingKey] },
    clientDefaults: { id_token_signed_response_alg: 'ES256' },
    cookies: { keys: ['interop-test-cookie-key'] },
    scopes: ['openid', 'offline_access', 'api:read'],
    findAccount: (_ctx: unknown, accountId: string) => ({ accountId, claims: () => ({ sub: accountId }) }),
    // Spent refresh tokens are rotated away every time; presenting one again revokes the whole grant.
    rotateRefreshToken: true,
    ttl: {
      ClientCredentials: (_ctx: unknown, token: { resourceServer?: { accessTokenTTL?: number } }, client: { clientId: string }) =>
        token.resourceServer?.accessTokenTTL ?? (client.clientId === 'cc-short' ? SHORT_TTL_SECONDS : LONG_TTL_SECONDS),
      AccessToken: LONG_TTL_SECONDS,
      RefreshToken: 3600,
      Grant: 3600,
    },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      revocation: { enabled: true },
      introspection: { enabled: true, allowedPolicy: () => true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => undefined,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({ scope: 'api:read', audience: JWT_AUDIENCE, accessTokenFormat: 'jwt', accessTokenTTL: 60, jwt: { sign: { alg: 'ES256' } } }),
      },
      ...extras.features,
    },
  };

  // The in-memory adapter announces itself on console.warn when the provider is built; that is all it prints.
  const provider = quietly(() => new Provider(issuer, configuration));

  const tokenRequests: TokenRequestRecord[] = [];
  const revocations: RevocationRecord[] = [];
  const revokedGrants: string[] = [];
  const serverErrors: unknown[] = [];
  provider.on('grant.revoked', (_ctx: unknown, grantId: string) => revokedGrants.push(grantId));
  provider.on('server_error', (_ctx: unknown, error: unknown) => serverErrors.push(error));
  let arrived = 0;
  let gate: Promise<void> | undefined;
  let declineJwt = false;
  provider.use(async (ctx: ProviderContext, next) => {
    if (ctx.method === 'POST' && ctx.path === '/token') {
      arrived += 1;
      if (gate !== undefined) await gate;
    }
    await next();
    if (ctx.method !== 'POST') return;
    const params = ctx.oidc?.params ?? {};
    if (ctx.path === '/token') {
      tokenRequests.push({
        clientId: ctx.oidc?.client?.clientId,
        grantType: typeof params['grant_type'] === 'string' ? params['grant_type'] : undefined,
        clientAuth: ctx.headers['authorization'] === undefined ? 'body' : 'basic',
        status: ctx.status,
      });
    } else if (ctx.path === '/token/revocation') {
      // oidc-provider has authenticated the client and found no stored token: a JWT is self-contained.
      if (declineJwt && ctx.status === 200 && typeof params['token'] === 'string' && params['token'].split('.').length === 3) {
        ctx.status = 400;
        ctx.body = { error: 'unsupported_token_type', error_description: 'JWT access tokens cannot be revoked here' };
      }
      revocations.push({ tokenTypeHint: typeof params['token_type_hint'] === 'string' ? params['token_type_hint'] : undefined, status: ctx.status, body: ctx.body });
    }
  });
  server.on('request', provider.callback());

  return {
    provider,
    issuer,
    tokenUrl: `${issuer}/token`,
    revocationUrl: `${issuer}/token/revocation`,
    introspectionUrl: `${issuer}/token/introspection`,
    jwksUrl: `${issuer}/jwks`,
    tokenRequests,
    revocations,
    revokedGrants,
    serverErrors,
    tokenRequestsArrived: () => arrived,
    declineJwtRevocation(decline) {
      declineJwt = decline;
    },
    holdTokenEndpoint() {
      let release!: () => void;
      gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      return {
        release: () => {
          gate = undefined;
          release();
        },
      };
    },
    tokenRequestsOf: (clientId) => tokenRequests.filter((record) => record.clientId === clientId),
    async mintRefreshToken() {
      const client = await provider.Client.find('app');
      if (client === undefined) throw new Error('client "app" is not registered');
      const grant = new provider.Grant({ accountId: ACCOUNT_ID, clientId: 'app' });
      grant.addOIDCScope('offline_access');
      const grantId = await grant.save();
      const refreshToken = await new provider.RefreshToken({ accountId: ACCOUNT_ID, client, grantId, scope: 'offline_access', gty: 'authorization_code' }).save();
      return { refreshToken, grantId };
    },
    grantExists: async (grantId) => (await provider.Grant.find(grantId)) !== undefined,
    async refreshTokenState(refreshToken) {
      const stored = await provider.RefreshToken.find(refreshToken);
      if (stored === undefined) return 'gone';
      return stored.consumed ? 'consumed' : 'active';
    },
    async destroyAccessToken(accessToken) {
      const stored = (await provider.AccessToken.find(accessToken)) ?? (await provider.ClientCredentials.find(accessToken));
      if (stored === undefined) return false;
      await stored.destroy();
      return true;
    },
    reset() {
      arrived = 0;
      declineJwt = false;
      tokenRequests.length = 0;
      revocations.length = 0;
      revokedGrants.length = 0;
      serverErrors.length = 0;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

/** Runs `build` with console.warn and console.info silenced (synchronously, so nothing else is muted). */
function quietly<T>(build: () => T): T {
  const { warn, info } = console;
  console.warn = () => {};
  console.info = () => {};
  try {
    return build();
  } finally {
    console.warn = warn;
    console.info = info;
  }
}
