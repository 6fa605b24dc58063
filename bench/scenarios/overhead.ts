// Scenario 1, overhead: sequential and 32-concurrent GETs over keep-alive with a
// valid token. Contenders alternate ABBA over several rounds; each round's
// figures are divided by bare axios's in the same round. A second, in-process
// measurement times each contender's request interceptors alone (the hot path
// of attach-auth.ts and TokenManager.usable()), free of socket noise.

import { AxiosHeaders, type InternalAxiosRequestConfig } from 'axios';
import { CONTENDERS, NO_OP_INTERCEPTOR, createContender, type Contender, type ContenderName } from '../contenders.js';
import { median, round, runPool } from '../measure.js';
import { verdict, type Row, type Scenario, type ScenarioContext, type ScenarioResult } from '../scenario.js';

const MODES = [
  { mode: 'sequential', concurrency: 1 },
  { mode: '32-concurrent', concurrency: 32 },
] as const;

const NAMES: readonly ContenderName[] = ['bare axios', NO_OP_INTERCEPTOR, ...CONTENDERS.filter((name) => name !== 'bare axios')];

interface Measurement {
  requestsPerSecond: number;
  cpuMicrosPerRequest: number;
  failures: number;
}

interface Spread {
  median: number;
  min: number;
  max: number;
}

async function measure(contender: Contender, count: number, concurrency: number): Promise<Measurement> {
  globalThis.gc?.();
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const failures = await runPool(count, concurrency, () => contender.instance.get('/item'));
  const elapsedMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  return { requestsPerSecond: count / (elapsedMs / 1000), cpuMicrosPerRequest: (cpu.user + cpu.system) / count, failures };
}

function spread(values: readonly number[]): Spread {
  return { median: round(median(values), 3), min: round(Math.min(...values), 3), max: round(Math.max(...values), 3) };
}

type Fulfilled = (config: InternalAxiosRequestConfig) => InternalAxiosRequestConfig | Promise<InternalAxiosRequestConfig>;

/**
 * Nanoseconds per request spent in the contender's request interceptors, called
 * directly on a fresh config like the one axios builds (the cost of building the
 * config is measured alone and subtracted).
 */
function interceptorNanos(contender: Contender, calls: number): number {
  const handlers = (contender.instance.interceptors.request as unknown as { handlers: ({ fulfilled?: Fulfilled } | null)[] }).handlers;
  const chain = handlers.flatMap((handler) => (handler?.fulfilled === undefined ? [] : [handler.fulfilled]));
  const baseURL = contender.instance.defaults.baseURL;
  const time = (withChain: boolean): number => {
    const started = process.hrtime.bigint();
    for (let index = 0; index < calls; index += 1) {
      const config = { url: '/item', baseURL, method: 'get', headers: new AxiosHeaders({ Accept: 'application/json' }) } as InternalAxiosRequestConfig;
      if (withChain) for (const fulfilled of chain) void fulfilled(config);
    }
    return Number(process.hrtime.bigint() - started) / calls;
  };
  time(true);
  time(false);
  const samples: number[] = [];
  for (let pass = 0; pass < 5; pass += 1) samples.push(time(true) - time(false));
  return Math.max(0, round(median(samples)));
}

async function run(context: ScenarioContext): Promise<ScenarioResult> {
  const total = context.quick ? 2_000 : 20_000;
  const rounds = context.quick ? 4 : 20;
  const perRound = Math.ceil(total / rounds);
  await context.control.reset();
  const contenders: Contender[] = [];
  for (const name of NAMES) {
    const contender = await createContender(name, { origin: context.origin });
    await contender.warm();
    // JIT (both the sequential and the concurrent path), sockets and the token
    // are all warm before the first measured request: the first few thousand
    // requests of a process run markedly slower.
    for (const { concurrency } of MODES) await runPool(context.quick ? 500 : 2_000, concurrency, () => contender.instance.get('/item'));
    contenders.push(contender);
  }

  const results = new Map<string, Measurement[]>();
  const key = (mode: string, name: ContenderName): string => `${mode}|${name}`;
  for (let roundIndex = 0; roundIndex < rounds; roundIndex += 1) {
    // ABBA: forward in even rounds, backward in odd ones, so drift and warm-up hit every contender alike.
    const order = roundIndex % 2 === 0 ? contenders : [...contenders].reverse();
    for (const { mode, concurrency } of MODES) {
      for (const contender of order) {
        const measurement = await measure(contender, perRound, concurrency);
        const list = results.get(key(mode, contender.name)) ?? [];
        list.push(measurement);
        results.set(key(mode, contender.name), list);
      }
    }
    context.log(`round ${roundIndex + 1} of ${rounds} done`);
  }
  const serverStats = await context.control.stats();
  const interceptorCost: Record<string, number> = {};
  for (const contender of contenders) interceptorCost[contender.name] = interceptorNanos(contender, context.quick ? 50_000 : 200_000);
  for (const contender of contenders) contender.dispose();

  const data: Record<string, unknown> = { requestsPerContenderAndMode: perRound * rounds, rounds, interceptorNanosPerRequest: interceptorCost, serverStats };
  const rows: Row[] = [];
  for (const { mode } of MODES) {
    const bare = results.get(key(mode, 'bare axios')) ?? [];
    const modeData: Record<string, { requestsPerSecond: number; cpuMicrosPerRequest: number; throughputRatio: Spread; cpuRatio: Spread; failures: number }> = {};
    for (const name of NAMES) {
      const list = results.get(key(mode, name)) ?? [];
      modeData[name] = {
        requestsPerSecond: round(median(list.map((m) => m.requestsPerSecond))),
        cpuMicrosPerRequest: round(median(list.map((m) => m.cpuMicrosPerRequest)), 1),
        // Paired by round: each contender against bare axios measured moments apart.
        throughputRatio: spread(list.map((m, index) => m.requestsPerSecond / (bare[index]?.requestsPerSecond ?? Number.NaN))),
        cpuRatio: spread(list.map((m, index) => m.cpuMicrosPerRequest / (bare[index]?.cpuMicrosPerRequest ?? Number.NaN))),
        failures: list.reduce((sum, m) => sum + m.failures, 0),
      };
    }
    data[mode] = modeData;
    const theirs = modeData['axios-auth-refresh'];
    for (const name of NAMES) {
      const figures = modeData[name];
      if (figures === undefined) continue;
      const ratio = (s: Spread): string => `×${s.median.toFixed(3)} [${s.min.toFixed(3)}–${s.max.toFixed(3)}]`;
      const row: Row = {
        scenario: `overhead, ${mode}`,
        contender: name,
        figures:
          `${figures.requestsPerSecond.toLocaleString('en-US')} req/s (${ratio(figures.throughputRatio)}); ` +
          `CPU ${figures.cpuMicrosPerRequest} µs/req (${ratio(figures.cpuRatio)}); interceptors ${interceptorCost[name] ?? 0} ns/req` +
          (figures.failures > 0 ? `; ${figures.failures} failed` : ''),
        target: '',
        verdict: '',
      };
      if (name === 'axios-oauth-queue' && theirs !== undefined) {
        const met = figures.throughputRatio.median >= 0.97 && figures.throughputRatio.median >= theirs.throughputRatio.median && figures.failures === 0;
        row.target = `req/s ratio ≥ 0.97 and ≥ axios-auth-refresh's (×${theirs.throughputRatio.median.toFixed(3)})`;
        row.verdict = verdict(met);
      }
      rows.push(row);
    }
  }
  return { scenario: 'overhead', data, rows };
}

export const overhead: Scenario = { name: 'overhead', needsServer: true, run };
