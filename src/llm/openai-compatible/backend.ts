/**
 * The `openai_compat` backend: Chat Completions (POST {base_url}/chat/completions) streamed as
 * `data: {chat.completion.chunk}` lines ending in `data: [DONE]`, through the openai SDK. Speaks to
 * OpenAI and to everything that copies its API: Ollama, LM Studio, vLLM, llama.cpp, DeepSeek,
 * OpenRouter, Groq, Mistral, ...
 * With tools, the request has `tools` (type "function", JSON Schema parameters); the model's calls
 * stream as `delta.tool_calls` pieces (index, then id and name once, arguments in JSON pieces),
 * complete at the chunk with finish_reason "tool_calls"; results go back as `role: "tool"` messages.
 */
import OpenAI from 'openai';
import type { ChatCompletionCreateParamsStreaming, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import type { LlmBackendConfig } from '../../config/llm.js';
import { runAttempt, type AttemptConfig, type OpenStream } from '../attempt.js';
import { normalizeStopReason, type LlmBackend, type LlmChunk, type LlmMessage, type LlmRequest } from '../backend.js';
import type { KeySource } from '../keys.js';
import { flattenToolTurns, parseToolInput, refusesTools, sendsTools } from '../tool-wire.js';

/** The public API root, used when `base_url` is unset (OPENAI_BASE_URL is not consulted). */
export const OPENAI_BASE_URL = 'https://api.openai.com/v1';

/**
 * The name of the answer-length parameter for `baseUrl`: OpenAI's own API wants
 * `max_completion_tokens` (its reasoning models refuse `max_tokens`); compatible servers know
 * `max_tokens`, and not all of them the newer name.
 */
export function tokenParameter(baseUrl: string): 'max_tokens' | 'max_completion_tokens' {
  return new URL(baseUrl).hostname === 'api.openai.com' ? 'max_completion_tokens' : 'max_tokens';
}

/** True when a 400 says the server does not know `stream_options` (some older compatible servers). */
function rejectsStreamOptions(err: unknown): boolean {
  return err instanceof OpenAI.APIError && err.status === 400 && /stream_options/i.test(err.message);
}

/** A turn as Chat Completions messages: a tool message per result, then the user's text; an assistant turn with its tool_calls. */
function chatMessages(m: LlmMessage): ChatCompletionMessageParam[] {
  if (m.role === 'assistant') {
    if (!m.toolCalls?.length) return [{ role: 'assistant', content: m.content }];
    return [{
      role: 'assistant',
      content: m.content === '' ? null : m.content,
      tool_calls: m.toolCalls.map((c) => ({ id: c.id, type: 'function' as const, function: { name: c.name, arguments: JSON.stringify(c.input) } })),
    }];
  }
  const out: ChatCompletionMessageParam[] = (m.toolResults ?? []).map((r) => ({
    role: 'tool' as const, tool_call_id: r.id, content: r.isError ? `error: ${r.content}` : r.content,
  }));
  if (m.content !== '' || out.length === 0) out.push({ role: 'user', content: m.content });
  return out;
}

export class OpenAiCompatBackend implements LlmBackend {
  readonly kind = 'openai_compat' as const;
  readonly name: string;
  readonly model: string;
  readonly baseUrl: string;
  readonly #maxTokens: number;
  readonly #attempt: AttemptConfig;
  readonly #tokenParam: 'max_tokens' | 'max_completion_tokens';
  /** Ask for a final usage chunk; turned off for good when the server rejects the option. */
  #includeUsage = true;
  /** `tools` of the backend's table; turned off for good when the server refuses tools. */
  #tools: boolean;
  #client: { key: string | undefined; client: OpenAI } | undefined;

  /** @param keys where the key comes from (its cache is this backend's). */
  constructor(config: LlmBackendConfig, keys: KeySource) {
    this.name = config.name;
    this.model = config.model;
    this.baseUrl = config.baseUrl ?? OPENAI_BASE_URL;
    this.#maxTokens = config.maxTokens;
    this.#tokenParam = tokenParameter(this.baseUrl);
    this.#tools = config.tools !== false;
    this.#attempt = { backend: this.name, baseUrl: this.baseUrl, model: this.model, keys, timeoutSeconds: config.timeoutSeconds };
  }

  get supportsTools(): boolean {
    return this.#tools;
  }

  stream(request: LlmRequest): AsyncIterable<LlmChunk> {
    return runAttempt(this.#attempt, request, (args) => this.#open(args));
  }

  #clientFor(key: string | undefined): OpenAI {
    if (!this.#client || this.#client.key !== key) {
      const client = new OpenAI({
        // The SDK insists on a key; a keyless local server ignores this one.
        apiKey: key ?? 'none',
        baseURL: this.baseUrl,
        // null keeps OPENAI_ORG_ID / OPENAI_PROJECT_ID of the daemon's environment out of requests
        // to servers that are not OpenAI's.
        organization: null,
        project: null,
        maxRetries: 0, // retry.ts retries, the same way for every backend
        logLevel: 'off', // nothing may reach a terminal
      });
      this.#client = { key, client };
    }
    return this.#client.client;
  }

  #params(request: LlmRequest): ChatCompletionCreateParamsStreaming {
    const tools = sendsTools(request, this.#tools);
    const messages: ChatCompletionCreateParamsStreaming['messages'] = request.system ? [{ role: 'system', content: request.system }] : [];
    for (const m of tools ? request.messages : flattenToolTurns(request.messages)) messages.push(...chatMessages(m));
    return {
      model: this.model,
      messages,
      stream: true,
      ...(tools ? {
        tools: (request.tools ?? []).map((t) => ({ type: 'function' as const, function: { name: t.name, description: t.description, parameters: t.inputSchema } })),
        tool_choice: request.toolChoice ?? 'auto',
      } : {}),
      [this.#tokenParam]: request.maxTokens ?? this.#maxTokens,
      ...(this.#includeUsage ? { stream_options: { include_usage: true } } : {}),
    };
  }

  async *#open({ key, signal, alive, request }: Parameters<OpenStream>[0]): AsyncGenerator<LlmChunk> {
    const client = this.#clientFor(key);
    let stream;
    // At most one retry for each option the server may not know (stream_options, tools).
    for (let tries = 0; ; tries++) {
      try {
        stream = await client.chat.completions.create(this.#params(request), { signal });
        break;
      } catch (err) {
        if (tries < 2 && this.#includeUsage && rejectsStreamOptions(err)) this.#includeUsage = false;
        else if (tries < 2 && sendsTools(request, this.#tools) && err instanceof OpenAI.APIError && refusesTools(err.status, err.message)) this.#tools = false;
        else throw err;
      }
    }
    /** Tool calls being streamed, by their index in delta.tool_calls. */
    const calls = new Map<number, { id: string; name: string; json: string }>();
    /** The complete calls, once the finish_reason came. */
    const finished = function* (): Generator<LlmChunk> {
      for (const [, c] of [...calls].sort(([a], [b]) => a - b)) {
        yield { type: 'tool-call', call: { id: c.id || `call_${c.name}`, name: c.name, input: parseToolInput(c.json) } };
      }
      calls.clear();
    };
    let model = this.model;
    let finish: string | null = null;
    const usage = { inputTokens: 0, outputTokens: 0 };
    const done = (): LlmChunk => ({ type: 'done', usage, model, stopReason: normalizeStopReason(finish), providerStopReason: finish });
    try {
      for await (const chunk of stream) {
        alive();
        if (chunk.model) model = chunk.model;
        // With include_usage the last chunk has `usage` and no choices.
        if (chunk.usage) {
          usage.inputTokens = chunk.usage.prompt_tokens ?? 0;
          usage.outputTokens = chunk.usage.completion_tokens ?? 0;
        }
        const choice = chunk.choices[0];
        if (choice?.delta?.content) yield { type: 'text', text: choice.delta.content };
        for (const piece of choice?.delta?.tool_calls ?? []) {
          const call = calls.get(piece.index) ?? calls.set(piece.index, { id: '', name: '', json: '' }).get(piece.index)!;
          if (piece.id) call.id = piece.id;
          if (piece.function?.name && !call.name) call.name = piece.function.name;
          if (piece.function?.arguments) call.json += piece.function.arguments;
        }
        if (choice?.finish_reason) {
          finish = choice.finish_reason;
          yield* finished();
        }
      }
    } catch (err) {
      // The answer was complete (finish_reason came); only the usage chunk or [DONE] was lost.
      if (finish !== null && !signal.aborted) {
        yield done();
        return;
      }
      throw err;
    }
    // Without a finish_reason the answer may be cut short: runAttempt reports it as incomplete.
    if (finish !== null) yield done();
  }
}
