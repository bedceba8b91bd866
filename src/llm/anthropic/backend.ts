/**
 * The `anthropic` backend: the Messages API (POST /v1/messages) streamed as server-sent events,
 * through @anthropic-ai/sdk. Event order on the wire: message_start (model, input tokens),
 * content_block_start, content_block_delta (text_delta pieces), content_block_stop,
 * message_delta (stop_reason, output tokens), message_stop; `ping` may come at any point.
 * With tools, a `tool_use` content block (id, name) streams its arguments as input_json_delta
 * pieces of JSON; the block is one tool call at its content_block_stop. Results go back as
 * `tool_result` blocks of the next user turn.
 */
import Anthropic from '@anthropic-ai/sdk';
import type { LlmBackendConfig } from '../../config/llm.js';
import { runAttempt, type AttemptConfig, type OpenStream } from '../attempt.js';
import { normalizeStopReason, type LlmBackend, type LlmChunk, type LlmMessage, type LlmRequest } from '../backend.js';
import type { KeySource } from '../keys.js';
import { flattenToolTurns, parseToolInput, refusesTools, sendsTools } from '../tool-wire.js';

/** The public API root, used when `base_url` is unset (the SDK's ANTHROPIC_BASE_URL is not consulted). */
export const ANTHROPIC_BASE_URL = 'https://api.anthropic.com';

/** A turn in the Messages API's shape: tool results first in a user turn, tool calls after the text of an assistant turn. */
function messageParam(m: LlmMessage): Anthropic.MessageParam {
  if (m.role === 'user' && m.toolResults?.length) {
    const blocks: Anthropic.ContentBlockParam[] = m.toolResults.map((r) => ({
      type: 'tool_result', tool_use_id: r.id, content: r.content, ...(r.isError ? { is_error: true } : {}),
    }));
    if (m.content !== '') blocks.push({ type: 'text', text: m.content });
    return { role: 'user', content: blocks };
  }
  if (m.role === 'assistant' && m.toolCalls?.length) {
    const blocks: Anthropic.ContentBlockParam[] = m.content === '' ? [] : [{ type: 'text', text: m.content }];
    for (const c of m.toolCalls) blocks.push({ type: 'tool_use', id: c.id, name: c.name, input: c.input });
    return { role: 'assistant', content: blocks };
  }
  return { role: m.role, content: m.content };
}

/** Input tokens as billed: plain input plus cache writes and reads (null when not reported). */
function inputTokens(u: { input_tokens?: number | null; cache_creation_input_tokens?: number | null; cache_read_input_tokens?: number | null }): number {
  return (u.input_tokens ?? 0) + (u.cache_creation_input_tokens ?? 0) + (u.cache_read_input_tokens ?? 0);
}

export class AnthropicBackend implements LlmBackend {
  readonly kind = 'anthropic' as const;
  readonly name: string;
  readonly model: string;
  readonly baseUrl: string;
  readonly #maxTokens: number;
  /** `tools` of the backend's table; turned off for good when the provider refuses tools. */
  #tools: boolean;
  readonly #attempt: AttemptConfig;
  #client: { key: string | undefined; client: Anthropic } | undefined;

  /** @param keys where the key comes from (shared with nothing else: its cache is this backend's). */
  constructor(config: LlmBackendConfig, keys: KeySource) {
    this.name = config.name;
    this.model = config.model;
    this.baseUrl = config.baseUrl ?? ANTHROPIC_BASE_URL;
    this.#maxTokens = config.maxTokens;
    this.#tools = config.tools !== false;
    this.#attempt = { backend: this.name, baseUrl: this.baseUrl, model: this.model, keys, timeoutSeconds: config.timeoutSeconds };
  }

  get supportsTools(): boolean {
    return this.#tools;
  }

  stream(request: LlmRequest): AsyncIterable<LlmChunk> {
    return runAttempt(this.#attempt, request, (args) => this.#open(args));
  }

  /** One client per key: a new key (after a 401 and a re-run of api_key_cmd) gets a new client. */
  #clientFor(key: string | undefined): Anthropic {
    if (this.#client?.key !== key || !this.#client) {
      const client = new Anthropic({
        // A keyless local server still needs some credential, or the SDK would search the
        // environment and the disk for one and send it there.
        apiKey: key ?? 'none',
        baseURL: this.baseUrl,
        maxRetries: 0, // retry.ts retries, the same way for every backend
        logLevel: 'off', // the daemon logs through pino; nothing may reach a terminal
      });
      this.#client = { key, client };
    }
    return this.#client.client;
  }

  #params(request: LlmRequest): Anthropic.MessageCreateParamsStreaming {
    const tools = sendsTools(request, this.#tools);
    return {
      model: this.model,
      max_tokens: request.maxTokens ?? this.#maxTokens,
      ...(request.system ? { system: request.system } : {}),
      messages: (tools ? request.messages : flattenToolTurns(request.messages)).map(messageParam),
      ...(tools ? {
        tools: (request.tools ?? []).map((t) => ({ name: t.name, description: t.description, input_schema: t.inputSchema as Anthropic.Tool.InputSchema })),
        tool_choice: { type: request.toolChoice ?? 'auto' },
      } : {}),
      stream: true,
    };
  }

  async *#open({ key, signal, alive, request }: Parameters<OpenStream>[0]): AsyncGenerator<LlmChunk> {
    const client = this.#clientFor(key);
    let stream;
    try {
      stream = await client.messages.create(this.#params(request), { signal });
    } catch (err) {
      // A model or proxy without tools: this request and every later one go without them.
      if (!sendsTools(request, this.#tools) || !(err instanceof Anthropic.APIError) || !refusesTools(err.status, err.message)) throw err;
      this.#tools = false;
      stream = await client.messages.create(this.#params(request), { signal });
    }
    /** The tool_use blocks being streamed, by content block index. */
    const calls = new Map<number, { id: string; name: string; json: string }>();
    let model = this.model;
    let input = 0;
    let output = 0;
    let stop: string | null = null;
    for await (const event of stream) {
      alive();
      switch (event.type) {
        case 'message_start':
          model = event.message.model || model;
          input = inputTokens(event.message.usage);
          output = event.message.usage.output_tokens;
          break;
        case 'content_block_start':
          if (event.content_block.type === 'tool_use') calls.set(event.index, { id: event.content_block.id, name: event.content_block.name, json: '' });
          break;
        case 'content_block_delta':
          // Text is the answer; tool input is collected until its block ends; thinking is neither.
          if (event.delta.type === 'text_delta' && event.delta.text) yield { type: 'text', text: event.delta.text };
          else if (event.delta.type === 'input_json_delta') {
            const call = calls.get(event.index);
            if (call) call.json += event.delta.partial_json;
          }
          break;
        case 'content_block_stop': {
          const call = calls.get(event.index);
          if (call) {
            calls.delete(event.index);
            yield { type: 'tool-call', call: { id: call.id, name: call.name, input: parseToolInput(call.json) } };
          }
          break;
        }
        case 'message_delta':
          stop = event.delta.stop_reason ?? stop;
          output = event.usage.output_tokens; // cumulative
          if (event.usage.input_tokens != null) input = inputTokens(event.usage);
          break;
        case 'message_stop':
          yield { type: 'done', usage: { inputTokens: input, outputTokens: output }, model, stopReason: normalizeStopReason(stop), providerStopReason: stop };
          return;
        default:
          break;
      }
    }
  }
}
