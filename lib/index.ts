// The public API of axios-oauth-queue. Everything exported here is documented
// in docs/; everything else is internal.

export { attachAuth, type AuthHandle } from './attach-auth.js';
export { presets, movemintAuthorizeUrl } from './presets/index.js';
export type { MvmntPresetOptions, MovemintPresetOptions, MovemintAuthorizeOptions, MusementPresetOptions, MyParcelPresetOptions, PresetOptions } from './presets/index.js';
export { authorizeUrl, createPkce, type AuthorizeUrlOptions, type Pkce } from './authorization-code.js';
export {
  OAuthQueueError,
  OAuthError,
  TokenEndpointError,
  ConfigurationError,
  LoginRequiredError,
  ErrorCodes,
  type ErrorCode,
  type AuthError,
  type BaseErrorOptions,
  type OAuthErrorOptions,
  type TokenEndpointErrorOptions,
  type LoginRequiredReason,
} from './errors.js';
export { MemoryTokenStore } from './stores/memory-token-store.js';
export { RedisTokenStore, TokenStoreUnavailableError, type RedisTokenStoreOptions, type RedisClientLike } from './stores/redis-token-store.js';
export type { TokenStore, StoredTokenSet, TokenStoreLock } from './stores/token-store.js';
export type { TokenSet, TokenResponseBody } from './token-set.js';
export type { AuthStats, RevocationResult } from './token-manager.js';
export type {
  AttachAuthOptions,
  Grant,
  ClientCredentialsGrant,
  PasswordGrant,
  RefreshTokenGrant,
  AuthorizationCodeGrant,
  TokenRequestOptions,
  ClientAssertionOptions,
  DPoPOptions,
  PrivateKeyInput,
  PrivateJwk,
  KeyObjectLike,
  HttpsAgentLike,
  RetryOptions,
  AuthEvents,
  TokenSetSource,
  AuthLogger,
  AuthClock,
} from './options.js';
export { attachUserAuth, type UserAuthHandle, type UserAuthMiddleware, type UserAuthHook } from './attach-user-auth.js';
export type { AttachUserAuthOptions, UserAuthEvents } from './user-auth-options.js';
export type { UserAuthStats } from './user-token-client.js';
export type { SignInInput, SignInTokens, SignInTokenResponse, SignInCode } from './user-sign-in.js';
export { MemoryUserTokenStore, type MemoryUserTokenStoreOptions } from './stores/memory-user-token-store.js';
export type { UserTokenStore, StoredUserTokenSet, UserTokenStoreLock } from './stores/user-token-store.js';
export { SessionUserTokenStore, type SessionUserTokenStoreOptions, type SessionLike } from './stores/session-user-token-store.js';
export type { RequestSummary } from './redact.js';
export type {
  TelemetryOptions,
  TelemetryTracer,
  TelemetryMeter,
  TelemetrySpan,
  TelemetryObservation,
  TelemetryAttributes,
  TelemetryCounter,
  TelemetryHistogram,
  TelemetryObservable,
  TelemetryInstrumentOptions,
} from './telemetry.js';
