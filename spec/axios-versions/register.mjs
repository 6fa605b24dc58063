// Loaded with `--import` after tsx: every `import 'axios'` and `require('axios')` (the
// library's, the specs', a dependency's) resolves to the release named by
// AXIOS_UNDER_TEST, an npm alias devDependency such as `axios-oldest` (npm:axios@1.0.0).
// ES module resolution goes through a module.register hook; CommonJS resolution
// (tsx and mocha load .ts specs with require where Node allows it) through
// Module._resolveFilename. Both run before tsx's own and hand the renamed specifier on.
import Module, { register } from 'node:module';

const alias = process.env.AXIOS_UNDER_TEST;
if (alias === undefined || alias === '') throw new Error('AXIOS_UNDER_TEST must name the axios alias to test, e.g. axios-oldest');

register('./hooks.mjs', import.meta.url, { data: { alias } });

const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  return resolveFilename.call(this, request === 'axios' ? alias : request, ...rest);
};
