import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect } from 'chai';

const run = promisify(execFile);

/** Runs the probe in its own process (a fresh module graph) and returns what it printed. */
async function probe(mode: 'secret' | 'jwt'): Promise<{ stdout: string; stderr: string }> {
  return run(process.execPath, ['--import', 'tsx', 'spec/helpers/jose-import-probe.ts', mode], { timeout: 30_000 });
}

describe('jose is loaded only when a JWT method or DPoP is used', () => {
  it('a client with a shared secret never imports jose', async () => {
    const { stdout, stderr } = await probe('secret');
    expect(stdout).to.equal('done\n');
    expect(stderr).not.to.include('jose imported');
  });

  it('a private_key_jwt client imports jose at its first token request', async () => {
    const { stdout, stderr } = await probe('jwt');
    expect(stdout).to.equal('done\n');
    expect(stderr).to.include('jose imported');
  });
});
