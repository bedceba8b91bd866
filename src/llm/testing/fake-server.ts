/**
 * The part the fake LLM servers share: a real node:http server on 127.0.0.1 (port 0), a queue of
 * scripted behaviours (one per request, in order), and a record of every request (headers and
 * parsed JSON body) so tests can check what was sent, for instance that no secret left the machine.
 * Each provider's wire format is in fake-anthropic.ts and fake-openai.ts.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the server does with one request. */
export type FakeBehaviour =
  /** Stream `pieces` as the answer, then the end events with usage. */
  | { kind: 'stream'; pieces: string[]; usage?: { input: number; output: number }; stopReason?: string; model?: string; pieceDelayMs?: number }
  /** Answer with the provider's error body and this status (`headers` such as retry-after). */
  | { kind: 'error'; status: number; message?: string; headers?: Record<string, string> }
  /** Start the stream, send `pieces`, then destroy the socket (a connection that breaks mid-answer). */
  | { kind: 'cut'; pieces: string[] }
  /** Never answer (or, with `pieces`, stall after sending them): for timeouts. */
  | { kind: 'hang'; pieces?: string[] }
  /**
   * Stream `pieces` of text (if any), then these tool calls, arguments streamed as JSON in a few
   * pieces, and stop for tool use: the next queued behaviour answers the request that brings the
   * results (a script: a call, then after its result, text).
   */
  | { kind: 'tools'; calls: FakeToolCall[]; pieces?: string[]; usage?: { input: number; output: number } };

/** One scripted tool call: the tool's name, its arguments, and an id (default: made up). */
export interface FakeToolCall {
  name: string;
  input: Record<string, unknown>;
  id?: string;
}

/** A tool result found in a recorded request, in either provider's shape. */
export interface SentToolResult {
  id: string;
  content: string;
  isError: boolean;
}

/** `json` in pieces of about 3 parts, as a provider streams a tool call's arguments. */
export function jsonPieces(json: string): string[] {
  const size = Math.max(1, Math.ceil(json.length / 3));
  const out: string[] = [];
  for (let i = 0; i < json.length; i += size) out.push(json.slice(i, i + size));
  return out;
}

/** One request as the server saw it. */
export interface RecordedRequest {
  method: string;
  /** Path and query, e.g. `/v1/messages`. */
  path: string;
  headers: IncomingHttpHeaders;
  /** The body parsed as JSON; undefined when empty or not JSON. */
  body: unknown;
  /** The body as received (UTF-8). */
  rawBody: string;
  /** Set when the client closed the connection before the response was complete (cancel, timeout). */
  closedEarly?: boolean;
}

/** Resolves after `ms` (the fake's own pacing, never a test's wait). */
export function pause(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** The server; a subclass supplies the provider's wire format. */
export abstract class FakeLlmServer {
  /** Every request received, in order. */
  readonly requests: RecordedRequest[] = [];
  /** Completion requests only (what tests usually want). */
  get completions(): RecordedRequest[] {
    return this.requests.filter((r) => this.isCompletion(r.method, r.path));
  }
  /** Used when the queue is empty. */
  defaultBehaviour: FakeBehaviour = { kind: 'stream', pieces: ['Hello', ', ', 'world', '.'] };
  readonly #queue: FakeBehaviour[] = [];
  readonly #server: Server;
  #port = 0;

  protected constructor() {
    this.#server = createServer((req, res) => void this.#handle(req, res));
  }

  /** True for the request that asks for a completion; other requests go to `other`. */
  protected abstract isCompletion(method: string, path: string): boolean;
  /**
   * Writes a streamed answer with `pieces`: all of it when `last`, else only up to the pieces
   * (for "cut" and "hang"). A request the real API would refuse gets its error instead.
   */
  protected abstract writeStream(res: ServerResponse, pieces: string[], behaviour: FakeBehaviour, request: RecordedRequest, last: boolean): Promise<void>;
  /** Writes the provider's error body with `status`. */
  protected abstract writeError(res: ServerResponse, status: number, message: string | undefined, headers: Record<string, string>): void;
  /** Answers anything that is not a completion request (GET /v1/models, ...). */
  protected abstract other(request: RecordedRequest, res: ServerResponse): void;
  /** The tool results a completion request carried, in order (every turn of its conversation). */
  abstract toolResultsOf(request: RecordedRequest): SentToolResult[];
  /** The names of the tools a completion request offered ([] for none). */
  abstract toolsOf(request: RecordedRequest): string[];

  /**
   * Answer every request that offers tools with the 400 a server without tool support gives
   * (Ollama: `registry.ollama.ai/library/x does not support tools`).
   */
  refuseTools = false;

  /** The refusal of a request with tools when `refuseTools`; undefined otherwise. */
  protected toolRefusal(req: RecordedRequest): { status: number; message: string } | undefined {
    if (!this.refuseTools || this.toolsOf(req).length === 0) return undefined;
    return { status: 400, message: `registry.ollama.ai/library/${String((req.body as { model?: unknown })?.model)} does not support tools` };
  }

  /** `http://127.0.0.1:<port>`. */
  get origin(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  protected async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.#port = (this.#server.address() as AddressInfo).port;
  }

  /** Appends behaviours for the next completion requests, in order. */
  enqueue(...behaviours: FakeBehaviour[]): this {
    this.#queue.push(...behaviours);
    return this;
  }

  /** Forgets the queue and the recorded requests (between tests). */
  reset(): void {
    this.#queue.length = 0;
    this.requests.length = 0;
  }

  /** Everything sent to the server (headers and bodies), for "this secret never left" checks. */
  sentText(): string {
    return this.requests.map((r) => `${JSON.stringify(r.headers)}\n${r.rawBody}`).join('\n');
  }

  /** Stops the server, cutting hanging requests. */
  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const rawBody = Buffer.concat(chunks).toString('utf8');
    let body: unknown;
    try {
      body = rawBody ? JSON.parse(rawBody) : undefined;
    } catch {
      body = undefined;
    }
    const recorded: RecordedRequest = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body, rawBody };
    this.requests.push(recorded);
    res.on('close', () => {
      if (!res.writableFinished) recorded.closedEarly = true;
    });
    if (!this.isCompletion(recorded.method, recorded.path)) return this.other(recorded, res);
    // Refused before the script is consulted: the behaviour queued is for the request that follows.
    const refused = this.toolRefusal(recorded);
    if (refused) return this.writeError(res, refused.status, refused.message, {});
    const b = this.#queue.shift() ?? this.defaultBehaviour;
    switch (b.kind) {
      case 'stream':
        return this.writeStream(res, b.pieces, b, recorded, true);
      case 'tools':
        return this.writeStream(res, b.pieces ?? [], b, recorded, true);
      case 'error':
        return this.writeError(res, b.status, b.message, b.headers ?? {});
      case 'cut':
        await this.writeStream(res, b.pieces, b, recorded, false);
        await flushed(res); // destroying a socket discards what it has not sent yet
        // Destroyed, not ended: the chunked body stops without its terminator, as when a proxy dies.
        res.socket?.destroy();
        return;
      case 'hang':
        if (b.pieces) await this.writeStream(res, b.pieces, b, recorded, false);
        return; // the response stays open until the client gives up or close() cuts it
    }
  }
}

/** Writes one server-sent event (`event:` line only when `event` is given). */
export function sse(res: ServerResponse, data: unknown, event?: string): void {
  res.write(`${event ? `event: ${event}\n` : ''}data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`);
}

/** Resolves once everything written to `res` so far has reached the socket (an SSE comment, ignored by clients). */
function flushed(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => res.write(': flush\n\n', () => resolve()));
}

/** Starts an SSE response. */
export function startSse(res: ServerResponse, headers: Record<string, string> = {}): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', ...headers });
  res.flushHeaders();
}
