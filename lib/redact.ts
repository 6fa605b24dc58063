// Cleans an axios error before it reaches the caller. The Authorization header we
// attached becomes "Bearer [REDACTED]", and every path from the error to a raw
// request object is cut, not merely hidden: a ClientRequest holds the header text
// of its request, and a keep-alive agent holds the sockets (and so the header
// text) of every other request in flight, whatever handle sent them.
// util.inspect with showHidden shows non-enumerable properties and symbols, so
// hiding is not enough: the raw objects are replaced by small stand-ins.

import { PassThrough, pipeline } from 'node:stream';
import type { AxiosError, AxiosResponse, InternalAxiosRequestConfig } from 'axios';

export const REDACTED_AUTHORIZATION = 'Bearer [REDACTED]';

const INSPECT_CUSTOM = Symbol.for('nodejs.util.inspect.custom');
/** How deep a `cause` chain is followed; real chains are two or three long. */
const MAX_CAUSE_DEPTH = 8;

/** Cleans an error of a request that was sent with a token: its Authorization header too. */
export function redactAxiosError<T extends AxiosError>(error: T): T {
  const headers = error.config?.headers;
  if (headers !== undefined && typeof headers.has === 'function' && headers.has('Authorization')) {
    headers.set('Authorization', REDACTED_AUTHORIZATION);
  }
  hideRawRequests(error);
  return error;
}

/**
 * Cuts every path from the error to raw request objects, whose header text holds a
 * token: this request's, or, through a shared keep-alive agent, another request's.
 * Used as well on errors of requests sent without a token (skipAuth, other origins),
 * which share the agent with requests that did carry one.
 */
export function hideRawRequests(error: AxiosError): void {
  cleanAxiosError(error, 0);
}

/**
 * For a rejection that is not an axios error itself (an app interceptor wrapped one
 * in its own error): cleans every axios error found down its `cause` chain or in a
 * property of an error on that chain (`wrapper.original`), and hands each to
 * `found`, so the caller can redact its header as well.
 */
export function cleanCauseChain(error: unknown, found: (axiosError: AxiosError) => void = () => {}): void {
  let current: unknown = error;
  for (let depth = 0; depth < MAX_CAUSE_DEPTH && isObject(current); depth += 1) {
    if (isAxiosErrorLike(current)) {
      cleanAxiosError(current, depth);
      found(current);
      return;
    }
    for (const key of Reflect.ownKeys(current)) {
      if (key === 'cause') continue;
      const value = Object.getOwnPropertyDescriptor(current, key)?.value as unknown;
      if (isAxiosErrorLike(value)) {
        cleanAxiosError(value, depth + 1);
        found(value);
      }
    }
    current = (current as { cause?: unknown }).cause;
  }
}

function cleanAxiosError(error: AxiosError, depth: number): void {
  if (error.request !== undefined && error.request !== null) replace(error, 'request', summariseRequest(error.request));
  const response = error.response;
  if (response !== undefined) cleanResponse(response);
  if (error.config !== undefined) cleanConfig(error.config);
  if (response?.config !== undefined && response.config !== error.config) cleanConfig(response.config);
  const cause = (error as { cause?: unknown }).cause;
  if (isObject(cause)) {
    if (isAxiosErrorLike(cause)) {
      if (depth + 1 < MAX_CAUSE_DEPTH) cleanAxiosError(cause, depth + 1);
    } else {
      // axios wraps the transport's own error as `cause`; such errors may link to the
      // socket or the request. A copy keeps what people read (code, errno, message).
      replace(error, 'cause', copyWithoutObjects(cause, depth + 1));
    }
  }
}

function cleanResponse(response: AxiosResponse): void {
  if (response.request !== undefined && response.request !== null) replace(response, 'request', summariseRequest(response.request));
  // A stream response links back to the socket and the request that holds the token;
  // the caller may still read it, through a stream that does not.
  if (isStream(response.data)) replace(response, 'data', detachStream(response.data));
}

function cleanConfig(config: InternalAxiosRequestConfig): void {
  // A stream body was consumed by the send (it cannot be resent) and links to the request it was piped to.
  if (isStream(config.data)) replace(config, 'data', ConsumedStream.instead(config.data));
  for (const key of ['httpAgent', 'httpsAgent'] as const) {
    const agent: unknown = config[key];
    if (isAgent(agent)) replace(config, key, AgentStandIn.for(agent));
  }
}

/** Sets a property whatever its descriptor, keeping it enumerable when it was. */
function replace(target: object, key: string, value: unknown): void {
  const descriptor = Object.getOwnPropertyDescriptor(target, key);
  Object.defineProperty(target, key, { value, enumerable: descriptor?.enumerable ?? true, writable: true, configurable: true });
}

/**
 * What is left of the raw request in an error: its method, protocol, host and path
 * (the request line as it was sent, the query string included), and nothing that
 * links to a socket, an agent or a header. Truthy, so `if (error.request)` still
 * tells "sent, no answer" from "never sent".
 */
export class RequestSummary {
  /** The HTTP method, e.g. `GET`. */
  readonly method: string | undefined;
  /** `http:` or `https:`. */
  readonly protocol: string | undefined;
  /** The host the request went to, with its port when it has one. */
  readonly host: string | undefined;
  /** The path as sent, the query string included. */
  readonly path: string | undefined;

  /** Made by the package when it cleans an error; not meant to be built by apps. */
  constructor(method: string | undefined, protocol: string | undefined, host: string | undefined, path: string | undefined) {
    this.method = method;
    this.protocol = protocol;
    this.host = host;
    this.path = path;
  }
}

/** Reads a ClientRequest, follow-redirects' RedirectableRequest or a fetch Request, by shape. */
function summariseRequest(request: unknown): RequestSummary | unknown {
  if (request instanceof RequestSummary || !isObject(request)) return request;
  const raw = request as Record<string, unknown>;
  // follow-redirects keeps the options of the current hop and its URL.
  const options = isObject(raw['_options']) ? (raw['_options'] as Record<string, unknown>) : undefined;
  const url = stringOrUndefined(raw['_currentUrl']) ?? stringOrUndefined(raw['url']);
  let parsed: URL | undefined;
  if (url !== undefined) {
    try {
      parsed = new URL(url);
    } catch {
      parsed = undefined;
    }
  }
  return new RequestSummary(
    stringOrUndefined(raw['method']) ?? stringOrUndefined(options?.['method']),
    stringOrUndefined(raw['protocol']) ?? stringOrUndefined(options?.['protocol']) ?? parsed?.protocol,
    stringOrUndefined(raw['host']) ?? stringOrUndefined(options?.['hostname']) ?? parsed?.host,
    stringOrUndefined(raw['path']) ?? stringOrUndefined(options?.['path']) ?? (parsed === undefined ? undefined : `${parsed.pathname}${parsed.search}`),
  );
}

/** The parts of an http.Agent that Node's http client and axios read. */
interface AgentLike {
  addRequest(request: unknown, options: unknown): void;
  destroy?(): void;
  protocol?: string;
  defaultPort?: number;
  keepAlive?: boolean;
  maxSockets?: number;
  options?: unknown;
}

const standIns = new WeakMap<object, AgentStandIn>();

/**
 * Takes the place of the app's http(s) agent in an error's config. It sends through
 * that agent (so resending `error.config` pools, pins certificates and proxies as
 * before), but shows nothing of it: the agent lives in a private field, which
 * util.inspect, JSON.stringify and axios's toJSON cannot reach. It is not an
 * `instanceof http.Agent`; the agent itself stays in the instance's defaults.
 */
export class AgentStandIn {
  readonly #agent: AgentLike;

  private constructor(agent: AgentLike) {
    this.#agent = agent;
  }

  /** One stand-in per agent, so that resending keeps one identity (axios caches tunnels per agent). */
  static for(agent: AgentLike): AgentStandIn {
    let standIn = standIns.get(agent);
    if (standIn === undefined) {
      standIn = new AgentStandIn(agent);
      standIns.set(agent, standIn);
    }
    return standIn;
  }

  get protocol(): string | undefined {
    return this.#agent.protocol;
  }

  get defaultPort(): number | undefined {
    return this.#agent.defaultPort;
  }

  get keepAlive(): boolean | undefined {
    return this.#agent.keepAlive;
  }

  get maxSockets(): number | undefined {
    return this.#agent.maxSockets;
  }

  get options(): unknown {
    return this.#agent.options;
  }

  addRequest(request: unknown, options: unknown): void {
    this.#agent.addRequest(request, options);
  }

  destroy(): void {
    this.#agent.destroy?.();
  }

  toJSON(): string {
    return '[Agent]';
  }

  [INSPECT_CUSTOM](): string {
    return `[Agent (${this.#agent.protocol ?? 'http:'}, sockets hidden by axios-oauth-queue)]`;
  }
}

/** Takes the place of a stream (request body or response) in an error: it was consumed and linked to the request. */
export class ConsumedStream {
  /** The stream's class name, for the record. */
  readonly kind: string;

  private constructor(kind: string) {
    this.kind = kind;
  }

  static instead(stream: unknown): ConsumedStream {
    const name = (stream as { constructor?: { name?: unknown } }).constructor?.name;
    return new ConsumedStream(typeof name === 'string' ? name : 'Stream');
  }

  toJSON(): string {
    return `[${this.kind} (stream, not kept by axios-oauth-queue)]`;
  }
}

/** A stream that yields what `stream` yields and links to nothing (only closures know the source). */
function detachStream(stream: unknown): unknown {
  if (typeof (stream as { pipe?: unknown }).pipe === 'function') {
    const detached = new PassThrough();
    pipeline(stream as NodeJS.ReadableStream, detached, () => {});
    return detached;
  }
  const reader = (stream as ReadableStream<unknown>).getReader();
  return new ReadableStream<unknown>({
    async pull(controller) {
      const { done, value } = await reader.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    cancel: (reason) => reader.cancel(reason),
  });
}

/**
 * A copy of an error that keeps its prototype (so `instanceof` still holds) and its
 * primitive properties (message, stack, code, errno, syscall, address, port…),
 * with nested errors copied the same way, and drops every other object.
 */
function copyWithoutObjects(error: object, depth: number): object {
  const copy = Object.create(Object.getPrototypeOf(error) as object | null) as object;
  for (const key of Reflect.ownKeys(error)) {
    const descriptor = Object.getOwnPropertyDescriptor(error, key);
    if (descriptor === undefined || !('value' in descriptor)) continue;
    let value: unknown = descriptor.value;
    if (isObject(value)) {
      if (depth >= MAX_CAUSE_DEPTH) continue;
      if (value instanceof Error) value = copyWithoutObjects(value, depth + 1);
      else if (Array.isArray(value)) value = value.map((entry: unknown) => (entry instanceof Error ? copyWithoutObjects(entry, depth + 1) : isObject(entry) ? undefined : entry));
      else continue;
    }
    Object.defineProperty(copy, key, { ...descriptor, value });
  }
  return copy;
}

/** A Node stream (pipe) or a WHATWG ReadableStream (getReader): consumed by the first send, and linked to it. */
export function isStream(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return false;
  return typeof (value as { pipe?: unknown }).pipe === 'function' || typeof (value as { getReader?: unknown }).getReader === 'function';
}

function isAgent(value: unknown): value is AgentLike {
  return isObject(value) && !(value instanceof AgentStandIn) && typeof (value as { addRequest?: unknown }).addRequest === 'function';
}

function isAxiosErrorLike(value: unknown): value is AxiosError {
  return isObject(value) && (value as { isAxiosError?: unknown }).isAxiosError === true;
}

function isObject(value: unknown): value is object {
  return (typeof value === 'object' || typeof value === 'function') && value !== null;
}

function stringOrUndefined(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
