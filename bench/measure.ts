// Small measuring helpers shared by the scenarios: settling many requests under
// a deadline, naming how a request ended, percentiles and medians.

import axios from 'axios';
import { OAuthQueueError } from '../lib/index.js';

export interface Outcome {
  /** ok: resolved; failed: rejected; hung: still pending at the deadline. */
  state: 'ok' | 'failed' | 'hung';
  /** How it failed, e.g. "TokenEndpointError ERR_TOKEN_ENDPOINT_TIMEOUT" or "AxiosError 401". */
  reason?: string;
  /** True when the failure is one of axios-oauth-queue's typed errors. */
  typed?: boolean;
  /** Milliseconds from `startedAt` until it settled. */
  settledAfterMs?: number;
  /** When it settled (epoch ms), to compare with times the server reports. */
  settledAt?: number;
}

export function describeError(error: unknown): { reason: string; typed: boolean } {
  if (error instanceof OAuthQueueError) return { reason: `${error.name} ${error.code}`, typed: true };
  if (axios.isCancel(error)) return { reason: `CanceledError "${(error as Error).message}"`, typed: false };
  if (axios.isAxiosError(error)) {
    const status = error.response?.status;
    return { reason: `AxiosError ${status ?? error.code ?? 'no status'}`, typed: false };
  }
  if (error instanceof Error) return { reason: `${error.name} "${error.message.slice(0, 60)}"`, typed: false };
  return { reason: `non-error ${typeof error}`, typed: false };
}

/** Tracks one request's promise: how it ended and when. */
export function track(promise: Promise<unknown>, startedAt: number): { outcome: Outcome; settled: Promise<void> } {
  const outcome: Outcome = { state: 'hung' };
  const settled = promise.then(
    () => {
      outcome.state = 'ok';
      outcome.settledAfterMs = performance.now() - startedAt;
      outcome.settledAt = Date.now();
    },
    (error: unknown) => {
      const { reason, typed } = describeError(error);
      outcome.state = 'failed';
      outcome.reason = reason;
      outcome.typed = typed;
      outcome.settledAfterMs = performance.now() - startedAt;
      outcome.settledAt = Date.now();
    },
  );
  return { outcome, settled };
}

/** Waits until every tracked request settled or `deadlineMs` passed; the rest stay 'hung'. */
export async function settleWithin(settled: readonly Promise<void>[], deadlineMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, deadlineMs);
  });
  await Promise.race([Promise.all(settled).then(() => undefined), deadline]);
  clearTimeout(timer);
}

export interface OutcomeSummary {
  succeeded: number;
  failed: number;
  hung: number;
  /** Failure reasons and how many requests ended with each. */
  reasons: Record<string, number>;
  /** All failures are axios-oauth-queue's typed errors. */
  allFailuresTyped: boolean;
  /** Milliseconds until the last request settled (hung ones excluded). */
  lastSettledMs: number;
  /** When the last request settled (epoch ms; 0 when none did). */
  lastSettledAt: number;
}

export function summarise(outcomes: readonly Outcome[]): OutcomeSummary {
  const summary: OutcomeSummary = { succeeded: 0, failed: 0, hung: 0, reasons: {}, allFailuresTyped: true, lastSettledMs: 0, lastSettledAt: 0 };
  for (const outcome of outcomes) {
    if (outcome.state === 'ok') summary.succeeded += 1;
    else if (outcome.state === 'hung') summary.hung += 1;
    else {
      summary.failed += 1;
      const reason = outcome.reason ?? 'unknown';
      summary.reasons[reason] = (summary.reasons[reason] ?? 0) + 1;
      if (outcome.typed !== true) summary.allFailuresTyped = false;
    }
    if (outcome.settledAfterMs !== undefined && outcome.settledAfterMs > summary.lastSettledMs) summary.lastSettledMs = outcome.settledAfterMs;
    if (outcome.settledAt !== undefined && outcome.settledAt > summary.lastSettledAt) summary.lastSettledAt = outcome.settledAt;
  }
  summary.lastSettledMs = Math.round(summary.lastSettledMs);
  return summary;
}

/** "TokenEndpointError ERR_TOKEN_ENDPOINT_TIMEOUT ×1000; AxiosError 401 ×3" */
export function formatReasons(reasons: Record<string, number>): string {
  const entries = Object.entries(reasons).sort((a, b) => b[1] - a[1]);
  return entries.length === 0 ? 'none' : entries.map(([reason, count]) => `${reason} ×${count}`).join('; ');
}

/** The value at quantile `q` (0..1) of `values`, nearest rank. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const upper = sorted[middle] ?? Number.NaN;
  return sorted.length % 2 === 1 ? upper : ((sorted[middle - 1] ?? Number.NaN) + upper) / 2;
}

export function round(value: number, digits = 0): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Runs `total` calls of `send`, `concurrency` at a time; returns how many failed. */
export async function runPool(total: number, concurrency: number, send: (index: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  let failures = 0;
  const worker = async (): Promise<void> => {
    while (next < total) {
      const index = next;
      next += 1;
      try {
        await send(index);
      } catch {
        failures += 1;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker));
  return failures;
}
