/**
 * The audit of `omnish mcp`: a transport wrapper that sees every `tools/call` request and the
 * response sent for it, and appends one McpAuditEntry per call to audit.jsonl (src/store/audit.ts).
 * At this level every call is logged, also those the SDK answers itself (unknown tool, arguments
 * that fail the schema), not only those a tool handler ran for.
 */
import type { Transport, TransportSendOptions } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage, MessageExtraInfo } from '@modelcontextprotocol/sdk/types.js';
import { appendAudit, type McpAuditEntry } from '../store/audit.js';

type Redactions = McpAuditEntry['redactions'];

/** A call received and not answered yet. */
interface Pending {
  time: string;
  startedMs: number;
  tool: string;
  arguments: Record<string, unknown>;
}

type Id = string | number;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The text parts of a tool result, joined. */
function resultText(result: unknown): string {
  if (!isObject(result) || !Array.isArray(result.content)) return '';
  return result.content.map((c: unknown) => (isObject(c) && typeof c.text === 'string' ? c.text : '')).join('');
}

/** The first line of a message, for the outcome column. */
const oneLine = (text: string): string => (text.split('\n')[0] ?? '').slice(0, 200);

export class AuditingTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: <T extends JSONRPCMessage>(message: T, extra?: MessageExtraInfo) => void;

  private readonly pending = new Map<Id, Pending>();
  /** What a tool handler reported about its result (redactions, whether a cap cut it), by request id. */
  private readonly details = new Map<Id, { redactions: Redactions; truncated: boolean }>();
  private client: string | null = null;

  /**
   * @param inner the transport that carries the messages (stdio)
   * @param auditFile where entries go (default: the state directory's audit.jsonl)
   */
  constructor(private readonly inner: Transport, private readonly auditFile?: string) {}

  /** Called by a tool handler with its request id: what its result carries, for the entry. */
  noteResult(id: Id, redactions: Redactions, truncated: boolean): void {
    this.details.set(id, { redactions, truncated });
  }

  start(): Promise<void> {
    this.inner.onmessage = (message, extra) => {
      this.received(message);
      this.onmessage?.(message, extra);
    };
    this.inner.onerror = (error) => this.onerror?.(error);
    this.inner.onclose = () => {
      for (const id of [...this.pending.keys()]) {
        try {
          this.write(id, 0, 'error: the client went away before the answer');
        } catch {
          // Nothing was sent for these calls; a log that cannot be written has been reported.
        }
      }
      this.onclose?.();
    };
    return this.inner.start();
  }

  /**
   * Sends `message`; the answer to a tools/call is logged first, so nothing leaves unaudited: when
   * the log cannot be written, the client gets that error instead of the result.
   */
  async send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    const m = message as Record<string, unknown>;
    const id = m.id as Id | undefined;
    if (id === undefined || !this.pending.has(id) || !('result' in m || 'error' in m)) return this.inner.send(message, options);
    let bytes: number;
    let outcome: string;
    if (isObject(m.error)) {
      const text = typeof m.error.message === 'string' ? m.error.message : 'error';
      bytes = Buffer.byteLength(text);
      outcome = `error: ${oneLine(text)}`;
    } else {
      const text = resultText(m.result);
      const failed = isObject(m.result) && m.result.isError === true;
      bytes = Buffer.byteLength(text);
      outcome = failed ? `error: ${oneLine(text)}` : this.details.get(id)?.truncated === true ? 'truncated' : 'ok';
    }
    try {
      this.write(id, bytes, outcome);
    } catch (err) {
      const text = `omnish mcp cannot write its audit log, so it sends nothing: ${(err as Error).message}`;
      process.stderr.write(`${text}\n`);
      return this.inner.send({ jsonrpc: '2.0', id, result: { content: [{ type: 'text', text }], isError: true } }, options);
    }
    return this.inner.send(message, options);
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  private received(message: JSONRPCMessage): void {
    const m = message as Record<string, unknown>;
    const params = isObject(m.params) ? m.params : {};
    if (m.method === 'initialize' && isObject(params.clientInfo)) {
      const { name, version } = params.clientInfo;
      this.client = [name, version].filter((p) => typeof p === 'string' && p !== '').join(' ') || null;
    }
    if (m.method !== 'tools/call' || (typeof m.id !== 'string' && typeof m.id !== 'number')) return;
    this.pending.set(m.id, {
      time: new Date().toISOString(),
      startedMs: performance.now(),
      tool: typeof params.name === 'string' ? params.name : String(params.name),
      arguments: isObject(params.arguments) ? params.arguments : {},
    });
  }

  /** Appends the entry of call `id`. @throws what appendAudit throws (a log that cannot be written) */
  private write(id: Id, bytes: number, outcome: string): void {
    const call = this.pending.get(id);
    if (!call) return;
    this.pending.delete(id);
    const details = this.details.get(id);
    this.details.delete(id);
    const entry: McpAuditEntry = {
      kind: 'mcp',
      time: call.time,
      client: this.client,
      tool: call.tool,
      arguments: call.arguments,
      bytes,
      redactions: details?.redactions ?? [],
      outcome,
      durationMs: Math.round(performance.now() - call.startedMs),
    };
    appendAudit(entry, this.auditFile);
  }
}
