// Runs a short user script in a child process, the way a user's script runs: with
// `axios` and the library's `attachAuth` already imported. For the promises about
// the process itself (it exits after detach; it does not exit under a waiting request).

import { spawn } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { within } from './deferred.js';

const libraryUrl = pathToFileURL(fileURLToPath(new URL('../../lib/index.ts', import.meta.url))).href;

export interface ChildResult {
  code: number | null;
  /** The last line the script printed, parsed as JSON ({} when it printed nothing). */
  last: Record<string, unknown>;
  stderr: string;
}

/** Runs `script` (an ES module body) and waits for the process to exit, bounded by `bound` ms. */
export async function runScript(script: string, bound = 15_000): Promise<ChildResult> {
  const source = `import axios from 'axios';\nconst { attachAuth } = await import(${JSON.stringify(libraryUrl)});\n${script}`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', source], {
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    const code = await within(exited, bound, 'the child process exiting');
    const last = stdout.trim().split('\n').at(-1) ?? '';
    return { code, last: last === '' ? {} : (JSON.parse(last) as Record<string, unknown>), stderr };
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill();
  }
}
