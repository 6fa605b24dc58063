// A real Redis Cluster for the store specs: three masters and three replicas of
// redis-server, on free loopback ports with a temporary directory each, joined
// with `redis-cli --cluster create`. Suites call `requireRedisCluster(this)` in
// before(): without redis-server or redis-cli they are skipped with a visible
// message, except under CI=true where a missing binary fails the run.

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findBinary, freePort, kill, launch } from './redis-server.js';

/** The two binaries a cluster needs. */
export interface RedisClusterBinaries {
  server: string;
  cli: string;
}

/**
 * For a suite's before(): both binaries, or a skipped suite with a message saying why.
 * Under CI=true a missing binary is a failure, not a skip.
 */
export function requireRedisCluster(context: Mocha.Context): RedisClusterBinaries {
  const server = findBinary('redis-server', process.env.REDIS_SERVER);
  const cli = findBinary('redis-cli', process.env.REDIS_CLI);
  let missing = [server === undefined ? 'redis-server' : undefined, cli === undefined ? 'redis-cli' : undefined].filter(Boolean).join(' and ');
  if (server !== undefined && cli !== undefined) {
    // `--cluster-port` (a bus port of our choosing) came with Redis 7.
    const major = Number(/v=(\d+)\./.exec(execFileSync(server, ['--version'], { encoding: 'utf8' }))?.[1] ?? 0);
    if (major >= 7) return { server, cli };
    missing = `redis-server 7 or later (found ${major})`;
  }
  if (process.env.CI === 'true') throw new Error(`${missing} not installed, and CI=true: the Redis Cluster specs must run in CI`);
  console.warn(`    (skipped: no ${missing} on this machine; install redis-server 7+ (apt-get install redis-server, which brings redis-cli) to run the Redis Cluster specs)`);
  context.skip();
}

/** One redis-server of the cluster. */
export interface ClusterNode {
  readonly port: number;
  /** False once it was killed. */
  readonly alive: boolean;
}

export interface RedisCluster {
  /** The nodes as started: the first three were created as masters, the others as their replicas. */
  readonly nodes: readonly ClusterNode[];
  /** Seed addresses for a cluster client: every node. */
  readonly rootNodes: readonly { host: string; port: number }[];
  /** Runs one command on one node with redis-cli and answers its output, trimmed. */
  command(port: number, ...args: string[]): Promise<string>;
  /** The port of the master that serves `key`'s slot now. */
  masterOf(key: string): Promise<number>;
  /**
   * Kills the master that serves `key` (SIGKILL, as a crash would) and resolves once one of its
   * replicas has taken over that slot and the cluster reports `cluster_state:ok` again.
   * Answers the old and the new master's port.
   */
  killMasterOf(key: string, timeoutMs?: number): Promise<{ killed: number; promoted: number }>;
  /** Stops every node and removes their directories. */
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';
const MASTERS = 3;
/**
 * How long a node may be silent before the others count it as failed: short, so that a
 * killed master's replica takes over within a few seconds (a failover spec stays bounded).
 */
const NODE_TIMEOUT_MS = 1000;

/** Starts six nodes (three masters, one replica each), joins them, and resolves once the cluster is ok. */
export async function startRedisCluster(binaries: RedisClusterBinaries): Promise<RedisCluster> {
  const directory = mkdtempSync(join(tmpdir(), 'axios-oauth-queue-cluster-'));
  const running: { port: number; child: ChildProcess }[] = [];
  try {
    const started = await Promise.all(Array.from({ length: MASTERS * 2 }, (_, index) => startNode(binaries.server, join(directory, `node-${index}`))));
    running.push(...started);
    const cli = (port: number, ...args: string[]): Promise<string> => runCli(binaries.cli, ['-h', HOST, '-p', String(port), ...args]);
    await runCli(binaries.cli, ['--cluster', 'create', ...running.map((node) => `${HOST}:${node.port}`), '--cluster-replicas', '1', '--cluster-yes']);
    await waitFor(async () => (await Promise.all(running.map((node) => cli(node.port, 'cluster', 'info')))).every(isClusterOk), 20_000, 'the cluster reporting cluster_state:ok on every node');
    await waitFor(
      async () => (await Promise.all(running.map((node) => cli(node.port, 'info', 'replication')))).filter((info) => /^master_link_status:up\s*$/m.test(info)).length === MASTERS,
      20_000,
      'every replica having synced with its master',
    );
    return cluster(running, directory, cli);
  } catch (error) {
    await Promise.all(running.map((node) => kill(node.child)));
    rmSync(directory, { recursive: true, force: true });
    throw error;
  }
}

function cluster(running: { port: number; child: ChildProcess }[], directory: string, cli: (port: number, ...args: string[]) => Promise<string>): RedisCluster {
  const isAlive = (node: { child: ChildProcess }): boolean => node.child.exitCode === null && node.child.signalCode === null;
  const anyLivePort = (): number => {
    const node = running.find(isAlive);
    if (node === undefined) throw new Error('no node of the cluster is running');
    return node.port;
  };
  const masterOf = async (key: string): Promise<number> => {
    const slot = Number(await cli(anyLivePort(), 'cluster', 'keyslot', key));
    const port = masterOfSlot(await cli(anyLivePort(), 'cluster', 'nodes'), slot);
    if (port === undefined) throw new Error(`no master serves slot ${slot}`);
    return port;
  };
  return {
    nodes: running.map((node) => ({
      port: node.port,
      get alive() {
        return isAlive(node);
      },
    })),
    rootNodes: running.map((node) => ({ host: HOST, port: node.port })),
    command: cli,
    masterOf,
    async killMasterOf(key, timeoutMs = 15_000) {
      const killed = await masterOf(key);
      const victim = running.find((node) => node.port === killed);
      if (victim === undefined) throw new Error(`the master on port ${killed} was not started by this helper`);
      await kill(victim.child);
      let promoted = killed;
      await waitFor(
        async () => {
          const survivors = running.filter(isAlive);
          const infos = await Promise.all(survivors.map((node) => cli(node.port, 'cluster', 'info')));
          if (!infos.every(isClusterOk)) return false;
          promoted = await masterOf(key);
          return promoted !== killed;
        },
        timeoutMs,
        `a replica taking over from the killed master on port ${killed}`,
      );
      return { killed, promoted };
    },
    async stop() {
      await Promise.all(running.map((node) => kill(node.child)));
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

async function startNode(binary: string, directory: string): Promise<{ port: number; child: ChildProcess }> {
  mkdirSync(directory, { recursive: true });
  for (let attempt = 1; ; attempt += 1) {
    // The cluster bus gets a port of its own: the default (port + 10000) may be taken or past 65535.
    const [port, busPort] = [await freePort(), await freePort()];
    try {
      const child = await launch(binary, port, [
        ...['--cluster-enabled', 'yes', '--cluster-port', String(busPort), '--cluster-node-timeout', String(NODE_TIMEOUT_MS)],
        // A replica can take over only once it has synced; the default waits 5 s before the first sync.
        ...['--repl-diskless-sync-delay', '0'],
        ...['--cluster-config-file', join(directory, 'nodes.conf'), '--dir', directory],
      ]);
      return { port, child };
    } catch (error) {
      // Another process may have taken a port between our probe and redis-server's bind.
      if (attempt >= 3) throw error;
    }
  }
}

function runCli(binary: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(output.trim());
      else reject(new Error(`redis-cli ${args.join(' ')} exited (${code}):\n${output}`));
    });
  });
}

function isClusterOk(info: string): boolean {
  return /^cluster_state:ok\s*$/m.test(info);
}

/** The port of the master that serves `slot`, from the output of CLUSTER NODES. */
function masterOfSlot(nodes: string, slot: number): number | undefined {
  for (const line of nodes.split('\n')) {
    const [, address, flags, , , , , state, ...ranges] = line.trim().split(' ');
    if (address === undefined || flags === undefined || !flags.split(',').includes('master') || flags.includes('fail') || state !== 'connected') continue;
    const serves = ranges.some((range) => {
      if (range.startsWith('[')) return false; // a slot being migrated or imported
      const [from, to = from] = range.split('-').map(Number);
      return from !== undefined && to !== undefined && slot >= from && slot <= to;
    });
    if (serves) return Number(address.split('@')[0]?.split(':').at(-1));
  }
  return undefined;
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    try {
      if (await condition()) return;
    } catch {
      // A node that is going down or coming up may refuse the probe: try again.
    }
    if (performance.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
