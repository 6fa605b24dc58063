// Scenario 2, revocation storm: every token is revoked, then N concurrent
// requests go out with the revoked token, and a second wave of 100 starts while
// the refresh is in flight. Optionally the API's answers are spread over 300 ms,
// so that 401s keep arriving after the new token is there.

import { REFRESHING, createContender, type ContenderName } from '../contenders.js';
import { formatReasons, settleWithin, summarise, track, type Outcome } from '../measure.js';
import { verdict, type Row, type Scenario, type ScenarioContext, type ScenarioResult } from '../scenario.js';

const SECOND_WAVE = 100;
/** The token endpoint takes this long, so that the refresh is visibly in flight. */
const TOKEN_DELAY_MS = 100;
const DEADLINE_MS = 20_000;

interface Variant {
  requests: number;
  apiSpreadMs: number;
}

async function storm(context: ScenarioContext, name: ContenderName, variant: Variant): Promise<{ data: Record<string, unknown>; row: Row }> {
  const { control } = context;
  await control.reset();
  const contender = await createContender(name, { origin: context.origin });
  await contender.warm();
  await control.configure({ tokenDelayMs: TOKEN_DELAY_MS, apiSpreadMs: variant.apiSpreadMs });
  await control.resetCounters();
  await control.revoke();

  const outcomes: Outcome[] = [];
  const settled: Promise<void>[] = [];
  const startedAt = performance.now();
  const send = (id: string): void => {
    const tracked = track(contender.instance.get('/item', { headers: { 'x-bench-id': id } }), startedAt);
    outcomes.push(tracked.outcome);
    settled.push(tracked.settled);
  };
  for (let index = 0; index < variant.requests; index += 1) send(`a${index}`);
  const refreshSeen = await control.tokenRequestInFlight();
  for (let index = 0; index < SECOND_WAVE; index += 1) send(`b${index}`);
  await settleWithin(settled, DEADLINE_MS);
  const wallMs = Math.round(performance.now() - startedAt);
  const server = await control.stats();
  contender.dispose();

  const summary = summarise(outcomes);
  const total = variant.requests + SECOND_WAVE;
  const label = `storm, ${variant.requests.toLocaleString('en-US')} + ${SECOND_WAVE}${variant.apiSpreadMs > 0 ? `, answers over ${variant.apiSpreadMs} ms` : ''}`;
  const data = {
    requests: variant.requests,
    secondWave: SECOND_WAVE,
    secondWaveDuringRefresh: refreshSeen,
    apiSpreadMs: variant.apiSpreadMs,
    ...summary,
    wallMs,
    tokenRequests: server.tokenRequests,
    tokenMaxInFlight: server.tokenMaxInFlight,
    apiCalls: server.apiCalls,
    api401: server.api401,
    maxSendsPerRequest: server.maxSendsPerId,
  };
  const row: Row = {
    scenario: label,
    contender: name,
    figures:
      `${summary.succeeded}/${total} ok, ${summary.failed} failed, ${summary.hung} hung; ` +
      `${server.tokenRequests} token req (max ${server.tokenMaxInFlight} in flight); ${server.apiCalls} API calls (max ${server.maxSendsPerId} per request); ${wallMs} ms` +
      (summary.failed > 0 ? `; failures: ${formatReasons(summary.reasons)}` : '') +
      (refreshSeen ? '' : '; second wave started after the refresh'),
    target: '',
    verdict: '',
  };
  if (name === 'axios-oauth-queue') {
    row.target = 'all succeed; 1 token request; never 2 in flight; each request sent ≤ 2 times';
    row.verdict = verdict(summary.succeeded === total && server.tokenRequests === 1 && server.tokenMaxInFlight <= 1 && server.maxSendsPerId <= 2);
  }
  return { data: { contender: name, ...data }, row };
}

async function run(context: ScenarioContext): Promise<ScenarioResult> {
  const sizes = context.quick ? [1_000] : [1_000, 10_000];
  const variants: Variant[] = [];
  for (const apiSpreadMs of [0, 300]) for (const requests of sizes) variants.push({ requests, apiSpreadMs });
  const rows: Row[] = [];
  const runs: Record<string, unknown>[] = [];
  for (const variant of variants) {
    for (const name of REFRESHING) {
      const { data, row } = await storm(context, name, variant);
      runs.push(data);
      rows.push(row);
      context.log(`${row.scenario}, ${name}: ${row.figures}`);
    }
  }
  await context.control.reset();
  return { scenario: 'storm', data: { runs }, rows };
}

export const stormScenario: Scenario = { name: 'storm', needsServer: true, run };
