/**
 * The `anthropic` backend: the Messages API (POST /v1/messages) streamed as server-sent events,
 * through @anthropic-ai/sdk. Event order on the wire: message_start (model, input tokens),
 * content_block_start, content_block_delta (text_delta pieces), content_block_stop,
 * message_delta (stop_reason, output tokens), message_stop; `ping` may come at any point.
 */
import Anthropic from '@anthropic-ai/sdk';
import type { LlmBackendConfig } from '../../config/llm.js';
import { runAttempt, type AttemptConfig, type OpenStream } from '../attempt.js';
import { normalizeStopReason, type LlmBackend, type LlmChunk, type LlmRequest } from '../backend.js';
import type { KeySource } from '../keys.js';

/** The public API root, used when `base_url` is unset (the SDK's ANTHROPIC_BASE_URL is not consulted). */
export const ANTHROPIC_BASE_URL = 'https://api.anthropic.com';

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
  readonly #attempt: AttemptConfig;
  #client: { key: string | undefined; client: Anthropic } | undefined;

  /** @param keys where the key comes from (shared with nothing else: its cache is this backend's). */
  constructor(config: LlmBackendConfig, keys: KeySource) {
    this.name = config.name;
    this.model = config.model;
    this.baseUrl = config.baseUrl ?? ANTHROPIC_BASE_URL;
    this.#maxTokens = config.maxTokens;
    this.#attempt = { backend: this.name, baseUrl: this.baseUrl, model: this.model, keys, timeoutSeconds: config.timeoutSeconds };
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

  async *#open({ key, signal, alive, request }: Parameters<OpenStream>[0]): AsyncGenerator<LlmChunk> {
    const stream = await this.#clientFor(key).messages.create(
      {
        model: this.model,
        max_tokens: request.maxTokens ?? this.#maxTokens,
        ...(request.system ? { system: request.system } : {}),
        messages: request.messages.map((m) => ({ role: m.role, content: m.content })),
        stream: true,
      },
      { signal },
    );
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
        case 'content_block_delta':
          // Only text is shown; thinking and tool-input deltas are not part of the answer.
          if (event.delta.type === 'text_delta' && event.delta.text) yield { type: 'text', text: event.delta.text };
          break;
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
