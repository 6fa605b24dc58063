// Proves the axios-versions run tests the release it names: the library and the
// specs both load the aliased axios, not the one the other specs use.
import { readFileSync } from 'node:fs';
import axios from 'axios';
import { expect } from 'chai';

describe('axios under test', () => {
  it('is the release AXIOS_UNDER_TEST names', () => {
    const alias = process.env['AXIOS_UNDER_TEST'] ?? 'axios';
    const manifest = JSON.parse(readFileSync(new URL(`../../node_modules/${alias}/package.json`, import.meta.url), 'utf8')) as { version: string };
    expect(axios.VERSION).to.equal(manifest.version);
  });
});
