// Installs the package the way a user gets it (the tarball `npm pack` makes,
// into a fresh project, beside axios) and uses it from outside this repository:
// imported from an ES module, required from CommonJS, and type-checked under
// node16 resolution for both conditions of the exports map. The package claims
// Node >= 20, so the import and require run again under Node 22 and 24 when
// `npx node@<major>` can fetch them (they are skipped, saying why, when not).

import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TSC = join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const CLIENT_ID = 'packed-client';
const CLIENT_SECRET = 'packed-secret-7Kp';

interface RunResult {
  stdout: string;
  stderr: string;
}

/** Runs a command with a bounded wait; a failure carries everything it printed. */
function run(command: string, args: readonly string[], options: { cwd: string; timeout: number; env?: NodeJS.ProcessEnv }): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd: options.cwd, timeout: options.timeout, env: options.env ?? childEnv(), maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args.join(' ')} failed: ${error.message}\n--- stdout\n${stdout}\n--- stderr\n${stderr}`));
      else resolve({ stdout, stderr });
    });
  });
}

/**
 * The environment without the npm_* variables of an enclosing `npm test`: they
 * describe this repository (its package, its prefix) and would leak into the
 * npm and node processes that stand for a user's project.
 */
function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!/^npm_/i.test(name) || /^npm_config_(cache|registry|userconfig)$/i.test(name)) env[name] = value;
  }
  return { ...env, ...extra };
}

/** A token server and an API in one loopback server: POST /token issues tokens, GET /me wants one. */
class LoopbackProvider {
  readonly issued: string[] = [];
  readonly apiAuthorizations: (string | undefined)[] = [];
  #server: Server | undefined;

  async start(): Promise<string> {
    const server = createServer((request, response) => {
      this.#handle(request, response);
    });
    this.#server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    const server = this.#server;
    if (server === undefined) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  #handle(request: IncomingMessage, response: ServerResponse): void {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const send = (status: number, body: unknown): void => {
        response.writeHead(status, { 'content-type': 'application/json' });
        response.end(JSON.stringify(body));
      };
      if (request.method === 'POST' && request.url === '/token') {
        const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
        if (form.get('client_id') !== CLIENT_ID || form.get('client_secret') !== CLIENT_SECRET || form.get('grant_type') !== 'client_credentials') {
          send(401, { error: 'invalid_client' });
          return;
        }
        const accessToken = `packed-token-${this.issued.length + 1}`;
        this.issued.push(accessToken);
        send(200, { access_token: accessToken, token_type: 'Bearer', expires_in: 3600 });
        return;
      }
      if (request.method === 'GET' && request.url === '/me') {
        const authorization = request.headers.authorization;
        this.apiAuthorizations.push(authorization);
        const token = authorization?.replace(/^Bearer /, '');
        if (token === undefined || !this.issued.includes(token)) {
          send(401, { error: 'invalid_token' });
          return;
        }
        send(200, { user: 'packed-user' });
        return;
      }
      send(404, { error: 'not_found' });
    });
  }
}

// What a user's ES module does: one import, one authorised request.
const ESM_CONSUMER = `
import { attachAuth, OAuthError } from 'axios-oauth-queue';
import axios from 'axios';

const base = process.env.PACKED_PROVIDER_URL;
const api = axios.create({ baseURL: base, timeout: 10000 });
const handle = attachAuth(api, { tokenUrl: base + '/token', clientId: '${CLIENT_ID}', clientSecret: '${CLIENT_SECRET}' });
const response = await api.get('/me');
handle.detach();
console.log(JSON.stringify({
  status: response.status,
  body: response.data,
  tokenRequests: handle.stats().tokenRequests,
  node: process.version,
  resolved: import.meta.resolve('axios-oauth-queue'),
  errorClass: typeof OAuthError,
}));
`;

// The same from CommonJS.
const CJS_CONSUMER = `
const { attachAuth, OAuthError } = require('axios-oauth-queue');
const axios = require('axios');

async function main() {
  const base = process.env.PACKED_PROVIDER_URL;
  const api = axios.create({ baseURL: base, timeout: 10000 });
  const handle = attachAuth(api, { tokenUrl: base + '/token', clientId: '${CLIENT_ID}', clientSecret: '${CLIENT_SECRET}' });
  const response = await api.get('/me');
  handle.detach();
  console.log(JSON.stringify({
    status: response.status,
    body: response.data,
    tokenRequests: handle.stats().tokenRequests,
    node: process.version,
    resolved: require.resolve('axios-oauth-queue'),
    errorClass: typeof OAuthError,
  }));
}
main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
`;

// Type-level use from both conditions; the @ts-expect-error lines fail the check
// if the types resolved to nothing (any) instead of the package's declarations.
const ESM_TYPES = `
import { attachAuth, presets, OAuthError, ErrorCodes, type AuthHandle, type TokenSet } from 'axios-oauth-queue';
import axios from 'axios';

const api = axios.create({ baseURL: 'https://api.mvmnt.io' });
const handle: AuthHandle = attachAuth(api, presets.mvmnt({ clientId: 'id', clientSecret: 'secret' }));
const token: Promise<TokenSet> = handle.getToken();
const code: string = ErrorCodes.INVALID_OPTION;
void token; void code; void OAuthError;
void api.get('/public', { skipAuth: true });
// @ts-expect-error the package's per-request state is not part of axios's public config type
void api.get('/public', { authAttempt: undefined });
// @ts-expect-error tokenUrl must be a string
attachAuth(api, { tokenUrl: 1, clientId: 'id' });
`;

const CJS_TYPES = `
import { attachAuth, type AuthHandle, type TokenSet } from 'axios-oauth-queue';
import axios = require('axios');

const api = axios.create({ baseURL: 'https://api.example.com' });
const handle: AuthHandle = attachAuth(api, { tokenUrl: 'https://auth.example.com/token', clientId: 'id', clientSecret: 'secret' });
const token: Promise<TokenSet> = handle.getToken();
void token;
void api.get('/public', { skipAuth: true });
// @ts-expect-error getToken takes no arguments
void handle.getToken('now');
`;

const TSCONFIG = {
  compilerOptions: { module: 'node16', moduleResolution: 'node16', target: 'ES2022', strict: true, noEmit: true, types: [], skipLibCheck: false },
  files: ['types-check.mts', 'types-check.cts'],
};

/**
 * The path of a Node `major` binary fetched with `npx node@<major>`, or undefined
 * (with the reason printed, so the skip is visible) when it cannot be fetched in time.
 */
async function fetchNode(major: number): Promise<string | undefined> {
  try {
    const { stdout } = await run('npx', ['--yes', `node@${major}`, '-e', 'process.stdout.write(process.execPath)'], { cwd: tmpdir(), timeout: 120_000 });
    const path = stdout.trim();
    if (existsSync(path)) return path;
    console.warn(`      skipping Node ${major}: npx node@${major} printed no usable path`);
  } catch (error) {
    console.warn(`      skipping Node ${major}: npx node@${major} could not fetch it (${String(error).split('\n')[0]})`);
  }
  return undefined;
}

interface ConsumerReport {
  status: number;
  body: unknown;
  tokenRequests: number;
  node: string;
  resolved: string;
  errorClass: string;
}

describe('the packed artifact', function () {
  // npm pack, an install from the local cache, two node processes and one tsc run.
  this.timeout(120_000);

  const provider = new LoopbackProvider();
  let workDir: string;
  let projectDir: string;
  let tarballFiles: string[];
  let providerUrl: string;

  before(async function () {
    workDir = await mkdtemp(join(tmpdir(), 'axios-oauth-queue-packed-'));
    const packDir = join(workDir, 'pack');
    projectDir = join(workDir, 'project');
    await mkdir(packDir);
    await mkdir(projectDir);

    // `npm test` builds dist before mocha runs; build here only when mocha was started on its own.
    const built = ['index.mjs', 'index.cjs', 'index.d.mts', 'index.d.cts'].every((file) => existsSync(join(REPO_ROOT, 'dist', file)));
    if (!built) await run('npm', ['run', 'build'], { cwd: REPO_ROOT, timeout: 90_000 });

    // --ignore-scripts: prepack would build dist a second time.
    const packed = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', packDir], { cwd: REPO_ROOT, timeout: 30_000 });
    const [summary] = JSON.parse(packed.stdout) as [{ filename: string; files: { path: string }[] }];
    tarballFiles = summary.files.map((file) => file.path).sort();
    const tarball = join(packDir, (await readdir(packDir)).find((name) => name.endsWith('.tgz')) ?? summary.filename);

    const axiosVersion = (JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules', 'axios', 'package.json'), 'utf8')) as { version: string }).version;
    await writeFile(join(projectDir, 'package.json'), JSON.stringify({ name: 'packed-consumer', version: '1.0.0', private: true }));
    // The npm cache filled by `npm ci` serves these; the registry only fills gaps.
    await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', '--no-package-lock', tarball, `axios@${axiosVersion}`], {
      cwd: projectDir,
      timeout: 90_000,
    });

    await writeFile(join(projectDir, 'consumer.mjs'), ESM_CONSUMER);
    await writeFile(join(projectDir, 'consumer.cjs'), CJS_CONSUMER);
    await writeFile(join(projectDir, 'types-check.mts'), ESM_TYPES);
    await writeFile(join(projectDir, 'types-check.cts'), CJS_TYPES);
    await writeFile(join(projectDir, 'tsconfig.json'), JSON.stringify(TSCONFIG));
    providerUrl = await provider.start();
  });

  after(async function () {
    await provider.close();
    if (workDir !== undefined) await rm(workDir, { recursive: true, force: true });
  });

  async function runConsumer(script: string, node = process.execPath): Promise<ConsumerReport> {
    const { stdout } = await run(node, [script], { cwd: projectDir, timeout: 20_000, env: childEnv({ PACKED_PROVIDER_URL: providerUrl }) });
    return JSON.parse(stdout.trim()) as ConsumerReport;
  }

  it('ships the builds, their declarations, the README, the CHANGELOG, the LICENSE and the docs, and no sources or specs', function () {
    expect(tarballFiles).to.include.members([
      'dist/index.mjs',
      'dist/index.cjs',
      'dist/index.d.mts',
      'dist/index.d.cts',
      'package.json',
      'README.md',
      'CHANGELOG.md',
      'LICENSE',
      'docs/README.md',
      'docs/getting-started.md',
    ]);
    expect(tarballFiles.filter((file) => !/^(dist\/|docs\/.*\.md$|package\.json$|README\.md$|CHANGELOG\.md$|LICENSE$)/.test(file))).to.deep.equal([]);
  });

  it('can be imported from an ES module and makes an authorised request', async function () {
    const before = provider.issued.length;
    const report = await runConsumer('consumer.mjs');
    expect(report.status).to.equal(200);
    expect(report.body).to.deep.equal({ user: 'packed-user' });
    expect(report.tokenRequests).to.equal(1);
    expect(report.errorClass).to.equal('function');
    expect(fileURLToPath(report.resolved)).to.match(/node_modules[/\\]axios-oauth-queue[/\\]dist[/\\]index\.mjs$/);
    expect(provider.issued.length).to.equal(before + 1);
    expect(provider.apiAuthorizations.at(-1)).to.equal(`Bearer ${provider.issued.at(-1)}`);
  });

  it('can be required from CommonJS and makes an authorised request', async function () {
    const before = provider.issued.length;
    const report = await runConsumer('consumer.cjs');
    expect(report.status).to.equal(200);
    expect(report.body).to.deep.equal({ user: 'packed-user' });
    expect(report.tokenRequests).to.equal(1);
    expect(report.errorClass).to.equal('function');
    expect(report.resolved).to.match(/node_modules[/\\]axios-oauth-queue[/\\]dist[/\\]index\.cjs$/);
    expect(provider.issued.length).to.equal(before + 1);
    expect(provider.apiAuthorizations.at(-1)).to.equal(`Bearer ${provider.issued.at(-1)}`);
  });

  for (const major of [22, 24]) {
    describe(`under Node ${major}`, function () {
      // Fetching a Node release through npx can take a while on a cold cache; the wait is bounded.
      this.timeout(150_000);
      let node: string | undefined;

      before(async function () {
        node = await fetchNode(major);
        if (node === undefined) this.skip();
      });

      it(`imports the package from an ES module and requires it from CommonJS under Node ${major}`, async function () {
        for (const script of ['consumer.mjs', 'consumer.cjs']) {
          const report = await runConsumer(script, node);
          expect(report.node, script).to.match(new RegExp(`^v${major}\\.`));
          expect(report.status, script).to.equal(200);
          expect(report.tokenRequests, script).to.equal(1);
        }
      });
    });
  }

  it('gives TypeScript its declarations under node16 resolution for both import and require', async function () {
    // tsc exits non-zero on any error, including an unresolved module or an unused @ts-expect-error.
    const result = await run(process.execPath, [TSC, '-p', 'tsconfig.json'], { cwd: projectDir, timeout: 60_000 });
    expect(result.stdout.trim()).to.equal('');
  });
});
