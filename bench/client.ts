// The client process: runs one scenario (for one contender, where the scenario
// asks for that) against the loopback server and sends its result to
// bench/run.ts. Started with --expose-gc so that memory figures come after a gc().

import { CONTENDERS, type ContenderName } from './contenders.js';
import { ServerControl } from './control.js';
import { SCENARIOS } from './scenarios/index.js';

interface ClientTask {
  scenario: string;
  origin: string;
  quick: boolean;
  contender?: ContenderName;
}

async function main(): Promise<void> {
  const task = JSON.parse(process.env['BENCH_TASK'] ?? '{}') as ClientTask;
  const scenario = SCENARIOS.find((candidate) => candidate.name === task.scenario);
  if (scenario === undefined) throw new Error(`unknown scenario ${task.scenario}`);
  if (task.contender !== undefined && !(CONTENDERS as readonly string[]).includes(task.contender)) throw new Error(`unknown contender ${task.contender}`);
  const control = new ServerControl(task.origin);
  try {
    const result = await scenario.run({
      origin: task.origin,
      control,
      quick: task.quick,
      contender: task.contender,
      log: (message) => process.stderr.write(`  [${task.scenario}${task.contender === undefined ? '' : `, ${task.contender}`}] ${message}\n`),
    });
    await new Promise<void>((resolve, reject) => {
      if (process.send === undefined) {
        console.log(JSON.stringify(result));
        resolve();
      } else process.send(result, (error: Error | null) => (error ? reject(error) : resolve()));
    });
  } finally {
    control.close();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
