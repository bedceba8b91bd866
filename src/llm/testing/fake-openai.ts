/**
 * A fake OpenAI-compatible API on loopback, speaking the real wire format
 * (https://platform.openai.com/docs/api-reference/chat-streaming): `POST /v1/chat/completions`
 * with `stream: true` answers `data: {chat.completion.chunk}` lines (a role chunk, one chunk per
 * piece, a chunk with finish_reason, a usage chunk with no choices when
 * `stream_options.include_usage` was asked for) and `data: [DONE]`. Errors are
 * `{"error":{"message","type","param","code"}}`. A `tools` behaviour streams `delta.tool_calls`
 * (index, id, type and name in the first piece, then argument pieces) and finishes with
 * "tool_calls"; the results come back as `role: "tool"` messages (toolResultsOf reads them). `GET /v1/models` lists `models`, as Ollama,
 * LM Studio and vLLM do. Scripted per test through `enqueue`; `baseUrl` goes into `base_url`.
 */
import type { ServerResponse } from 'node:http';
import { FakeLlmServer, jsonPieces, pause, sse, startSse, type FakeBehaviour, type RecordedRequest, type SentToolResult } from './fake-server.js';

/** OpenAI's error `type` and `code` for each status. */
const ERRORS: Record<number, { type: string; code: string | null }> = {
  400: { type: 'invalid_request_error', code: null },
  401: { type: 'invalid_request_error', code: 'invalid_api_key' },
  403: { type: 'invalid_request_error', code: 'unsupported_country_region_territory' },
  404: { type: 'invalid_request_error', code: 'model_not_found' },
  429: { type: 'requests', code: 'rate_limit_exceeded' },
  500: { type: 'server_error', code: null },
  503: { type: 'server_error', code: null },
};

let ids = 0;

function writeError(res: ServerResponse, status: number, message: string | undefined, headers: Record<string, string>): void {
  const { type, code } = ERRORS[status] ?? { type: status >= 500 ? 'server_error' : 'invalid_request_error', code: null };
  res.writeHead(status, { 'content-type': 'application/json', 'x-request-id': `req_fake${++ids}`, ...headers });
  res.end(JSON.stringify({ error: { message: message ?? `fake ${type}`, type, param: null, code } }));
}

export class FakeOpenAiServer extends FakeLlmServer {
  /** Ids listed by GET /v1/models. */
  models: string[] = ['fake-model-1', 'fake-model-2'];
  /** Answer 401 to requests without `Authorization: Bearer …` (false: a keyless local server). */
  requireKey = true;
  /** Answer 400 to `stream_options`, as some older compatible servers did. */
  rejectStreamOptions = false;

  static async start(): Promise<FakeOpenAiServer> {
    const server = new FakeOpenAiServer();
    await server.listen();
    return server;
  }

  /** What `base_url` should be: `http://127.0.0.1:<port>/v1`. */
  get baseUrl(): string {
    return `${this.origin}/v1`;
  }

  protected isCompletion(method: string, path: string): boolean {
    return method === 'POST' && path.split('?')[0] === '/v1/chat/completions';
  }

  /** The 400/401 a real server gives for a request it would not accept; undefined when it is acceptable. */
  #rejection(req: RecordedRequest): { status: number; message: string } | undefined {
    if (this.requireKey && !/^Bearer \S+/.test(String(req.headers.authorization ?? ''))) {
      return { status: 401, message: "You didn't provide an API key." };
    }
    const body = req.body as { model?: unknown; messages?: unknown; stream_options?: unknown } | undefined;
    if (typeof body?.model !== 'string') return { status: 400, message: 'you must provide a model parameter' };
    if (!Array.isArray(body.messages) || body.messages.length === 0) return { status: 400, message: "'messages' must contain at least one message" };
    if (this.rejectStreamOptions && body.stream_options !== undefined) {
      return { status: 400, message: 'Unrecognized request argument supplied: stream_options' };
    }
    return undefined;
  }

  protected async writeStream(res: ServerResponse, pieces: string[], behaviour: FakeBehaviour, req: RecordedRequest, last: boolean): Promise<void> {
    const bad = this.#rejection(req);
    if (bad) return writeError(res, bad.status, bad.message, {});
    const s = behaviour.kind === 'stream' ? behaviour : undefined;
    const t = behaviour.kind === 'tools' ? behaviour : undefined;
    const body = req.body as { model: string; stream_options?: { include_usage?: boolean } };
    const base = {
      id: `chatcmpl-fake${++ids}`, object: 'chat.completion.chunk', created: Math.floor(Date.now() / 1000),
      model: s?.model ?? body.model, system_fingerprint: 'fp_fake',
    };
    const includeUsage = body.stream_options?.include_usage === true;
    // With include_usage every chunk carries `usage: null` except the last one, as OpenAI sends it.
    const choice = (delta: object, finish: string | null) => ({
      ...base, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }], ...(includeUsage ? { usage: null } : {}),
    });
    startSse(res, { 'x-request-id': base.id });
    sse(res, choice({ role: 'assistant', content: '', refusal: null }, null));
    for (const content of pieces) {
      if (s?.pieceDelayMs) await pause(s.pieceDelayMs);
      sse(res, choice({ content }, null));
    }
    if (!last) return;
    (t?.calls ?? []).forEach((call, index) => {
      const id = call.id ?? `call_fake${++ids}`;
      sse(res, choice({ tool_calls: [{ index, id, type: 'function', function: { name: call.name, arguments: '' } }] }, null));
      for (const args of jsonPieces(JSON.stringify(call.input))) sse(res, choice({ tool_calls: [{ index, function: { arguments: args } }] }, null));
    });
    sse(res, choice({}, t ? 'tool_calls' : s?.stopReason ?? 'stop'));
    if (includeUsage) {
      const usage = s?.usage ?? t?.usage ?? { input: 42, output: pieces.length };
      sse(res, { ...base, choices: [], usage: { prompt_tokens: usage.input, completion_tokens: usage.output, total_tokens: usage.input + usage.output } });
    }
    sse(res, '[DONE]');
    res.end();
  }

  protected writeError(res: ServerResponse, status: number, message: string | undefined, headers: Record<string, string>): void {
    writeError(res, status, message, headers);
  }

  toolResultsOf(req: RecordedRequest): SentToolResult[] {
    const messages = (req.body as { messages?: Array<Record<string, unknown>> } | undefined)?.messages ?? [];
    return messages.filter((m) => m.role === 'tool').map((m) => {
      const content = typeof m.content === 'string' ? m.content : JSON.stringify(m.content);
      return { id: String(m.tool_call_id), content, isError: content.startsWith('error: ') };
    });
  }

  toolsOf(req: RecordedRequest): string[] {
    const tools = (req.body as { tools?: Array<{ function?: { name?: string } }> } | undefined)?.tools ?? [];
    return tools.map((t) => String(t.function?.name));
  }

  protected other(req: RecordedRequest, res: ServerResponse): void {
    if (req.method === 'GET' && req.path.split('?')[0] === '/v1/models') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ object: 'list', data: this.models.map((id) => ({ id, object: 'model', created: 1700000000, owned_by: 'library' })) }));
      return;
    }
    writeError(res, 404, `Invalid URL (${req.method} ${req.path})`, {});
  }
}
