// Scenario 7, bundle size: dist/index.mjs minified (esbuild's transform, the
// copy tsx installs) and gzipped (node:zlib), without its dependencies; and,
// for context, with p-queue bundled in, and axios-auth-refresh's own ESM build.

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build, transform } from 'esbuild';
import type { Row, Scenario, ScenarioContext, ScenarioResult } from '../scenario.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const distEntry = `${root}dist/index.mjs`;

interface Sizes {
  raw: number;
  minified: number;
  gzipped: number;
}

async function sizesOf(source: string): Promise<Sizes> {
  const minified = (await transform(source, { minify: true, format: 'esm', loader: 'js', target: 'es2022' })).code;
  return { raw: Buffer.byteLength(source), minified: Buffer.byteLength(minified), gzipped: gzipSync(minified, { level: 9 }).length };
}

const kb = (bytes: number): string => `${(bytes / 1024).toFixed(1)} kB`;
const describe = (sizes: Sizes): string => `${kb(sizes.minified)} minified, ${kb(sizes.gzipped)} gzipped (${kb(sizes.raw)} as built)`;

async function run(context: ScenarioContext): Promise<ScenarioResult> {
  if (!existsSync(distEntry)) {
    context.log('dist/index.mjs is missing: running npm run build');
    const result = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
    if (result.status !== 0) throw new Error('npm run build failed');
  }
  const ours = await sizesOf(readFileSync(distEntry, 'utf8'));
  // The figures are those of the build on disk: say so when lib/ changed after it.
  const builtAt = statSync(distEntry).mtimeMs;
  const libChangedAt = Math.max(...readdirSync(`${root}lib`, { recursive: true, encoding: 'utf8' }).map((file) => statSync(`${root}lib/${file}`).mtimeMs));
  const stale = libChangedAt > builtAt;
  if (stale) context.log('dist/index.mjs is older than lib/: run npm run build for current figures');
  const bundled = await build({ entryPoints: [distEntry], bundle: true, write: false, format: 'esm', platform: 'node', external: ['axios'], target: 'es2022' });
  const withQueue = await sizesOf(bundled.outputFiles[0]?.text ?? '');
  const theirs = await sizesOf(readFileSync(`${root}node_modules/axios-auth-refresh/dist/index.esm.js`, 'utf8'));
  const rows: Row[] = [
    { scenario: 'bundle size', contender: 'axios-oauth-queue', figures: `dist/index.mjs without dependencies: ${describe(ours)}${stale ? ' (dist older than lib/)' : ''}`, target: '', verdict: '' },
    { scenario: 'bundle size', contender: 'axios-oauth-queue + p-queue', figures: `with p-queue (and eventemitter3) bundled: ${describe(withQueue)}`, target: '', verdict: '' },
    { scenario: 'bundle size', contender: 'axios-auth-refresh', figures: `dist/index.esm.js: ${describe(theirs)}`, target: '', verdict: '' },
  ];
  return { scenario: 'bundle', data: { distOlderThanLib: stale, axiosOauthQueue: ours, axiosOauthQueueWithPQueue: withQueue, axiosAuthRefresh: theirs }, rows };
}

export const bundle: Scenario = { name: 'bundle', needsServer: false, run };
