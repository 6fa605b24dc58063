// Scenario 5, persistent 401: the API refuses every token, even brand-new ones
// (a client without access, a misconfigured audience). What does each user
// request cost in token requests and API calls?

import { REFRESHING, createContender, type ContenderName } from '../contenders.js';
import { formatReasons, round, settleWithin, summarise, track, type Outcome } from '../measure.js';
import { verdict, type Row, type Scenario, type ScenarioContext, type ScenarioResult } from '../scenario.js';

const USER_REQUESTS = 50;

async function persistent(context: ScenarioContext, name: ContenderName, concurrency: 1 | 50): Promise<{ data: Record<string, unknown>; row: Row }> {
  const { control } = context;
  await control.reset();
  const contender = await createContender(name, { origin: context.origin });
  await contender.warm();
  await control.resetCounters();
  await control.configure({ rejectAll: true });

  const outcomes: Outcome[] = [];
  const startedAt = performance.now();
  if (concurrency === 1) {
    for (let index = 0; index < USER_REQUESTS; index += 1) {
      const tracked = track(contender.instance.get('/item', { headers: { 'x-bench-id': `p${index}` } }), startedAt);
      outcomes.push(tracked.outcome);
      await settleWithin([tracked.settled], 10_000);
    }
  } else {
    const settled: Promise<void>[] = [];
    for (let index = 0; index < USER_REQUESTS; index += 1) {
      const tracked = track(contender.instance.get('/item', { headers: { 'x-bench-id': `p${index}` } }), startedAt);
      outcomes.push(tracked.outcome);
      settled.push(tracked.settled);
    }
    await settleWithin(settled, 20_000);
  }
  const server = await control.stats();
  contender.dispose();

  const summary = summarise(outcomes);
  const tokenPerUser = round(server.tokenRequests / USER_REQUESTS, 2);
  const apiPerUser = round(server.apiCalls / USER_REQUESTS, 2);
  const mode = concurrency === 1 ? 'sequential' : 'concurrent';
  const data = { contender: name, mode, userRequests: USER_REQUESTS, ...summary, tokenRequests: server.tokenRequests, apiCalls: server.apiCalls, tokenRequestsPerUserRequest: tokenPerUser, apiCallsPerUserRequest: apiPerUser };
  const row: Row = {
    scenario: `persistent 401, ${USER_REQUESTS} ${mode}`,
    contender: name,
    figures:
      `${tokenPerUser} token req and ${apiPerUser} API calls per user request (${server.tokenRequests} / ${server.apiCalls}); ` +
      `${summary.failed} failed, ${summary.hung} hung; ends: ${formatReasons(summary.reasons)}`,
    target: '',
    verdict: '',
  };
  if (name === 'axios-oauth-queue') {
    row.target = 'fewer than 1 token request per user request';
    row.verdict = verdict(server.tokenRequests < USER_REQUESTS && summary.hung === 0);
  }
  return { data, row };
}

async function run(context: ScenarioContext): Promise<ScenarioResult> {
  const rows: Row[] = [];
  const runs: Record<string, unknown>[] = [];
  for (const concurrency of [1, 50] as const) {
    for (const name of REFRESHING) {
      const { data, row } = await persistent(context, name, concurrency);
      runs.push(data);
      rows.push(row);
      context.log(`${concurrency}, ${name}: ${row.figures}`);
    }
  }
  await context.control.reset();
  return { scenario: 'persistent-401', data: { runs }, rows };
}

export const persistent401: Scenario = { name: 'persistent-401', needsServer: true, run };
