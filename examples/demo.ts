// `npm run demo`: the queue flow, told as a short story against an embedded
// provider (examples/demo-server.ts) on 127.0.0.1: no network, no account.
//   1. a cold start under 200 concurrent requests,
//   2. tokens expiring under a steady stream of requests,
//   3. a revocation storm of 300 concurrent requests,
//   4. the token endpoint failing, briefly and then for a while, and recovering.
// Each chapter prints what happened as it happens, then a summary table.

import axios from 'axios';
import { attachAuth, OAuthQueueError, type TokenSet } from '../lib/index.js';
import { DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DemoProvider } from './demo-server.js';

const startedAt = Date.now();

function say(line: string): void {
  const seconds = ((Date.now() - startedAt) / 1000).toFixed(2).padStart(6);
  console.log(`${seconds} s  ${line}`);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function secondsLeft(tokenSet: TokenSet): string {
  return tokenSet.expiresAt === undefined ? 'no known expiry' : `valid ${Math.round((tokenSet.expiresAt - Date.now()) / 1000)} s`;
}

/** What the client saw in one chapter, beside what the provider counted. */
interface ChapterRow {
  chapter: string;
  requests: number;
  ok: number;
  failed: number;
  tokenRequests: number;
  api401s: number;
  replays: number;
  peakHeld: number;
  seconds: string;
}

const provider = new DemoProvider();
const baseUrl = await provider.start();
const api = axios.create({ baseURL: baseUrl, timeout: 10_000 });

// Counters the events feed, reset at each chapter.
const tally = { tokens: 0, replays: 0, refreshErrors: 0 };
let showLibraryLog = false;

const auth = attachAuth(api, {
  tokenUrl: `${baseUrl}/oauth2/token`,
  clientId: DEMO_CLIENT_ID,
  clientSecret: DEMO_CLIENT_SECRET,
  // Short backoff so the failing-endpoint chapter stays short; the defaults are 2, 250 ms and 10 s.
  retry: { limit: 2, baseDelay: 100, maxDelay: 1000 },
  events: {
    onToken: (tokenSet) => {
      tally.tokens += 1;
      say(`   ← new token (${secondsLeft(tokenSet)}); requests held right now: ${auth.stats().held}`);
    },
    onReplay: () => {
      tally.replays += 1;
    },
    onRefreshError: (error) => {
      tally.refreshErrors += 1;
      say(`   ✗ refresh failed: ${describeError(error)}`);
    },
  },
  logger: {
    debug: (message) => {
      // The retry lines tell the failing-endpoint chapters; "new token set" lines repeat onToken.
      if (showLibraryLog && !message.includes('new token set')) say(`   · ${message}`);
    },
  },
});

let nextOrder = 1;
let peakHeld = 0;
const sampler = setInterval(() => {
  peakHeld = Math.max(peakHeld, auth.stats().held);
}, 1);
sampler.unref();

interface Outcome {
  ok: number;
  failed: number;
  errors: Map<string, number>;
}

/** Sends `count` requests at once and waits until every one has settled. */
async function burst(count: number): Promise<Outcome> {
  const results = await Promise.allSettled(Array.from({ length: count }, () => api.get(`/orders/${nextOrder++}`)));
  const outcome: Outcome = { ok: 0, failed: 0, errors: new Map() };
  for (const result of results) {
    if (result.status === 'fulfilled') {
      outcome.ok += 1;
      continue;
    }
    outcome.failed += 1;
    const kind = describeError(result.reason);
    outcome.errors.set(kind, (outcome.errors.get(kind) ?? 0) + 1);
  }
  return outcome;
}

function describeError(error: unknown): string {
  if (error instanceof OAuthQueueError) {
    const status = 'status' in error && typeof error.status === 'number' ? `, HTTP ${error.status}` : '';
    return `${error.name} ${error.code}${status}`;
  }
  if (axios.isAxiosError(error)) return `AxiosError ${error.response?.status ?? error.code ?? ''}`;
  return error instanceof Error ? error.name : String(error);
}

const rows: ChapterRow[] = [];

/**
 * Runs one chapter and records its row of the summary. `setup` changes the
 * provider before the counters start; `story` sends the requests.
 */
async function chapter(
  label: string,
  title: string,
  setup: (() => Promise<void>) | undefined,
  story: () => Promise<Outcome & { requests: number }>,
): Promise<void> {
  console.log(`\n${title}`);
  await setup?.();
  provider.reset();
  Object.assign(tally, { tokens: 0, replays: 0, refreshErrors: 0 });
  peakHeld = 0;
  const began = Date.now();
  const outcome = await story();
  const counters = provider.reset();
  for (const [kind, count] of outcome.errors) say(`   ${count} × ${kind}`);
  rows.push({
    chapter: label,
    requests: outcome.requests,
    ok: outcome.ok,
    failed: outcome.failed,
    tokenRequests: counters.tokenRequests,
    api401s: counters.apiUnauthorized,
    replays: tally.replays,
    peakHeld,
    seconds: ((Date.now() - began) / 1000).toFixed(2),
  });
}

await chapter('1 cold start', 'Chapter 1 — cold start: 200 requests at once, and no token yet', undefined, async () => {
  // Hold the token endpoint's answer until the queue has filled, to show who waits.
  provider.beforeTokenAnswer = async () => {
    for (let waited = 0; auth.stats().held < 200 && waited < 1000; waited += 5) await delay(5);
    say(`   token endpoint: 1 token request; ${auth.stats().held} requests held in the queue, ${provider.counters.apiRequests} sent to the API`);
  };
  say('→ sending 200 requests');
  const outcome = await burst(200);
  provider.beforeTokenAnswer = undefined;
  say(`✓ ${outcome.ok} of 200 answered 200 OK with one token; the API saw ${provider.counters.apiUnauthorized} 401s`);
  return { ...outcome, requests: 200 };
});

const switchToShortTokens = async (): Promise<void> => {
  provider.tokenLifetime = 2;
  say('→ the provider now issues 2-second tokens; handle.refresh() picks one up at once');
  await auth.refresh();
};

await chapter('2 expiry under load', 'Chapter 2 — tokens that expire under load: 2-second tokens and a steady stream', switchToShortTokens, async () => {
  say('→ streaming 4 requests every 25 ms for 4.5 s (the refresh window is capped at half the lifetime: 1 s)');
  const pending: Promise<Outcome>[] = [];
  const until = Date.now() + 4500;
  while (Date.now() < until) {
    pending.push(burst(4));
    await delay(25);
  }
  const outcomes = await Promise.all(pending);
  const outcome = outcomes.reduce<Outcome>(
    (sum, next) => {
      for (const [kind, count] of next.errors) sum.errors.set(kind, (sum.errors.get(kind) ?? 0) + count);
      return { ok: sum.ok + next.ok, failed: sum.failed + next.failed, errors: sum.errors };
    },
    { ok: 0, failed: 0, errors: new Map() },
  );
  const requests = outcomes.length * 4;
  say(`✓ ${outcome.ok} of ${requests} OK; ${tally.tokens} tokens renewed in the background while the old one kept working; 401s at the API: ${provider.counters.apiUnauthorized}; most requests ever held: ${peakHeld}`);
  return { ...outcome, requests };
});

const switchToLongTokens = async (): Promise<void> => {
  provider.tokenLifetime = 3600;
  // A background refresh still running may bring one last 2-second token: then ask again.
  let tokenSet = await auth.refresh();
  if ((tokenSet.expiresAt ?? Infinity) - Date.now() < 60_000) tokenSet = await auth.refresh();
  say(`→ the provider goes back to one-hour tokens (${secondsLeft(tokenSet)})`);
};

await chapter('3 revocation storm', 'Chapter 3 — a revocation storm: every token revoked, then 300 requests at once', switchToLongTokens, async () => {
  provider.revokeAll();
  say('→ the provider revokes every token it has issued; sending 300 requests with the revoked one');
  const outcome = await burst(300);
  say(`✓ ${outcome.ok} of 300 OK: ${provider.counters.apiUnauthorized} answered 401, ${tally.replays} replayed once, for ${provider.counters.tokenRequests} token request`);
  return { ...outcome, requests: 300 };
});

await chapter('4a endpoint hiccup', 'Chapter 4a — the token endpoint hiccups: two 500s, then it answers', undefined, async () => {
  showLibraryLog = true;
  provider.failNextTokenRequests = 2;
  provider.revokeAll();
  say('→ revoking every token, so a new one is needed; sending 100 requests');
  const outcome = await burst(100);
  say(`✓ ${outcome.ok} of 100 OK: they waited through ${provider.counters.tokenFailures} failed token requests (backoff with jitter)`);
  return { ...outcome, requests: 100 };
});

await chapter('4b endpoint down', 'Chapter 4b — the token endpoint is down: every token request answers 500', undefined, async () => {
  provider.failNextTokenRequests = Number.POSITIVE_INFINITY;
  provider.revokeAll();
  say('→ revoking every token again; sending 100 requests');
  const outcome = await burst(100);
  say(`✓ all 100 settled, none hangs: ${outcome.failed} rejected with a typed error after the retries (${provider.counters.tokenRequests} token requests)`);
  return { ...outcome, requests: 100 };
});

await chapter('4c endpoint back', 'Chapter 4c — the token endpoint recovers', undefined, async () => {
  provider.failNextTokenRequests = 0;
  showLibraryLog = false;
  say('→ the token endpoint is back; sending 100 requests');
  const outcome = await burst(100);
  say(`✓ ${outcome.ok} of 100 OK with ${provider.counters.tokenRequests} token request`);
  return { ...outcome, requests: 100 };
});

console.log('\nSummary (token requests and 401s as the provider counted them)\n');
printTable(rows);
const stats = auth.stats();
console.log(
  `\nhandle.stats(): ${stats.tokenRequests} token requests, ${stats.refreshes} token sets, ${stats.replays} replays, ${stats.failures} failed refreshes, ${stats.held} held now`,
);

auth.detach();
await provider.close();
console.log(`\nDetached and closed after ${((Date.now() - startedAt) / 1000).toFixed(1)} s; no timer keeps the process alive, so it exits now.`);
// Only fires if something still holds the event loop open, which would be a bug.
setTimeout(() => {
  console.error('the process did not exit after detach()');
  process.exit(1);
}, 5000).unref();

function printTable(table: readonly ChapterRow[]): void {
  const columns: { key: keyof ChapterRow; title: string }[] = [
    { key: 'chapter', title: 'chapter' },
    { key: 'requests', title: 'requests' },
    { key: 'ok', title: 'ok' },
    { key: 'failed', title: 'failed' },
    { key: 'tokenRequests', title: 'token requests' },
    { key: 'api401s', title: '401s at API' },
    { key: 'replays', title: 'replays' },
    { key: 'peakHeld', title: 'peak held' },
    { key: 'seconds', title: 'seconds' },
  ];
  const cells = table.map((row) => columns.map(({ key }) => String(row[key])));
  const widths = columns.map(({ title }, index) => Math.max(title.length, ...cells.map((line) => (line[index] ?? '').length)));
  const format = (line: readonly string[]): string =>
    line.map((cell, index) => (index === 0 ? cell.padEnd(widths[index] ?? 0) : cell.padStart(widths[index] ?? 0))).join('  ');
  console.log(format(columns.map(({ title }) => title)));
  console.log(format(widths.map((width) => '-'.repeat(width))));
  for (const line of cells) console.log(format(line));
}
