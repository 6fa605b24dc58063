// `npm run bench`: starts the loopback server in a child process, runs each
// scenario in a client process of its own, prints one JSON line per result as
// it arrives and one table at the end.
//
//   npm run bench                     every scenario, full counts
//   npm run bench -- --quick          smaller counts (for checking the suite)
//   npm run bench -- --only storm     one scenario (a comma-separated list works too)

import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import type { ContenderName } from './contenders.js';
import type { Row, ScenarioResult } from './scenario.js';
import { SCENARIOS } from './scenarios/index.js';

const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url));
/** A client process that takes longer than this is stopped and reported as unfinished. */
const TASK_LIMIT_MS = 240_000;

interface Arguments {
  quick: boolean;
  only: string[] | undefined;
}

function parseArguments(argv: readonly string[]): Arguments {
  const parsed: Arguments = { quick: false, only: undefined };
  for (let index = 0; index < argv.length; index += 1) {
    const argument = argv[index];
    if (argument === '--quick') parsed.quick = true;
    else if (argument === '--only') parsed.only = (argv[++index] ?? '').split(',').filter((name) => name !== '');
    else if (argument?.startsWith('--only=')) parsed.only = argument.slice('--only='.length).split(',').filter((name) => name !== '');
    else throw new Error(`unknown argument ${argument ?? ''}; use --quick and --only <scenario>`);
  }
  const known = SCENARIOS.map((scenario) => scenario.name);
  for (const name of parsed.only ?? []) {
    if (!known.includes(name)) throw new Error(`unknown scenario "${name}"; scenarios: ${known.join(', ')}`);
  }
  return parsed;
}

function machine(): Record<string, string | number> {
  let cpuModel = os.cpus()[0]?.model ?? 'unknown';
  try {
    cpuModel = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpuModel;
  } catch {
    // Not Linux: os.cpus() has the model.
  }
  return { node: process.version, cores: os.availableParallelism(), cpuModel, platform: `${os.platform()} ${os.release()}`, loadAverage: os.loadavg().map((value) => value.toFixed(2)).join(' ') };
}

function startServer(): Promise<{ child: ChildProcess; origin: string }> {
  const child = fork(here('./server.ts'), [], { execArgv: process.execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the loopback server did not start within 20 s')), 20_000);
    child.once('message', (message) => {
      clearTimeout(timer);
      resolve({ child, origin: `http://127.0.0.1:${(message as { port: number }).port}` });
    });
    child.once('exit', (code) => reject(new Error(`the loopback server exited (${code ?? 'signal'})`)));
  });
}

function runTask(scenario: string, origin: string, quick: boolean, contender: ContenderName | undefined): Promise<ScenarioResult> {
  const child = fork(here('./client.ts'), [], {
    execArgv: [...process.execArgv, '--expose-gc'],
    env: { ...process.env, BENCH_TASK: JSON.stringify({ scenario, origin, quick, contender }) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    let result: ScenarioResult | undefined;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`did not finish within ${TASK_LIMIT_MS / 1000} s`));
    }, TASK_LIMIT_MS);
    child.on('message', (message) => {
      result = message as ScenarioResult;
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (result !== undefined) resolve(result);
      else reject(new Error(`client process exited with ${code ?? 'a signal'} and no result`));
    });
  });
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

function table(rows: readonly Row[]): string {
  const lines = ['| Scenario | Contender | Figures | Target | Verdict |', '| --- | --- | --- | --- | --- |'];
  for (const row of rows) {
    lines.push(`| ${[row.scenario, row.contender, row.figures, row.target || '—', row.verdict || '—'].map(escapeCell).join(' | ')} |`);
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const args = parseArguments(process.argv.slice(2));
  const selected = SCENARIOS.filter((scenario) => args.only === undefined || args.only.includes(scenario.name));
  const started = performance.now();
  const info = machine();
  console.log(JSON.stringify({ machine: info, quick: args.quick, scenarios: selected.map((scenario) => scenario.name) }));

  const server = selected.some((scenario) => scenario.needsServer) ? await startServer() : undefined;
  const rows: Row[] = [];
  try {
    for (const scenario of selected) {
      const contenders: readonly (ContenderName | undefined)[] = scenario.perContender ?? [undefined];
      for (const contender of contenders) {
        const label = contender === undefined ? scenario.name : `${scenario.name}, ${contender}`;
        process.stderr.write(`running ${label}\n`);
        try {
          const result = await runTask(scenario.name, server?.origin ?? '', args.quick, contender);
          console.log(JSON.stringify({ scenario: result.scenario, ...(contender === undefined ? {} : { contender }), ...result.data }));
          rows.push(...result.rows);
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          console.log(JSON.stringify({ scenario: scenario.name, contender, error: message }));
          rows.push({ scenario: scenario.name, contender: contender ?? 'all', figures: `not measured: ${message}`, target: '', verdict: '' });
        }
      }
    }
  } finally {
    server?.child.send('stop');
  }
  const seconds = Math.round((performance.now() - started) / 1000);
  const loadAfter = os.loadavg().map((value) => value.toFixed(2)).join(' ');
  console.log(
    `\naxios-oauth-queue benchmarks (${args.quick ? 'quick' : 'full'} run, ${seconds} s; Node ${info['node']}, ${info['cores']} cores, ${info['cpuModel']}; ` +
      `load average ${info['loadAverage']} before, ${loadAfter} after)\n`,
  );
  console.log(table(rows));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
