// oidc-provider ships no type declarations. These describe only the parts the
// interoperability tests use; everything else stays untyped on purpose.

declare module 'oidc-provider' {
  import { EventEmitter } from 'node:events';
  import type { IncomingMessage, ServerResponse } from 'node:http';

  /** The parts of oidc-provider's Koa context the tests read. */
  export interface ProviderContext {
    method: string;
    path: string;
    status: number;
    body: unknown;
    headers: Record<string, string | string[] | undefined>;
    oidc?: {
      client?: { clientId: string };
      params?: Record<string, unknown>;
    };
  }

  export interface ProviderClient {
    readonly clientId: string;
  }

  export interface StoredToken {
    readonly jti: string;
    readonly consumed?: unknown;
    destroy(): Promise<void>;
  }

  export interface TokenModel<T extends StoredToken = StoredToken> {
    find(value: string, options?: { ignoreExpiration?: boolean }): Promise<T | undefined>;
  }

  export interface GrantInstance {
    addOIDCScope(scope: string): void;
    save(): Promise<string>;
  }

  export interface RefreshTokenInstance {
    save(): Promise<string>;
  }

  export default class Provider extends EventEmitter {
    constructor(issuer: string, configuration: Record<string, unknown>);
    readonly issuer: string;
    callback(): (request: IncomingMessage, response: ServerResponse) => void;
    use(middleware: (ctx: ProviderContext, next: () => Promise<void>) => Promise<void>): void;
    readonly Client: { find(clientId: string): Promise<ProviderClient | undefined> };
    readonly Grant: TokenModel & (new (properties: { accountId: string; clientId: string }) => GrantInstance);
    readonly RefreshToken: TokenModel &
      (new (properties: { accountId: string; client: ProviderClient; grantId: string; scope: string; gty: string }) => RefreshTokenInstance);
    readonly AccessToken: TokenModel;
    readonly ClientCredentials: TokenModel;
  }
}
