// Builds dist/: an ES module build (p-queue stays an import), a CommonJS build
// (p-queue 9 is ESM-only, so it is bundled in), and bundled type declarations.
// Code only some clients use (discovery with `issuer`, `telemetry`) is imported with
// `import()` in lib/, so each build emits it as a chunk of its own under dist/chunks/:
// a client without those options never loads it (scripts/check-bundle-size.ts).
import typescript from '@rollup/plugin-typescript';
import { nodeResolve } from '@rollup/plugin-node-resolve';
import commonjs from '@rollup/plugin-commonjs';
import { dts } from 'rollup-plugin-dts';

const nodeBuiltins = (id) => id.startsWith('node:');
const peers = (id) => id === 'axios' || id.startsWith('axios/');
// jose is imported lazily (`await import('jose')`) and only by the JWT client authentication
// and DPoP paths: it stays a dynamic import in both builds and is never bundled.
// @opentelemetry/api (an optional peer) likewise, only with `telemetry: true`.
const lazy = (id) => id === 'jose' || id === '@opentelemetry/api';

export default [
  {
    input: 'lib/index.ts',
    output: { dir: 'dist', entryFileNames: 'index.mjs', chunkFileNames: 'chunks/[name]-[hash].mjs', format: 'es', sourcemap: false },
    external: (id) => nodeBuiltins(id) || peers(id) || lazy(id) || id === 'p-queue',
    plugins: [typescript({ tsconfig: './tsconfig.build.json' })],
  },
  {
    input: 'lib/index.ts',
    output: { dir: 'dist', entryFileNames: 'index.cjs', chunkFileNames: 'chunks/[name]-[hash].cjs', format: 'cjs', sourcemap: false, exports: 'named', interop: 'auto' },
    external: (id) => nodeBuiltins(id) || peers(id) || lazy(id),
    plugins: [nodeResolve({ exportConditions: ['node', 'import', 'default'] }), commonjs(), typescript({ tsconfig: './tsconfig.build.json' })],
  },
  { input: 'lib/index.ts', output: { file: 'dist/index.d.mts', format: 'es' }, external: peers, plugins: [dts({ tsconfig: './tsconfig.build.json' })] },
  { input: 'lib/index.ts', output: { file: 'dist/index.d.cts', format: 'es' }, external: peers, plugins: [dts({ tsconfig: './tsconfig.build.json' })] },
];
