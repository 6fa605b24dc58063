// Type-checks every ```ts block of README.md and docs/ with `tsc --strict`, so
// the examples cannot drift from the code. Each block becomes a module under
// .tmp/doc-code/ that imports 'axios-oauth-queue' (mapped to lib/index.ts); the
// prelude (scripts/doc-prelude.d.ts) declares the few names blocks take as given
// (clientId, clientSecret, …). A block that is deliberately partial (a fragment
// of the one above it) opts out with `<!-- doc-check: partial -->` on the line
// before its fence. Run: npm run check:doc-code

import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { codeBlocks, markdownFiles } from './markdown-files.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, '.tmp', 'doc-code');
/** Pages not checked yet. docs/scaling.md is being rewritten on another branch (issue 10); take it off once that lands. */
const UNCHECKED_PAGES = new Set(['docs/scaling.md']);
const PARTIAL = '<!-- doc-check: partial -->';

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const sources = new Map<string, { path: string; line: number }>();
let skipped = 0;
for (const file of markdownFiles(root)) {
  if (UNCHECKED_PAGES.has(file.path)) continue;
  for (const block of codeBlocks(file.text)) {
    if (block.language !== 'ts' && block.language !== 'typescript') continue;
    if (block.marker === PARTIAL) {
      skipped += 1;
      continue;
    }
    const name = `${file.path.replace(/[/.]/g, '_')}_L${block.line}.ts`;
    sources.set(name, { path: file.path, line: block.line });
    // `export {}` makes every block a module, so top-level await works and names stay local to it.
    writeFileSync(join(out, name), `${block.code}\nexport {};\n`);
  }
}
writeFileSync(join(out, 'package.json'), '{ "type": "module" }\n');
writeFileSync(
  join(out, 'tsconfig.json'),
  JSON.stringify({
    compilerOptions: {
      target: 'ES2022',
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      lib: ['ES2022', 'DOM'],
      types: ['node'],
      typeRoots: [join(root, 'node_modules', '@types')],
      strict: true,
      noUncheckedIndexedAccess: true,
      exactOptionalPropertyTypes: true,
      noEmit: true,
      skipLibCheck: true,
      baseUrl: root,
      paths: { 'axios-oauth-queue': ['lib/index.ts'] },
    },
    files: [join(root, 'scripts', 'doc-prelude.d.ts'), ...[...sources.keys()].map((name) => join(out, name))],
  }),
);

try {
  execFileSync(join(root, 'node_modules', '.bin', 'tsc'), ['-p', join(out, 'tsconfig.json')], { cwd: root, encoding: 'utf8', stdio: 'pipe' });
} catch (error) {
  const output = String((error as { stdout?: unknown }).stdout ?? error);
  // Name each failure by its Markdown page and line, not the generated file.
  console.error(
    output.replace(/\S*\.tmp\/doc-code\/([\w.-]+\.ts)\((\d+),(\d+)\)/g, (whole, name: string, line: string, column: string) => {
      const source = sources.get(name);
      return source === undefined ? whole : `${source.path}:${source.line + Number(line) - 1}:${column}`;
    }),
  );
  process.exit(1);
}
console.log(`doc code: ${sources.size} TypeScript blocks type-check under --strict (${skipped} marked partial)`);
