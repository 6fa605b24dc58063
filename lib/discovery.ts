// Authorization server metadata (RFC 8414, OpenID Connect Discovery 1.0): with
// `issuer` instead of `tokenUrl`, the endpoints, the client authentication
// methods and the DPoP algorithms come from the server's metadata document.
// Read once per handle (single-flight), kept, and read again after a failure
// (with backoff) or when the token endpoint it named stops answering.

import { ErrorCodes, OAuthError, TokenEndpointError } from './errors.js';

/** The parts of the metadata document this package uses, as the server sent them (RFC 8414 §2). */
export interface AuthorizationServerMetadata {
  issuer: string;
  token_endpoint: string;
  revocation_endpoint?: string | undefined;
  introspection_endpoint?: string | undefined;
  token_endpoint_auth_methods_supported?: string[] | undefined;
  dpop_signing_alg_values_supported?: string[] | undefined;
  /** RFC 8705 §5: endpoints to use with a client certificate, when they differ. */
  mtls_endpoint_aliases?: { token_endpoint?: string | undefined; revocation_endpoint?: string | undefined; introspection_endpoint?: string | undefined } | undefined;
}

/** GETs a URL and returns its parsed JSON body; failures are typed errors (the token endpoint's transport). */
export type FetchJson = (url: string, purpose: string) => Promise<unknown>;

export interface DiscoveryConfig {
  issuer: string;
  /** Checks an endpoint URL the way options are checked (https, or loopback http, or allowInsecureHttp). */
  checkUrl: (url: string) => boolean;
  fetchJson: FetchJson;
  now: () => number;
}

/** First pause after a failed read, ms; it doubles with each failure in a row, up to the cap. */
const FAILURE_BACKOFF_MS = 250;
const FAILURE_BACKOFF_CAP_MS = 30_000;

/** The metadata URLs to try, in order: RFC 8414 §3.1 (path after the well-known part), then OpenID Connect Discovery §4 (appended). */
export function metadataUrls(issuer: string): string[] {
  const url = new URL(issuer);
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
  return [`${url.origin}/.well-known/oauth-authorization-server${path}`, `${url.origin}${path}/.well-known/openid-configuration`];
}

export class Discovery {
  readonly #config: DiscoveryConfig;
  #metadata: AuthorizationServerMetadata | undefined;
  #reading: Promise<AuthorizationServerMetadata> | undefined;
  #failures = 0;
  #failure: { until: number; error: Error } | undefined;

  constructor(config: DiscoveryConfig) {
    this.#config = config;
  }

  get issuer(): string {
    return this.#config.issuer;
  }

  /** The metadata: kept after the first good read; one read at a time; a recent failure is thrown again until its backoff ends. */
  metadata(): Promise<AuthorizationServerMetadata> {
    if (this.#metadata !== undefined) return Promise.resolve(this.#metadata);
    const failure = this.#failure;
    if (failure !== undefined && this.#config.now() < failure.until) return Promise.reject(failure.error);
    this.#reading ??= this.#read().then(
      (metadata) => {
        this.#metadata = metadata;
        this.#failures = 0;
        this.#failure = undefined;
        this.#reading = undefined;
        return metadata;
      },
      (error: unknown) => {
        this.#failures += 1;
        const pause = Math.min(FAILURE_BACKOFF_CAP_MS, FAILURE_BACKOFF_MS * 2 ** (this.#failures - 1));
        const failure = error instanceof Error ? error : new TokenEndpointError('discovery failed', { code: ErrorCodes.DISCOVERY_FAILED });
        this.#failure = { until: this.#config.now() + pause, error: failure };
        this.#reading = undefined;
        throw failure;
      },
    );
    return this.#reading;
  }

  /** Forgets the metadata, so the next request reads it again (the token endpoint it named did not answer). */
  invalidate(): void {
    this.#metadata = undefined;
  }

  async #read(): Promise<AuthorizationServerMetadata> {
    const [oauthUrl, openidUrl] = metadataUrls(this.#config.issuer) as [string, string];
    let body: unknown;
    try {
      body = await this.#config.fetchJson(oauthUrl, 'authorization server metadata');
    } catch (error) {
      // Many servers (oidc-provider, Entra ID, Auth0) publish only the OpenID Connect document.
      // A 404 may come with an OAuth error body (oidc-provider answers invalid_request).
      const status = error instanceof TokenEndpointError || error instanceof OAuthError ? error.status : undefined;
      if (status !== 404 && status !== 400 && status !== 405) throw error;
      body = await this.#config.fetchJson(openidUrl, 'OpenID Connect discovery');
    }
    return this.#validate(body);
  }

  #validate(body: unknown): AuthorizationServerMetadata {
    const { issuer, checkUrl } = this.#config;
    const invalid = (problem: string): TokenEndpointError =>
      new TokenEndpointError(`The metadata of issuer ${issuer} ${problem}`, { code: ErrorCodes.DISCOVERY_FAILED, cause: new Error(problem) });
    if (body === null || typeof body !== 'object' || Array.isArray(body)) throw invalid('is not a JSON object');
    const document = body as Record<string, unknown>;
    // RFC 8414 §3.3: the issuer in the document must be identical to the one the metadata was read for.
    if (document['issuer'] !== issuer) throw invalid(`names another issuer (${typeof document['issuer'] === 'string' ? document['issuer'].slice(0, 200) : 'none'}); RFC 8414 §3.3 asks for an exact match`);
    const endpoint = (name: string, required: boolean): string | undefined => {
      const value = document[name];
      if (value === undefined && !required) return undefined;
      if (typeof value !== 'string' || !isAbsolute(value)) throw invalid(`has no usable ${name}`);
      if (!checkUrl(value)) throw invalid(`has a ${name} over plain http to a host that is not loopback`);
      return value;
    };
    return {
      issuer,
      token_endpoint: endpoint('token_endpoint', true)!,
      revocation_endpoint: endpoint('revocation_endpoint', false),
      introspection_endpoint: endpoint('introspection_endpoint', false),
      token_endpoint_auth_methods_supported: stringList(document['token_endpoint_auth_methods_supported']),
      dpop_signing_alg_values_supported: stringList(document['dpop_signing_alg_values_supported']),
      mtls_endpoint_aliases: this.#aliases(document['mtls_endpoint_aliases'], invalid),
    };
  }

  #aliases(value: unknown, invalid: (problem: string) => TokenEndpointError): AuthorizationServerMetadata['mtls_endpoint_aliases'] {
    if (value === null || typeof value !== 'object') return undefined;
    const aliases: NonNullable<AuthorizationServerMetadata['mtls_endpoint_aliases']> = {};
    for (const name of ['token_endpoint', 'revocation_endpoint', 'introspection_endpoint'] as const) {
      const alias = (value as Record<string, unknown>)[name];
      if (alias === undefined) continue;
      if (typeof alias !== 'string' || !isAbsolute(alias) || !this.#config.checkUrl(alias)) throw invalid(`has an unusable mtls_endpoint_aliases.${name}`);
      aliases[name] = alias;
    }
    return aliases;
  }
}

function isAbsolute(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}

function stringList(value: unknown): string[] | undefined {
  return Array.isArray(value) && value.every((item) => typeof item === 'string') ? (value as string[]) : undefined;
}
