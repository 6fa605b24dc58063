// OpenTelemetry for the token flow, opt-in (`telemetry`): a span per token
// request and instruments that mirror `handle.stats()`. `@opentelemetry/api`
// is an optional peer, imported on first use only when `telemetry: true`; a
// tracer and a meter can also be given directly. No attribute ever holds a
// secret: the endpoint's origin, the grant type, the outcome, the attempt.

import type { AuthStats } from './token-manager.js';

/** Attribute values as OpenTelemetry takes them. */
export type TelemetryAttributes = Record<string, string | number | boolean>;

/** The parts of an OpenTelemetry `Span` used here. */
export interface TelemetrySpan {
  /** Sets one attribute of the span. */
  setAttribute(key: string, value: string | number | boolean): unknown;
  /** Sets the span's status: `code` 1 is OK, 2 is ERROR. */
  setStatus(status: { code: number; message?: string }): unknown;
  /** Ends the span. */
  end(): void;
}

/** The parts of an OpenTelemetry `Tracer` used here (`trace.getTracer(name)` is one). */
export interface TelemetryTracer {
  /** Starts a span; `kind` 2 is CLIENT. */
  startSpan(name: string, options?: { kind?: number; attributes?: TelemetryAttributes }): TelemetrySpan;
}

/** The parts of an OpenTelemetry `ObservableResult` used here. */
export interface TelemetryObservation {
  /** Reports the current value of an observable instrument. */
  observe(value: number, attributes?: TelemetryAttributes): void;
}

/** A counter: `add` counts. */
export interface TelemetryCounter {
  /** Adds `value` to the counter. */
  add(value: number, attributes?: TelemetryAttributes): void;
}

/** A histogram: `record` records one measurement. */
export interface TelemetryHistogram {
  /** Records one measurement. */
  record(value: number, attributes?: TelemetryAttributes): void;
}

/** An observable instrument: its callback is called when the exporter collects. */
export interface TelemetryObservable {
  /** Registers the callback that reports the current value. */
  addCallback(callback: (result: TelemetryObservation) => void): void;
}

/** Name, description and unit of an instrument. */
export interface TelemetryInstrumentOptions {
  /** What the instrument measures. */
  description?: string;
  /** The unit, e.g. `s`. */
  unit?: string;
}

/** The parts of an OpenTelemetry `Meter` used here (`metrics.getMeter(name)` is one). */
export interface TelemetryMeter {
  /** Creates a counter. */
  createCounter(name: string, options?: TelemetryInstrumentOptions): TelemetryCounter;
  /** Creates a histogram. */
  createHistogram(name: string, options?: TelemetryInstrumentOptions): TelemetryHistogram;
  /** Creates an observable counter (a total read when collected). */
  createObservableCounter(name: string, options?: TelemetryInstrumentOptions): TelemetryObservable;
  /** Creates an observable gauge (a current value read when collected). */
  createObservableGauge(name: string, options?: TelemetryInstrumentOptions): TelemetryObservable;
}

/** Where spans and metrics go. Without them, `@opentelemetry/api`'s global tracer and meter. */
export interface TelemetryOptions {
  /** Where spans go. Default: `trace.getTracer('axios-oauth-queue')` of `@opentelemetry/api`. */
  tracer?: TelemetryTracer;
  /** Where metrics go. Default: `metrics.getMeter('axios-oauth-queue')` of `@opentelemetry/api`. */
  meter?: TelemetryMeter;
}

/** OpenTelemetry's SpanKind.CLIENT and SpanStatusCode.ERROR / OK, as numbers so the API need not be loaded to name them. */
const SPAN_KIND_CLIENT = 2;
const STATUS_OK = 1;
const STATUS_ERROR = 2;
const NAME = 'axios-oauth-queue';

interface Instruments {
  tracer: TelemetryTracer | undefined;
  tokenRequests: TelemetryCounter | undefined;
  duration: TelemetryHistogram | undefined;
}

/** One per handle, when `telemetry` is set. */
export class Telemetry {
  readonly #origin: string;
  readonly #ready: Promise<Instruments>;

  constructor(option: true | TelemetryOptions, tokenEndpoint: string, stats: () => AuthStats) {
    this.#origin = new URL(tokenEndpoint).origin;
    this.#ready = resolveProviders(option).then(({ tracer, meter }) => {
      if (meter === undefined) return { tracer, tokenRequests: undefined, duration: undefined };
      observeStats(meter, stats);
      return {
        tracer,
        tokenRequests: meter.createCounter('oauth_queue.token_requests', { description: 'HTTP requests sent to the token endpoint, by outcome' }),
        duration: meter.createHistogram('oauth_queue.token_request.duration', { description: 'Time a token request took', unit: 's' }),
      };
    });
    // A failure to load is a no-op, never an unhandled rejection.
    this.#ready.catch(() => {});
  }

  /** Runs one token request inside a span, and counts and times it. */
  async traceTokenRequest<T>(grantType: string, attempt: number, send: () => Promise<T>): Promise<T> {
    const { tracer, tokenRequests, duration } = await this.#ready.catch(() => ({ tracer: undefined, tokenRequests: undefined, duration: undefined }));
    const attributes: TelemetryAttributes = { 'oauth.token_endpoint.origin': this.#origin, 'oauth.grant_type': grantType, 'oauth.attempt': attempt };
    const span = tracer?.startSpan('oauth token request', { kind: SPAN_KIND_CLIENT, attributes });
    const startedAt = performance.now();
    const finish = (outcome: string, errorCode?: string): void => {
      const result = { ...attributes, 'oauth.outcome': outcome, ...(errorCode === undefined ? {} : { 'error.type': errorCode }) };
      tokenRequests?.add(1, result);
      duration?.record((performance.now() - startedAt) / 1000, result);
      if (span !== undefined) {
        span.setAttribute('oauth.outcome', outcome);
        if (errorCode !== undefined) span.setAttribute('error.type', errorCode);
        // The code only: a description may echo what the client sent.
        span.setStatus(errorCode === undefined ? { code: STATUS_OK } : { code: STATUS_ERROR, message: errorCode });
        span.end();
      }
    };
    try {
      const answer = await send();
      finish('success');
      return answer;
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      finish((error as { transient?: unknown }).transient === true ? 'transient_error' : 'error', typeof code === 'string' ? code.slice(0, 100) : 'unknown');
      throw error;
    }
  }
}

async function resolveProviders(option: true | TelemetryOptions): Promise<{ tracer: TelemetryTracer | undefined; meter: TelemetryMeter | undefined }> {
  if (option !== true && option.tracer !== undefined && option.meter !== undefined) return { tracer: option.tracer, meter: option.meter };
  let api: { trace: { getTracer(name: string): TelemetryTracer }; metrics: { getMeter(name: string): TelemetryMeter } } | undefined;
  try {
    api = (await import('@opentelemetry/api')) as unknown as typeof api;
  } catch {
    api = undefined; // Not installed: telemetry is a no-op.
  }
  const given = option === true ? {} : option;
  return { tracer: given.tracer ?? api?.trace.getTracer(NAME), meter: given.meter ?? api?.metrics.getMeter(NAME) };
}

/** The counters of `handle.stats()`, read when the exporter collects. */
function observeStats(meter: TelemetryMeter, stats: () => AuthStats): void {
  const counters: [keyof AuthStats, string, string][] = [
    ['refreshes', 'oauth_queue.refreshes', 'Token sets obtained (from the endpoint or the store)'],
    ['replays', 'oauth_queue.replays', 'Requests replayed after a 401'],
    ['failures', 'oauth_queue.refresh_failures', 'Refreshes that failed after their retries'],
  ];
  for (const [field, name, description] of counters) meter.createObservableCounter(name, { description }).addCallback((result) => result.observe(stats()[field]));
  meter.createObservableGauge('oauth_queue.held_requests', { description: 'Requests waiting for a token right now' }).addCallback((result) => result.observe(stats().held));
  meter.createObservableGauge('oauth_queue.token_requests_in_flight', { description: 'Token requests running right now' }).addCallback((result) => result.observe(stats().tokenRequestsInFlight));
}
