// Scenario 6, memory: heap and RSS after a gc(), before and after 100,000
// requests with a refresh every 10,000 (the server revokes the tokens between
// segments), and the listener counts that would grow if something leaked.
// Run once per contender, each in a fresh process, so that RSS is its own.

import type { AxiosInstance } from 'axios';
import { CONTENDERS, createContender, type Contender } from '../contenders.js';
import { round, runPool } from '../measure.js';
import { verdict, type Row, type Scenario, type ScenarioContext, type ScenarioResult } from '../scenario.js';

const SEGMENTS = 10;
const CONCURRENCY = 32;
/**
 * Growth over the second half of the run below this is noise: 1 MiB over 50,000
 * requests is 20 bytes a request. The first half is not judged: bare axios too
 * grows there by about a megabyte (JIT code, inline caches, pooled buffers).
 */
const NOISE_BYTES = 1024 * 1024;

interface Snapshot {
  heapUsed: number;
  rss: number;
  requestInterceptors: number;
  responseInterceptors: number;
  agentListeners: number;
  processListeners: number;
}

function interceptorCount(manager: AxiosInstance['interceptors']['request'] | AxiosInstance['interceptors']['response']): number {
  // axios keeps interceptors in `handlers` and sets an ejected one to null.
  const handlers = (manager as unknown as { handlers: unknown[] }).handlers;
  return handlers.filter((handler) => handler !== null).length;
}

function listenerTotal(emitter: NodeJS.EventEmitter): number {
  return emitter.eventNames().reduce((sum, event) => sum + emitter.listenerCount(event), 0);
}

async function snapshot(contender: Contender): Promise<Snapshot> {
  const gc = globalThis.gc;
  if (gc === undefined) throw new Error('the memory scenario needs --expose-gc (bench/run.ts passes it)');
  for (let pass = 0; pass < 3; pass += 1) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
  const usage = process.memoryUsage();
  return {
    heapUsed: usage.heapUsed,
    rss: usage.rss,
    requestInterceptors: interceptorCount(contender.instance.interceptors.request),
    responseInterceptors: interceptorCount(contender.instance.interceptors.response),
    agentListeners: listenerTotal(contender.agent),
    processListeners: listenerTotal(process),
  };
}

const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(2)} MiB`;
const signedMib = (bytes: number): string => `${bytes >= 0 ? '+' : '−'}${mib(Math.abs(bytes))}`;

async function run(context: ScenarioContext): Promise<ScenarioResult> {
  const name = context.contender ?? 'axios-oauth-queue';
  const total = context.quick ? 10_000 : 100_000;
  const perSegment = total / SEGMENTS;
  const { control } = context;
  await control.reset();
  const contender = await createContender(name, { origin: context.origin });
  await contender.warm();
  await runPool(context.quick ? 1_000 : 5_000, CONCURRENCY, () => contender.instance.get('/item'));
  // The refresh path warmed too, so its code and closures are in the baseline.
  if (name !== 'bare axios') {
    await control.revoke();
    await runPool(1_000, CONCURRENCY, () => contender.instance.get('/item'));
  }
  await control.resetCounters();

  const before = await snapshot(contender);
  let failures = 0;
  let middle: Snapshot | undefined;
  for (let segment = 0; segment < SEGMENTS; segment += 1) {
    // bare axios has a fixed header and cannot renew: it runs without revocations.
    if (segment > 0 && name !== 'bare axios') await control.revoke();
    failures += await runPool(perSegment, CONCURRENCY, () => contender.instance.get('/item'));
    if (segment === SEGMENTS / 2 - 1) middle = await snapshot(contender);
  }
  const after = await snapshot(contender);
  const server = await control.stats();
  contender.dispose();
  if (middle === undefined) throw new Error('no middle snapshot');

  const heapGrowth = after.heapUsed - before.heapUsed;
  const secondHalfGrowth = after.heapUsed - middle.heapUsed;
  const listenersSteady =
    after.requestInterceptors === before.requestInterceptors &&
    after.responseInterceptors === before.responseInterceptors &&
    after.agentListeners === before.agentListeners &&
    after.processListeners === before.processListeners;
  const data = { contender: name, requests: total, failures, tokenRequests: server.tokenRequests, before, middle, after, heapGrowth, secondHalfGrowth, rssGrowth: after.rss - before.rss };
  const row: Row = {
    scenario: `memory, ${total.toLocaleString('en-US')} requests${name === 'bare axios' ? '' : `, ${SEGMENTS - 1} revocations`}`,
    contender: name,
    figures:
      `heap ${mib(before.heapUsed)} → ${mib(middle.heapUsed)} → ${mib(after.heapUsed)} (${signedMib(heapGrowth)}, second half ${signedMib(secondHalfGrowth)}); ` +
      `RSS ${mib(before.rss)} → ${mib(after.rss)} (${signedMib(after.rss - before.rss)}); ` +
      `interceptors ${before.requestInterceptors}+${before.responseInterceptors} → ${after.requestInterceptors}+${after.responseInterceptors}; ` +
      `agent listeners ${before.agentListeners} → ${after.agentListeners}; process listeners ${before.processListeners} → ${after.processListeners}; ` +
      `${server.tokenRequests} token req; ${failures} failed`,
    target: '',
    verdict: '',
  };
  if (name === 'axios-oauth-queue') {
    row.target = `heap growth over the second half < ${mib(NOISE_BYTES)} (noise) after gc(); listener and interceptor counts unchanged`;
    row.verdict = verdict(secondHalfGrowth < NOISE_BYTES && listenersSteady);
  }
  return { scenario: 'memory', data: { ...data, heapGrowthMiB: round(heapGrowth / 1024 / 1024, 3) }, rows: [row] };
}

export const memory: Scenario = { name: 'memory', needsServer: true, perContender: CONTENDERS, run };
