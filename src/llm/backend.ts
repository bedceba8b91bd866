/**
 * The one interface every LLM backend implements (src/llm/anthropic/, src/llm/openai-compatible/),
 * checked by one shared contract test (backend.contract.test.ts). A backend makes exactly one
 * attempt per `stream()` call, apart from one re-run of `api_key_cmd` after a 401: retries with
 * backoff and fallback to other backends live in retry.ts, so they are the same for every provider.
 */
import type { LlmBackendKind } from '../config/llm.js';

export { LlmBackendError, type LlmErrorReason } from '../common/errors.js';
export type { LlmBackendKind } from '../config/llm.js';

/** One turn of the conversation. Terminal text in `content` is data, never instructions (the system prompt says so). */
export interface LlmMessage {
  role: 'user' | 'assistant';
  content: string;
}

/** What a caller asks of a backend. */
export interface LlmRequest {
  /** System prompt; empty = none. */
  system: string;
  /** The conversation, oldest first; the last one is the user's question. */
  messages: LlmMessage[];
  /** Upper bound on the answer (tokens); undefined = the backend's `max_tokens`. */
  maxTokens?: number;
  /** Cancels the request (Ctrl-C): the stream then throws an LlmBackendError with reason "aborted". */
  signal?: AbortSignal;
}

/** Tokens counted by the provider for one request. 0 when the provider did not report them. */
export interface LlmUsage {
  /** Tokens of the prompt (system + messages), cache reads and writes included. */
  inputTokens: number;
  /** Tokens of the answer. */
  outputTokens: number;
}

/**
 * Why the model stopped: `end` = finished its answer, `max_tokens` = cut at the length limit,
 * `refusal` = declined or filtered, `other` = anything else (tool use, an unknown value).
 */
export type LlmStopReason = 'end' | 'max_tokens' | 'refusal' | 'other';

/** A piece of streamed answer text, in order; concatenated they are the answer. */
export interface LlmTextChunk {
  type: 'text';
  text: string;
}

/** The last chunk of a complete answer. A stream that ends without it threw instead. */
export interface LlmDoneChunk {
  type: 'done';
  usage: LlmUsage;
  /** Model that answered, as the provider names it (it may add a date or tag to the configured id). */
  model: string;
  stopReason: LlmStopReason;
  /** The provider's own word for it (`end_turn`, `stop`, `length`, ...), or null when it sent none. */
  providerStopReason: string | null;
}

export type LlmChunk = LlmTextChunk | LlmDoneChunk;

/** A configured LLM. Safe to share: each `stream()` call is independent; key caching is per backend. */
export interface LlmBackend {
  /** Config name (`claude` for `[llm.claude]`); starts every error message. */
  readonly name: string;
  readonly kind: LlmBackendKind;
  /** Model id sent to the provider. */
  readonly model: string;
  /** API root the requests go to (for logs and the audit trail). */
  readonly baseUrl: string;
  /**
   * Sends one request and streams the answer: text chunks as they arrive, then one `done` chunk.
   * Nothing is sent before iteration starts; breaking out of the loop cancels the HTTP request.
   * @throws LlmBackendError (while iterating) for every failure: HTTP errors, network errors, a
   *   stream that broke off, a timeout (`timeout_seconds` with nothing received), cancellation,
   *   a key that could not be obtained. `retryable` says whether another attempt may succeed.
   */
  stream(request: LlmRequest): AsyncIterable<LlmChunk>;
}

/** Maps a provider's stop reason onto LlmStopReason. */
export function normalizeStopReason(raw: string | null | undefined): LlmStopReason {
  switch (raw) {
    case 'end_turn': case 'stop_sequence': case 'stop':
      return 'end';
    case 'max_tokens': case 'length': case 'model_context_window_exceeded':
      return 'max_tokens';
    case 'refusal': case 'content_filter':
      return 'refusal';
    default:
      return 'other';
  }
}
