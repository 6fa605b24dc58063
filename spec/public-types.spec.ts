// The public types as a strict TypeScript user meets them. `npm run typecheck`
// compiles this file: a @ts-expect-error that stops failing, or a line that
// stops compiling, fails CI. The runtime checks back the types' promises.
import type { AxiosRequestConfig } from 'axios';
import { expect } from 'chai';
import { ErrorCodes, OAuthQueueError, type AttachAuthOptions, type AuthError, type AuthHandle } from '../lib/index.js';
import { toAuthError } from '../lib/errors.js';

describe('public types', () => {
  it('gives onRefreshError an error whose code needs no cast', () => {
    const codes: string[] = [];
    const options: AttachAuthOptions = {
      tokenUrl: 'https://id.example.com/token',
      clientId: 'c',
      events: { onRefreshError: (error) => codes.push(error.code) },
    };
    options.events?.onRefreshError?.(toAuthError(new TypeError('x')));
    expect(codes).to.deep.equal([ErrorCodes.UNEXPECTED]);
  });

  it('passes errors of the package to onRefreshError as they are, and wraps others without their message', () => {
    const own = new OAuthQueueError(ErrorCodes.DETACHED, 'detached');
    expect(toAuthError(own)).to.equal(own);
    const wrapped: AuthError = toAuthError(new Error('secret-in-message-123'));
    expect(wrapped.message).not.to.include('secret-in-message-123');
    expect(String((wrapped.cause as Error).message)).to.equal('Error');
  });

  it('types tokenInfo() by its type argument, unknown by default', () => {
    type Info = { scopes: string[] };
    const typed = (handle: AuthHandle): Promise<Info> => handle.tokenInfo<Info>();
    const plain = (handle: AuthHandle): Promise<unknown> => handle.tokenInfo();
    expect(typed).to.be.a('function');
    expect(plain).to.be.a('function');
  });

  it('keeps its per-request state off the axios config type; only skipAuth is public', () => {
    const config: AxiosRequestConfig = { skipAuth: true };
    // @ts-expect-error authAttempt is internal state, not an option of the request config
    const internal: AxiosRequestConfig = { authAttempt: undefined };
    expect(config.skipAuth).to.equal(true);
    expect(internal).to.be.an('object');
  });
});
