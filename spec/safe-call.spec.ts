import { expect } from 'chai';
import { ErrorCodes, TokenEndpointError } from '../lib/errors.js';
import { SafeCalls } from '../lib/safe-call.js';
import type { AuthEvents, AuthLogger } from '../lib/options.js';
import type { TokenSet } from '../lib/token-set.js';

const TOKEN_SET: TokenSet = { accessToken: 'token-value-1234', tokenType: 'Bearer', raw: {} };

/** A logger in the style of pino, winston and bunyan: its methods read `this`. */
class ClassLogger {
  readonly lines: string[] = [];
  readonly #prefix = '>';

  debug(message: string): void {
    this.lines.push(`${this.#prefix} debug ${message}`);
  }

  warn(message: string): void {
    this.lines.push(`${this.#prefix} warn ${message}`);
  }
}

describe('safe calls to the logger and the event callbacks', () => {
  const scrub = (text: string): string => text.replaceAll(TOKEN_SET.accessToken, '[REDACTED]');

  it('calls logger methods on the logger, so a class-based logger keeps its `this`', () => {
    const logger = new ClassLogger();
    new SafeCalls<AuthEvents>(logger, {}, scrub).log('debug', 'hello');
    expect(logger.lines).to.deep.equal(['> debug axios-oauth-queue: hello']);
  });

  it('falls back from error to warn and from info to debug, and writes nothing for a level with no fallback', () => {
    const logger = new ClassLogger();
    const calls = new SafeCalls<AuthEvents>(logger, {}, scrub);
    calls.log('error', 'terminal');
    calls.log('info', 'notable');
    new SafeCalls<AuthEvents>({ error: (line) => logger.lines.push(`error-only ${line}`) }, {}, scrub).log('warn', 'dropped');
    expect(logger.lines).to.deep.equal(['> warn axios-oauth-queue: terminal', '> debug axios-oauth-queue: notable']);
  });

  it('prefers the logger’s own error and info levels when it has them', () => {
    const lines: string[] = [];
    const logger: AuthLogger = { error: (line) => lines.push(`E ${line}`), warn: (line) => lines.push(`W ${line}`), info: (line) => lines.push(`I ${line}`) };
    const calls = new SafeCalls<AuthEvents>(logger, {}, scrub);
    calls.log('error', 'a');
    calls.log('info', 'b');
    expect(lines).to.deep.equal(['E axios-oauth-queue: a', 'I axios-oauth-queue: b']);
  });

  it('swallows a logger that throws, a level getter that throws and an async logger that rejects', async () => {
    const throwing = new SafeCalls<AuthEvents>({ warn: () => { throw new Error('disk full'); } }, {}, scrub);
    const getter = new SafeCalls<AuthEvents>(Object.defineProperty({}, 'warn', { get: () => { throw new Error('no'); } }) as AuthLogger, {}, scrub);
    const rejecting = new SafeCalls<AuthEvents>({ warn: (() => Promise.reject(new Error('later'))) as unknown as (line: string) => void }, {}, scrub);
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      expect(() => throwing.log('warn', 'x')).not.to.throw();
      expect(() => getter.log('warn', 'x')).not.to.throw();
      rejecting.log('warn', 'x');
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    expect(unhandled).to.deep.equal([]);
  });

  it('reports a callback that throws once, scrubbed, however often it throws, and never rethrows', () => {
    const logger = new ClassLogger();
    const calls = new SafeCalls<AuthEvents>(logger, { onToken: (tokenSet) => { throw new Error(`cannot store ${tokenSet.accessToken}`); } }, scrub);
    for (let round = 0; round < 3; round += 1) expect(() => calls.notify('onToken', TOKEN_SET, { source: 'endpoint' })).not.to.throw();
    expect(logger.lines).to.deep.equal(['> warn axios-oauth-queue: the onToken callback failed (Error: cannot store [REDACTED]); the failure was ignored and further ones are not reported']);
  });

  it('reports an async callback that rejects, once per callback', async () => {
    const logger = new ClassLogger();
    const calls = new SafeCalls<AuthEvents>(logger, { onRefreshError: async () => Promise.reject(new TypeError('metrics down')), onReplay: () => { throw new Error('x'); } }, scrub);
    calls.notify('onRefreshError', new TokenEndpointError('refresh failed', { code: ErrorCodes.TOKEN_ENDPOINT_UNREACHABLE }));
    calls.notify('onRefreshError', new TokenEndpointError('refresh failed', { code: ErrorCodes.TOKEN_ENDPOINT_UNREACHABLE }));
    calls.notify('onReplay', {} as never);
    await new Promise((resolve) => setImmediate(resolve));
    expect(logger.lines.map((line) => /the (\w+) callback failed \((\w+)/.exec(line)?.slice(1).join(' '))).to.have.members(['onRefreshError TypeError', 'onReplay Error']);
  });

  it('calls an event callback as a method of the events object', () => {
    const seen: unknown[] = [];
    const events = {
      prefix: 'seen',
      onToken(this: { prefix: string }, tokenSet: TokenSet) {
        seen.push(`${this.prefix} ${tokenSet.tokenType}`);
      },
    };
    new SafeCalls<AuthEvents>({}, events, scrub).notify('onToken', TOKEN_SET, { source: 'endpoint' });
    expect(seen).to.deep.equal(['seen Bearer']);
  });
});
