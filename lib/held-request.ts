// A request held in the paused queue still obeys its caller: an abort (signal or
// cancelToken) or its own timeout lets it go at once with the error axios itself
// would have thrown, while the shared refresh goes on for everyone else.

import axios, { type InternalAxiosRequestConfig } from 'axios';

export interface HeldWatch {
  signal: AbortSignal;
  cleanup: () => void;
}

/**
 * An AbortSignal that fires when the caller aborts (signal or cancelToken) or the
 * request's own timeout passes while it is held; its reason is the error axios
 * itself would have thrown, so callers see the errors they already handle.
 */
export function watchHeldRequest(config: InternalAxiosRequestConfig): HeldWatch | undefined {
  const { signal, cancelToken } = config;
  const timeout = config.timeout ?? 0;
  if (signal === undefined && cancelToken === undefined && !(timeout > 0)) return undefined;
  const controller = new AbortController();
  const cleanups: (() => void)[] = [];
  const cancel = (): void => {
    controller.abort(new axios.CanceledError(undefined, config));
  };
  if (signal !== undefined) {
    if (signal.aborted) cancel();
    else if (typeof signal.addEventListener === 'function') {
      signal.addEventListener('abort', cancel);
      cleanups.push(() => signal.removeEventListener?.('abort', cancel));
    }
  }
  if (cancelToken !== undefined) {
    const onCancel = (reason: unknown): void => {
      controller.abort(reason ?? new axios.CanceledError(undefined, config));
    };
    if (cancelToken.reason !== undefined) onCancel(cancelToken.reason);
    else {
      cancelToken.subscribe(onCancel);
      cleanups.push(() => cancelToken.unsubscribe(onCancel));
    }
  }
  if (timeout > 0) {
    const timer = setTimeout(() => {
      const clarify = config.transitional?.clarifyTimeoutError === true;
      const message = config.timeoutErrorMessage ?? `timeout of ${timeout}ms exceeded`;
      controller.abort(new axios.AxiosError(message, clarify ? axios.AxiosError.ETIMEDOUT : axios.AxiosError.ECONNABORTED, config));
    }, timeout);
    timer.unref();
    cleanups.push(() => clearTimeout(timer));
  }
  return {
    signal: controller.signal,
    cleanup: () => {
      for (const cleanup of cleanups) cleanup();
    },
  };
}
