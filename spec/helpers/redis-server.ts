// A real redis-server for the store specs, on a loopback port of its own, with
// persistence off. Suites that need one call `requireRedisServer(this)` in
// before(): without a redis-server binary they are skipped with a visible
// message, except under CI=true where a missing binary fails the run.

import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';

/** The redis-server binary: `$REDIS_SERVER`, or the first one on the PATH. */
export function findRedisServer(): string | undefined {
  return findBinary('redis-server', process.env.REDIS_SERVER);
}

/** An executable: `override` when given, else the first `name` on the PATH. */
export function findBinary(name: string, override: string | undefined): string | undefined {
  const candidates = override ? [override] : (process.env.PATH ?? '').split(delimiter).map((dir) => join(dir, name));
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * For a suite's before(): the binary, or a skipped suite with a message saying why.
 * Under CI=true a missing redis-server is a failure, not a skip.
 */
export function requireRedisServer(context: Mocha.Context): string {
  const binary = findRedisServer();
  if (binary !== undefined) return binary;
  if (process.env.CI === 'true') throw new Error('redis-server is not installed, and CI=true: the Redis store specs must run in CI');
  console.warn('    (skipped: no redis-server on this machine; install it (apt-get install redis-server) to run the Redis store specs)');
  context.skip();
}

export interface RedisServer {
  readonly port: number;
  readonly url: string;
  /** Kills the server (SIGKILL, as a crash would) and waits until it is gone. */
  stop(): Promise<void>;
  /** Starts it again on the same port, empty. */
  restart(): Promise<void>;
  /** Freezes it (SIGSTOP), as a stall would: connections stay open, nothing is answered. */
  pause(): void;
  /** Lets a frozen server run again (SIGCONT); it then runs every command sent meanwhile. */
  resume(): void;
}

/** Starts redis-server on a free loopback port and resolves once it accepts connections. */
export async function startRedisServer(binary: string): Promise<RedisServer> {
  for (let attempt = 1; ; attempt += 1) {
    const port = await freePort();
    try {
      return await startOn(binary, port);
    } catch (error) {
      // Another process may have taken the port between our probe and redis-server's bind.
      if (attempt >= 3) throw error;
    }
  }
}

async function startOn(binary: string, port: number): Promise<RedisServer> {
  let child = await launch(binary, port);
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      await kill(child);
    },
    async restart() {
      await kill(child);
      child = await launch(binary, port);
    },
    pause() {
      child.kill('SIGSTOP');
    },
    resume() {
      child.kill('SIGCONT');
    },
  };
}

/** Starts redis-server on `port` (loopback, no persistence) with `extraArgs`, and resolves once it accepts connections. */
export function launch(binary: string, port: number, extraArgs: readonly string[] = []): Promise<ChildProcess> {
  const child = spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'notice', ...extraArgs], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise<ChildProcess>((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => fail(new Error(`redis-server did not become ready on port ${port} within 10 s:\n${output}`)), 10_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        child.off('exit', onExit);
        // Keep draining the pipes so the server never blocks on a full one.
        child.stdout?.resume();
        child.stderr?.resume();
        resolve(child);
      }
    };
    const onExit = (code: number | null): void => fail(new Error(`redis-server exited (${code}) before it was ready on port ${port}:\n${output}`));
    function fail(error: Error): void {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(error);
    }
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', onExit);
    child.once('error', (error) => fail(error));
  });
}

/** Kills a server (SIGKILL) and resolves once it has exited. */
export function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

/** A port nobody listens on now, on loopback. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}
