/**
 * Turns whatever an SDK call threw into an LlmBackendError with one line for the user. Both SDKs
 * are generated the same way (an APIError with `status`, `headers` and the parsed error body;
 * connection errors without a status), so one mapping serves both.
 */
import { LlmBackendError } from '../common/errors.js';

/** What the mapping needs to know about the request that failed. */
export interface FailureContext {
  /** Backend's config name. */
  backend: string;
  baseUrl: string;
  model: string;
  /** What to check after a 401 (KeySource.hint). */
  keyHint: string;
  /** Seconds of silence after which the request was abandoned. */
  timeoutSeconds: number;
  /** Our watchdog fired (rather than the caller cancelling). */
  timedOut: boolean;
  /** The caller's signal fired. */
  aborted: boolean;
}

/** Statuses the providers document as worth retrying (Anthropic also uses 529 "overloaded"). */
function retryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

/**
 * How long the server asked us to wait: `retry-after-ms` (OpenAI), else `retry-after` in seconds
 * or as an HTTP date (RFC 9110 §10.2.3).
 * @returns milliseconds (≥ 0), or undefined when there is no usable header.
 */
export function parseRetryAfterMs(headers: Headers | undefined, now: number = Date.now()): number | undefined {
  const ms = Number(headers?.get('retry-after-ms') ?? NaN);
  if (Number.isFinite(ms) && ms >= 0) return ms;
  const value = headers?.get('retry-after');
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** The provider's own explanation from an error body, first line, shortened; undefined when there is none. */
function serverDetail(body: unknown): string | undefined {
  const b = body as { error?: { message?: unknown }; message?: unknown } | undefined;
  const message = b?.error?.message ?? b?.message;
  if (typeof message !== 'string' || message.trim() === '') return undefined;
  const line = message.trim().split('\n')[0] ?? '';
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}

interface HttpFailure {
  status: number;
  headers?: Headers;
  error?: unknown;
}

function isHttpFailure(err: unknown): err is HttpFailure {
  return err instanceof Error && typeof (err as { status?: unknown }).status === 'number';
}

/** The innermost cause's message: "fetch failed" alone says nothing, ECONNREFUSED does. */
function rootMessage(err: unknown): string {
  let e: unknown = err;
  for (let i = 0; i < 5 && e instanceof Error && e.cause !== undefined; i++) e = e.cause;
  const code = (e as { code?: unknown } | undefined)?.code;
  const message = e instanceof Error ? e.message : String(e);
  // errno codes (ECONNREFUSED, ENOTFOUND) tell the user something; undici's own (UND_ERR_*) do not.
  return typeof code === 'string' && /^E[A-Z]+$/.test(code) && !message.includes(code) ? `${code} ${message}` : message;
}

/**
 * Maps an SDK error (or any error from a request) onto an LlmBackendError.
 * @returns an LlmBackendError as is; otherwise a new one with `cause` set to `err`.
 */
export function toBackendError(err: unknown, ctx: FailureContext): LlmBackendError {
  if (err instanceof LlmBackendError) return err;
  const { backend } = ctx;
  const fail = (message: string, reason: LlmBackendError['reason'], retryable: boolean, status?: number, retryAfterMs?: number) =>
    new LlmBackendError(`${backend}: ${message}`, { backend, reason, retryable, status, retryAfterMs, cause: err });
  // Flags first: an abort surfaces from the SDK as a user-abort error, whoever aborted.
  if (ctx.aborted) return fail('request cancelled', 'aborted', false);
  if (ctx.timedOut) return fail(`no response from ${ctx.baseUrl} within ${ctx.timeoutSeconds} s (timeout_seconds)`, 'timeout', true);
  if (!isHttpFailure(err)) return fail(`connection to ${ctx.baseUrl} failed: ${rootMessage(err)}`, 'network', true);
  const { status } = err;
  const retryAfterMs = parseRetryAfterMs(err.headers);
  // Never quote the server after a 401: OpenAI's message repeats part of the key.
  if (status === 401) return fail(`authentication failed (401): check ${ctx.keyHint}`, 'auth', false, status);
  const detail = serverDetail(err.error);
  const suffix = detail ? `: ${detail}` : '';
  if (status === 403) return fail(`permission denied (403)${suffix}`, 'permission', false, status);
  if (status === 404) return fail(`not found (404): check model "${ctx.model}" and base_url ${ctx.baseUrl}${suffix}`, 'not_found', false, status);
  if (status === 429) return fail(`rate limited (429)${suffix}`, 'rate_limit', true, status, retryAfterMs);
  if (retryableStatus(status)) {
    const what = status === 529 ? 'overloaded' : status >= 500 ? 'server error' : 'request failed';
    return fail(`${what} (${status})${suffix}`, 'server', true, status, retryAfterMs);
  }
  return fail(`request rejected (${status})${suffix}`, 'bad_request', false, status);
}

/** The error for a stream that ended without the provider's end-of-message event. */
export function incompleteError(ctx: Pick<FailureContext, 'backend' | 'baseUrl'>): LlmBackendError {
  return new LlmBackendError(`${ctx.backend}: the answer from ${ctx.baseUrl} broke off before its end`, {
    backend: ctx.backend, reason: 'incomplete', retryable: true,
  });
}
