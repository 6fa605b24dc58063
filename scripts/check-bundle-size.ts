// Size budget of what a client without discovery or telemetry loads: the main
// chunk of each build (dist/index.mjs, dist/index.cjs), minified with esbuild and
// gzipped at level 9, the way docs/benchmarks.md measures it. Code behind import()
// (dist/chunks/) is not counted. Run after `npm run build`: npm run check:bundle-size
// Raise a budget only on purpose, with the new figure in docs/benchmarks.md.

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { transformSync } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Budgets in bytes (min+gzip): the figures of the split build, with a little room. */
const BUDGETS: Record<string, number> = {
  'dist/index.mjs': 30_700,
  'dist/index.cjs': 34_800,
};

let failed = false;
for (const [file, budget] of Object.entries(BUDGETS)) {
  const source = readFileSync(join(root, file), 'utf8');
  const minified = transformSync(source, { minify: true, loader: 'js', format: file.endsWith('.cjs') ? 'cjs' : 'esm' }).code;
  const size = gzipSync(minified, { level: 9 }).length;
  const verdict = size <= budget ? 'ok' : 'OVER BUDGET';
  if (size > budget) failed = true;
  console.log(`${file}: ${size} B min+gzip (budget ${budget} B) ${verdict}`);
}
if (failed) {
  console.error('check-bundle-size: the main chunk grew past its budget; move code only some clients use behind import(), or raise the budget with the new figure in docs/benchmarks.md');
  process.exitCode = 1;
}
