// Scenario 4, token endpoint failing during a storm: the tokens are revoked and
// the token endpoint answers 500, 200 with HTML, 400 invalid_client, or not at
// all. How does each request end, and how long until every one has settled?

import { REFRESHING, createContender, type ContenderName } from '../contenders.js';
import { formatReasons, settleWithin, summarise, track, type Outcome } from '../measure.js';
import type { TokenMode } from '../server.js';
import { verdict, type Row, type Scenario, type ScenarioContext, type ScenarioResult } from '../scenario.js';

/** The token request timeout given to every contender here (axios-oauth-queue's default is 10 s). */
const TOKEN_TIMEOUT_MS = 2_000;
/** axios-oauth-queue's defaults: 2 retries of transient failures, backoff ceilings 250 and 500 ms. */
const RETRY_LIMIT = 2;
const BACKOFF_CEILINGS_MS = 250 + 500;
/** Event-loop delay allowed on a shared machine (settling 1,000 rejections, timers firing late). */
const SCHEDULING_SLACK_MS = 500;
/** Every attempt may take the whole timeout, plus the longest backoff between them. */
const SETTLE_BUDGET_MS = (RETRY_LIMIT + 1) * TOKEN_TIMEOUT_MS + BACKOFF_CEILINGS_MS + SCHEDULING_SLACK_MS;
const DEADLINE_MS = 20_000;

const MODES: readonly { mode: TokenMode; label: string }[] = [
  { mode: '500', label: '500' },
  { mode: 'html', label: '200 with HTML' },
  { mode: 'invalid_client', label: '400 invalid_client' },
  { mode: 'hang', label: 'no answer (hang)' },
];

async function failing(context: ScenarioContext, name: ContenderName, mode: TokenMode, label: string, requests: number): Promise<{ data: Record<string, unknown>; row: Row }> {
  const { control } = context;
  await control.reset();
  const contender = await createContender(name, { origin: context.origin, tokenTimeoutMs: TOKEN_TIMEOUT_MS });
  await contender.warm();
  await control.resetCounters();
  await control.revoke();
  await control.configure({ tokenMode: mode });

  const outcomes: Outcome[] = [];
  const settled: Promise<void>[] = [];
  const startedAt = performance.now();
  for (let index = 0; index < requests; index += 1) {
    const tracked = track(contender.instance.get('/item', { headers: { 'x-bench-id': `f${index}` } }), startedAt);
    outcomes.push(tracked.outcome);
    settled.push(tracked.settled);
  }
  await settleWithin(settled, DEADLINE_MS);
  const server = await control.stats();
  await control.reset();
  contender.dispose();

  const summary = summarise(outcomes);
  // The token timeout runs from the first token request, not from the first API
  // request: the storm's own 401s come first and take a while with 1,000 requests.
  const sinceTokenRequestMs = server.firstTokenRequestAt > 0 && summary.lastSettledAt > 0 ? summary.lastSettledAt - server.firstTokenRequestAt : undefined;
  const data = { contender: name, tokenMode: mode, requests, tokenTimeoutMs: TOKEN_TIMEOUT_MS, ...summary, settledAfterFirstTokenRequestMs: sinceTokenRequestMs, tokenRequests: server.tokenRequests, tokenRequestOffsetsMs: server.tokenRequestOffsets, tokenMaxInFlight: server.tokenMaxInFlight, apiCalls: server.apiCalls };
  const row: Row = {
    scenario: `token endpoint ${label}, ${requests} requests`,
    contender: name,
    figures:
      `${summary.succeeded} ok, ${summary.failed} failed, ${summary.hung} hung; all settled ${summary.lastSettledMs} ms after the first request, ` +
      (sinceTokenRequestMs === undefined ? 'no token request; ' : `${sinceTokenRequestMs} ms (${(sinceTokenRequestMs / TOKEN_TIMEOUT_MS).toFixed(2)}× token timeout) after the first token request; `) +
      `${server.tokenRequests} token req (max ${server.tokenMaxInFlight} in flight); ` +
      `ends: ${formatReasons(summary.reasons)}`,
    target: '',
    verdict: '',
  };
  if (name === 'axios-oauth-queue') {
    row.target =
      `all settle with a typed error, none hangs, within ${SETTLE_BUDGET_MS} ms of the first token request ` +
      `(${RETRY_LIMIT + 1} attempts × ${TOKEN_TIMEOUT_MS} ms + ${BACKOFF_CEILINGS_MS} ms backoff + ${SCHEDULING_SLACK_MS} ms slack)`;
    row.verdict = verdict(summary.hung === 0 && summary.succeeded === 0 && summary.allFailuresTyped && sinceTokenRequestMs !== undefined && sinceTokenRequestMs <= SETTLE_BUDGET_MS);
  }
  return { data, row };
}

async function run(context: ScenarioContext): Promise<ScenarioResult> {
  const requests = context.quick ? 200 : 1_000;
  const rows: Row[] = [];
  const runs: Record<string, unknown>[] = [];
  for (const { mode, label } of MODES) {
    for (const name of REFRESHING) {
      const { data, row } = await failing(context, name, mode, label, requests);
      runs.push(data);
      rows.push(row);
      context.log(`${mode}, ${name}: ${row.figures}`);
    }
  }
  return { scenario: 'failing-endpoint', data: { tokenTimeoutMs: TOKEN_TIMEOUT_MS, settleBudgetMs: SETTLE_BUDGET_MS, runs }, rows };
}

export const failingEndpoint: Scenario = { name: 'failing-endpoint', needsServer: true, run };
