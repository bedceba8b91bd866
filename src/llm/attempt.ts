/**
 * What every backend does around its SDK call: get the key, watch for silence (timeout_seconds),
 * honour the caller's cancel signal, map errors, insist on a complete answer, and after a 401 run
 * `api_key_cmd` again once (the key may have been rotated since it was cached).
 */
import type { LlmChunk, LlmRequest } from './backend.js';
import { incompleteError, toBackendError } from './errors.js';
import type { KeySource } from './keys.js';

/** The provider-specific part: one HTTP request, its events turned into chunks. */
export type OpenStream = (args: {
  /** The key, or undefined for a keyless local server. */
  key: string | undefined;
  /** Aborts the HTTP request (timeout, cancel, or the consumer stopped reading). */
  signal: AbortSignal;
  /** To be called on every event received (pings included): it resets the silence timer. */
  alive: () => void;
  request: LlmRequest;
}) => AsyncIterable<LlmChunk>;

export interface AttemptConfig {
  backend: string;
  baseUrl: string;
  model: string;
  keys: KeySource;
  /** Longest silence (s) before the response starts, and between two streamed events. */
  timeoutSeconds: number;
}

/**
 * Aborts a request after `ms` without progress, or when the caller's signal fires. Why not the
 * SDKs' `timeout`: it only covers the wait for the response headers, and a stream can stall after.
 */
class Watchdog {
  readonly #controller = new AbortController();
  readonly #outer: AbortSignal | undefined;
  readonly #ms: number;
  #timer: ReturnType<typeof setTimeout> | undefined;
  timedOut = false;
  aborted = false;

  constructor(ms: number, outer: AbortSignal | undefined) {
    this.#ms = ms;
    this.#outer = outer;
    outer?.addEventListener('abort', this.#onAbort, { once: true });
    this.kick();
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  readonly #onAbort = (): void => {
    this.aborted = true;
    this.#controller.abort();
  };

  /** Progress: restart the timer. */
  kick(): void {
    this.pause();
    this.#timer = setTimeout(() => {
      this.timedOut = true;
      this.#controller.abort();
    }, this.#ms);
  }

  /** The consumer holds a chunk: its slowness is not the server's silence. */
  pause(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Ends the request (a no-op once the response is complete) and releases the listener. */
  dispose(): void {
    this.pause();
    this.#outer?.removeEventListener('abort', this.#onAbort);
    this.#controller.abort();
  }
}

/**
 * Runs one request through `open` with a key, a watchdog and error mapping.
 * @throws LlmBackendError for every failure (see LlmBackend.stream).
 */
export async function* runAttempt(cfg: AttemptConfig, request: LlmRequest, open: OpenStream): AsyncGenerator<LlmChunk> {
  const context = { backend: cfg.backend, baseUrl: cfg.baseUrl, model: cfg.model, keyHint: cfg.keys.hint, timeoutSeconds: cfg.timeoutSeconds };
  let rekeyed = false;
  for (;;) {
    if (request.signal?.aborted) throw toBackendError(new Error('aborted'), { ...context, timedOut: false, aborted: true });
    const key = await cfg.keys.get();
    const dog = new Watchdog(cfg.timeoutSeconds * 1000, request.signal);
    let sawText = false;
    let sawDone = false;
    try {
      for await (const chunk of open({ key, signal: dog.signal, alive: () => dog.kick(), request })) {
        // A tool call counts as output: the caller acts on it, so it must not come twice.
        if (chunk.type === 'done') sawDone = true;
        else sawText = true;
        dog.pause();
        yield chunk;
        dog.kick();
      }
      // An SDK may end the iteration quietly on abort rather than throw.
      if (dog.timedOut || dog.aborted) throw new Error('aborted');
      if (!sawDone) throw incompleteError(context);
      return;
    } catch (err) {
      const e = toBackendError(err, { ...context, timedOut: dog.timedOut, aborted: dog.aborted });
      if (e.reason === 'auth') {
        cfg.keys.invalidate();
        // Once per request: a rotated key fixes it on the first re-run, a wrong one never does.
        if (cfg.keys.refreshable && !rekeyed && !sawText) {
          rekeyed = true;
          continue;
        }
      }
      throw e;
    } finally {
      dog.dispose();
    }
  }
}

