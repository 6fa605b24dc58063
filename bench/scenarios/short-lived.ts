// Scenario 3, short-lived tokens: the server issues 1 s tokens and the client
// sends an open-loop stream of 200 requests/s. Latency is measured from each
// request's scheduled start, so a client that stalls is charged for it.

import { REFRESHING, createContender, type ContenderName } from '../contenders.js';
import { formatReasons, quantile, round, settleWithin, sleep, summarise, track, type Outcome } from '../measure.js';
import { verdict, type Row, type Scenario, type ScenarioContext, type ScenarioResult } from '../scenario.js';

const RATE = 200;
const TOKEN_TTL_S = 1;

async function stream(context: ScenarioContext, name: ContenderName, seconds: number): Promise<{ data: Record<string, unknown>; row: Row }> {
  const { control } = context;
  await control.reset();
  await control.configure({ tokenTtl: TOKEN_TTL_S });
  const contender = await createContender(name, { origin: context.origin });
  await contender.warm();
  await control.resetCounters();

  const total = RATE * seconds;
  const interval = 1000 / RATE;
  const outcomes: Outcome[] = [];
  const latencies: number[] = [];
  const settled: Promise<void>[] = [];
  const startedAt = performance.now();
  let sent = 0;
  while (sent < total) {
    // Open loop: send every request whose time has come, whatever the earlier ones are doing.
    const now = performance.now();
    while (sent < total && startedAt + sent * interval <= now) {
      const scheduledAt = startedAt + sent * interval;
      const tracked = track(contender.instance.get('/item', { headers: { 'x-bench-id': `s${sent}` } }), scheduledAt);
      outcomes.push(tracked.outcome);
      settled.push(tracked.settled.then(() => {
        if (tracked.outcome.settledAfterMs !== undefined) latencies.push(tracked.outcome.settledAfterMs);
      }));
      sent += 1;
    }
    await sleep(Math.max(0, startedAt + sent * interval - performance.now()));
  }
  await settleWithin(settled, 10_000);
  const server = await control.stats();
  contender.dispose();

  const summary = summarise(outcomes);
  const p50 = round(quantile(latencies, 0.5), 1);
  const p99 = round(quantile(latencies, 0.99), 1);
  const data = {
    contender: name,
    requests: total,
    seconds,
    tokenTtlSeconds: TOKEN_TTL_S,
    ...summary,
    api401: server.api401,
    replays: server.replays,
    tokenRequests: server.tokenRequests,
    tokenMaxInFlight: server.tokenMaxInFlight,
    p50Ms: p50,
    p99Ms: p99,
  };
  const row: Row = {
    scenario: `short-lived 1 s tokens, ${RATE} req/s for ${seconds} s`,
    contender: name,
    figures:
      `${summary.failed} failed, ${summary.hung} hung; ${server.api401} 401s at the API; ${server.replays} replays; ` +
      `${server.tokenRequests} token req; p50 ${p50} ms, p99 ${p99} ms` +
      (summary.failed > 0 ? `; failures: ${formatReasons(summary.reasons)}` : ''),
    target: '',
    verdict: '',
  };
  if (name === 'axios-oauth-queue') {
    row.target = '0 failures, 0 401s at the API, 0 replays';
    row.verdict = verdict(summary.failed === 0 && summary.hung === 0 && server.api401 === 0 && server.replays === 0);
  }
  return { data, row };
}

async function run(context: ScenarioContext): Promise<ScenarioResult> {
  const seconds = context.quick ? 2 : 5;
  const rows: Row[] = [];
  const runs: Record<string, unknown>[] = [];
  for (const name of REFRESHING) {
    const { data, row } = await stream(context, name, seconds);
    runs.push(data);
    rows.push(row);
    context.log(`${name}: ${row.figures}`);
  }
  await context.control.reset();
  return { scenario: 'short-lived', data: { runs }, rows };
}

export const shortLived: Scenario = { name: 'short-lived', needsServer: true, run };
