/**
 * Retries and fallback, the same for every backend. A request is retried (exponential backoff with
 * jitter, `retry-after` honoured up to a cap) on 429, 5xx, network errors, broken streams and
 * timeouts, at most 3 attempts in all; then the `[llm] fallback` backends are tried in order. Both
 * happen only before the first piece of text (or tool call) reached the caller: text already shown
 * is never repeated, so a failure after it ends the answer with an error.
 */
import { LlmBackendError } from '../common/errors.js';
import type { LlmBackend, LlmChunk, LlmRequest } from './backend.js';

export interface RetryOptions {
  /** Attempts per backend, the first included (default 3). */
  maxAttempts?: number;
  /** Delay before the first retry (ms; default 500); doubled for each further one. */
  baseDelayMs?: number;
  /** Upper bound of a computed delay (ms; default 8000). */
  maxDelayMs?: number;
  /** Upper bound of a delay the server asked for with retry-after (ms; default 20000). */
  maxRetryAfterMs?: number;
  /** Source of jitter in [0, 1) (default Math.random; tests pin it). */
  random?: () => number;
  /** Told about each failed attempt: `retryInMs` is undefined when this backend is given up. */
  onFailure?: (failure: { backend: string; attempt: number; error: LlmBackendError; retryInMs?: number }) => void;
}

const DEFAULTS = { maxAttempts: 3, baseDelayMs: 500, maxDelayMs: 8000, maxRetryAfterMs: 20_000, random: Math.random };

/**
 * Delay before retry number `retry` (1 = the first retry), in ms: the server's retry-after when it
 * gave one (capped), else base·2^(retry−1) capped, scaled by a random factor in [0.5, 1) so that
 * clients which failed together do not retry together.
 */
export function retryDelayMs(retry: number, error: LlmBackendError, options: RetryOptions = {}): number {
  const o = { ...DEFAULTS, ...options };
  if (error.retryAfterMs !== undefined) return Math.min(error.retryAfterMs, o.maxRetryAfterMs);
  const exponential = Math.min(o.baseDelayMs * 2 ** (retry - 1), o.maxDelayMs);
  return Math.round(exponential * (0.5 + o.random() / 2));
}

/** Waits `ms`, or less when `signal` fires. */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * Streams `request` from `backend`, retrying retryable failures that happen before any text.
 * @throws LlmBackendError: the last attempt's error, or the first one that was not retryable or
 *   came after text had been yielded.
 */
export async function* withRetry(backend: LlmBackend, request: LlmRequest, options: RetryOptions = {}): AsyncGenerator<LlmChunk> {
  const maxAttempts = options.maxAttempts ?? DEFAULTS.maxAttempts;
  for (let attempt = 1; ; attempt++) {
    let sawText = false;
    try {
      for await (const chunk of backend.stream(request)) {
        // A tool call is output too: a retry would make the model call it again.
        if (chunk.type !== 'done') sawText = true;
        yield chunk;
      }
      return;
    } catch (err) {
      const error = asBackendError(err, backend.name);
      const retry = error.retryable && !sawText && attempt < maxAttempts && !request.signal?.aborted;
      const retryInMs = retry ? retryDelayMs(attempt, error, options) : undefined;
      options.onFailure?.({ backend: backend.name, attempt, error, retryInMs });
      if (retryInMs === undefined) throw error;
      await sleep(retryInMs, request.signal);
      if (request.signal?.aborted) {
        throw new LlmBackendError(`${backend.name}: request cancelled`, { backend: backend.name, reason: 'aborted', retryable: false });
      }
    }
  }
}

/** A streamed answer from the first backend that gave one. */
export interface FallbackStream extends AsyncIterable<LlmChunk> {
  /** The backend whose answer is being streamed; undefined until its first chunk arrived. */
  readonly backend: LlmBackend | undefined;
  /** Final errors of the backends given up before one answered, in the order tried. */
  readonly failures: readonly LlmBackendError[];
}

/** Every backend failed. The message has each one's reason; `failures` has the errors. */
export class AllBackendsFailedError extends LlmBackendError {
  readonly failures: readonly LlmBackendError[];
  constructor(failures: readonly LlmBackendError[]) {
    const last = failures[failures.length - 1] as LlmBackendError;
    super(failures.map((f) => f.message).join('; then '), {
      backend: last.backend, reason: last.reason, retryable: false, status: last.status, cause: last,
    });
    this.failures = failures;
  }
}

/**
 * Streams `request` from `backends[0]` (with retries), then from each next one in turn while the
 * previous failed before yielding anything. A cancelled request is not passed on.
 * @param backends the default first, then the fallbacks; at least one.
 * @returns a one-shot iterable; the error (while iterating) is the only backend's LlmBackendError,
 *   or an AllBackendsFailedError when there were several, or the error of the backend that failed
 *   after text had been yielded.
 */
export function withFallback(backends: readonly LlmBackend[], request: LlmRequest, options: RetryOptions = {}): FallbackStream {
  if (backends.length === 0) throw new Error('withFallback: no backends');
  const failures: LlmBackendError[] = [];
  let answering: LlmBackend | undefined;
  async function* run(): AsyncGenerator<LlmChunk> {
    for (const backend of backends) {
      let answered = false;
      try {
        for await (const chunk of withRetry(backend, request, options)) {
          if (!answered) answering = backend;
          answered = true;
          yield chunk;
        }
        return;
      } catch (err) {
        const error = asBackendError(err, backend.name);
        if (answered || error.reason === 'aborted') throw error;
        failures.push(error);
      }
    }
    throw failures.length === 1 ? failures[0] : new AllBackendsFailedError(failures);
  }
  const chunks = run();
  return {
    get backend() {
      return answering;
    },
    failures,
    [Symbol.asyncIterator]: () => chunks,
  };
}

/** A backend must throw LlmBackendError; anything else is a bug, kept as the cause. */
function asBackendError(err: unknown, backend: string): LlmBackendError {
  if (err instanceof LlmBackendError) return err;
  return new LlmBackendError(`${backend}: ${err instanceof Error ? err.message : String(err)}`, {
    backend, reason: 'network', retryable: false, cause: err,
  });
}
