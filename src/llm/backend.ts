/**
 * The one interface every LLM backend implements (src/llm/anthropic/, src/llm/openai-compatible/),
 * checked by one shared contract test (backend.contract.test.ts). A backend makes exactly one
 * attempt per `stream()` call, apart from one re-run of `api_key_cmd` after a 401: retries with
 * backoff and fallback to other backends live in retry.ts, so they are the same for every provider.
 */
import type { LlmBackendKind } from '../config/llm.js';

export { LlmBackendError, type LlmErrorReason } from '../common/errors.js';
export type { LlmBackendKind } from '../config/llm.js';

/**
 * A tool the model may call (src/llm/tool-loop.ts runs it): its name, what it does (for the model),
 * and its arguments as a JSON Schema object (`{ type: 'object', properties: …, required: … }`).
 */
export interface LlmToolDefinition {
  /** `^[a-zA-Z0-9_-]{1,64}$`, as both providers require. */
  name: string;
  description: string;
  inputSchema: Record<string, unknown>;
}

/** A call of a tool the model asked for, its arguments parsed from the JSON it streamed. */
export interface LlmToolCall {
  /** The provider's id of the call (`toolu_…`, `call_…`): its result must name it. */
  id: string;
  name: string;
  /** The arguments; `{}` when the model sent none or JSON that does not parse (the tool then refuses them). */
  input: Record<string, unknown>;
}

/** What a tool call gave, sent back to the model. The text is untrusted data, redacted and framed by the loop. */
export interface LlmToolResult {
  /** LlmToolCall.id of the call answered. */
  id: string;
  content: string;
  /** True when the tool failed: `content` is its error message. */
  isError?: boolean;
}

/**
 * One turn of the conversation. Terminal text in `content` is data, never instructions (the system
 * prompt says so). An assistant turn may carry the tool calls it made (`toolCalls`), the next user
 * turn their results (`toolResults`, before its `content`, which may then be empty).
 */
export interface LlmMessage {
  role: 'user' | 'assistant';
  content: string;
  /** Assistant turns: the tools the model called, in order. */
  toolCalls?: LlmToolCall[];
  /** User turns: the results of the previous turn's calls, in the same order. */
  toolResults?: LlmToolResult[];
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
  /**
   * Tools the model may call; none = a plain answer. A backend that cannot use tools (`tools = false`
   * in its table, or a provider that refused them) sends the request without them, and writes the
   * tool calls and results of `messages` as text.
   */
  tools?: LlmToolDefinition[];
  /** 'none': the tools are described but may not be called (the last turn of a loop at its limit). Default 'auto'. */
  toolChoice?: 'auto' | 'none';
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
 * `refusal` = declined or filtered, `tool_use` = it waits for the results of its tool calls,
 * `other` = anything else (an unknown value).
 */
export type LlmStopReason = 'end' | 'max_tokens' | 'refusal' | 'tool_use' | 'other';

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

/** A complete tool call (its arguments streamed whole), before the `done` chunk. */
export interface LlmToolCallChunk {
  type: 'tool-call';
  call: LlmToolCall;
}

export type LlmChunk = LlmTextChunk | LlmToolCallChunk | LlmDoneChunk;

/** A configured LLM. Safe to share: each `stream()` call is independent; key caching is per backend. */
export interface LlmBackend {
  /** Config name (`claude` for `[llm.claude]`); starts every error message. */
  readonly name: string;
  readonly kind: LlmBackendKind;
  /** Model id sent to the provider. */
  readonly model: string;
  /** API root the requests go to (for logs and the audit trail). */
  readonly baseUrl: string;
  /** False when this backend sends no tools (`tools = false`, or the provider refused them once). */
  readonly supportsTools: boolean;
  /**
   * Sends one request and streams the answer: text chunks as they arrive, a `tool-call` chunk per
   * complete tool call (only when the request has tools), then one `done` chunk.
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
    case 'tool_use': case 'tool_calls': case 'function_call':
      return 'tool_use';
    default:
      return 'other';
  }
}
