// What a scenario receives and returns. Each scenario runs in a client process
// of its own (bench/client.ts), and hands back one JSON record and the rows it
// adds to the final table.

import type { ContenderName } from './contenders.js';
import type { ServerControl } from './control.js';

export interface ScenarioContext {
  /** The loopback server's origin; its token endpoint is /token, its API /api/*. */
  origin: string;
  control: ServerControl;
  /** --quick: smaller counts, for building and checking the suite. */
  quick: boolean;
  /** For scenarios run once per contender (each in a fresh process). */
  contender: ContenderName | undefined;
  /** Progress lines (stderr): never part of the results. */
  log(message: string): void;
}

export type Verdict = 'met' | 'missed' | '';

export interface Row {
  scenario: string;
  contender: string;
  figures: string;
  /** The target this row is judged against, with the verdict; empty for rows that are only for comparison. */
  target: string;
  verdict: Verdict;
}

export interface ScenarioResult {
  scenario: string;
  data: Record<string, unknown>;
  rows: Row[];
}

export interface Scenario {
  name: string;
  /** Run once per listed contender, each in its own process (so RSS and heap are its own). */
  perContender?: readonly ContenderName[];
  /** False when the scenario does not talk to the loopback server. */
  needsServer: boolean;
  run(context: ScenarioContext): Promise<ScenarioResult>;
}

export function verdict(met: boolean): Verdict {
  return met ? 'met' : 'missed';
}
