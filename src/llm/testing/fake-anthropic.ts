/**
 * A fake Anthropic Messages API on loopback, speaking the real wire format
 * (https://docs.anthropic.com/en/api/messages-streaming): `POST /v1/messages` with `stream: true`
 * answers `text/event-stream` with message_start, content_block_start, ping, content_block_delta
 * (text_delta) per piece, content_block_stop, message_delta (stop_reason, usage), message_stop.
 * Errors are `{"type":"error","error":{"type":...,"message":...}}` with the matching status.
 * A `tools` behaviour adds a `tool_use` block per call (content_block_start with id and name,
 * input_json_delta pieces, content_block_stop) and stops with `tool_use`; the results come back
 * as `tool_result` blocks of the next user turn (toolResultsOf reads them).
 * Scripted per test through `enqueue` (see FakeBehaviour); `baseUrl` goes into `base_url`.
 */
import type { ServerResponse } from 'node:http';
import { FakeLlmServer, jsonPieces, pause, sse, startSse, type FakeBehaviour, type RecordedRequest, type SentToolResult } from './fake-server.js';

/** Anthropic's error type for each status (https://docs.anthropic.com/en/api/errors). */
const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error', 401: 'authentication_error', 403: 'permission_error', 404: 'not_found_error',
  413: 'request_too_large', 429: 'rate_limit_error', 500: 'api_error', 529: 'overloaded_error',
};

let ids = 0;
const requestId = (): string => `req_fake${String(++ids).padStart(6, '0')}`;

function writeError(res: ServerResponse, status: number, message: string | undefined, headers: Record<string, string>): void {
  const type = ERROR_TYPES[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error');
  const body = { type: 'error', error: { type, message: message ?? `fake ${type}` }, request_id: requestId() };
  res.writeHead(status, { 'content-type': 'application/json', 'request-id': body.request_id, ...headers });
  res.end(JSON.stringify(body));
}

/** The 400/401 the real API gives for a request it would not accept; undefined when it is acceptable. */
function rejection(req: RecordedRequest): { status: number; message: string } | undefined {
  if (!req.headers['x-api-key'] && !req.headers.authorization) return { status: 401, message: 'x-api-key header is required' };
  if (!req.headers['anthropic-version']) return { status: 400, message: 'anthropic-version: header is required' };
  const body = req.body as { model?: unknown; max_tokens?: unknown; messages?: unknown } | undefined;
  if (typeof body?.model !== 'string') return { status: 400, message: 'model: Field required' };
  if (typeof body.max_tokens !== 'number') return { status: 400, message: 'max_tokens: Field required' };
  if (!Array.isArray(body.messages) || body.messages.length === 0) return { status: 400, message: 'messages: at least one message is required' };
  return undefined;
}

/** A fake Anthropic API. `await FakeAnthropicServer.start()`, then `close()` when done. */
export class FakeAnthropicServer extends FakeLlmServer {
  static async start(): Promise<FakeAnthropicServer> {
    const server = new FakeAnthropicServer();
    await server.listen();
    return server;
  }

  /** What `base_url` should be: the SDK appends `/v1/messages`. */
  get baseUrl(): string {
    return this.origin;
  }

  protected isCompletion(method: string, path: string): boolean {
    return method === 'POST' && path.split('?')[0] === '/v1/messages';
  }

  protected async writeStream(res: ServerResponse, pieces: string[], behaviour: FakeBehaviour, req: RecordedRequest, last: boolean): Promise<void> {
    const bad = rejection(req);
    if (bad) return writeError(res, bad.status, bad.message, {});
    const s = behaviour.kind === 'stream' ? behaviour : undefined;
    const t = behaviour.kind === 'tools' ? behaviour : undefined;
    const model = s?.model ?? (req.body as { model: string }).model;
    const usage = s?.usage ?? t?.usage ?? { input: 42, output: pieces.length };
    startSse(res, { 'request-id': requestId() });
    sse(res, {
      type: 'message_start',
      message: {
        id: `msg_fake${++ids}`, type: 'message', role: 'assistant', content: [], model, stop_reason: null, stop_sequence: null,
        usage: { input_tokens: usage.input, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 1 },
      },
    }, 'message_start');
    sse(res, { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }, 'content_block_start');
    sse(res, { type: 'ping' }, 'ping');
    for (const text of pieces) {
      if (s?.pieceDelayMs) await pause(s.pieceDelayMs);
      sse(res, { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } }, 'content_block_delta');
    }
    if (!last) return;
    sse(res, { type: 'content_block_stop', index: 0 }, 'content_block_stop');
    let index = 0;
    for (const call of t?.calls ?? []) {
      index++;
      const id = call.id ?? `toolu_fake${String(++ids).padStart(6, '0')}`;
      sse(res, { type: 'content_block_start', index, content_block: { type: 'tool_use', id, name: call.name, input: {} } }, 'content_block_start');
      sse(res, { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: '' } }, 'content_block_delta');
      for (const partial_json of jsonPieces(JSON.stringify(call.input))) {
        sse(res, { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json } }, 'content_block_delta');
      }
      sse(res, { type: 'content_block_stop', index }, 'content_block_stop');
    }
    const stop = t ? 'tool_use' : s?.stopReason ?? 'end_turn';
    sse(res, {
      type: 'message_delta', delta: { stop_reason: stop, stop_sequence: null }, usage: { output_tokens: usage.output },
    }, 'message_delta');
    sse(res, { type: 'message_stop' }, 'message_stop');
    res.end();
  }

  protected writeError(res: ServerResponse, status: number, message: string | undefined, headers: Record<string, string>): void {
    writeError(res, status, message, headers);
  }

  toolResultsOf(req: RecordedRequest): SentToolResult[] {
    const messages = (req.body as { messages?: Array<{ content?: unknown }> } | undefined)?.messages ?? [];
    const out: SentToolResult[] = [];
    for (const m of messages) {
      if (!Array.isArray(m.content)) continue;
      for (const b of m.content as Array<Record<string, unknown>>) {
        if (b.type !== 'tool_result') continue;
        const content = typeof b.content === 'string' ? b.content
          : Array.isArray(b.content) ? (b.content as Array<{ text?: string }>).map((c) => c.text ?? '').join('') : '';
        out.push({ id: String(b.tool_use_id), content, isError: b.is_error === true });
      }
    }
    return out;
  }

  toolsOf(req: RecordedRequest): string[] {
    const tools = (req.body as { tools?: Array<{ name?: string }> } | undefined)?.tools ?? [];
    return tools.map((t) => String(t.name));
  }

  protected other(req: RecordedRequest, res: ServerResponse): void {
    if (req.method === 'GET' && req.path.split('?')[0] === '/v1/models') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({
        data: [{ type: 'model', id: 'claude-fake-1', display_name: 'Claude Fake', created_at: '2025-01-01T00:00:00Z' }],
        has_more: false, first_id: 'claude-fake-1', last_id: 'claude-fake-1',
      }));
      return;
    }
    writeError(res, 404, `Not found: ${req.method} ${req.path}`, {});
  }
}
