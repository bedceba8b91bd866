/**
 * The audit log: one JSON line per request sent to an LLM, per tool call the model made while
 * omnishd answered (its results went to the LLM), and per tool call answered by `omnish mcp`, in `<stateDir>/audit.jsonl` (0600), so the user can check what left the machine,
 * when, and to whom. `omnish audit` reads it.
 */
import { appendFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { makeDirs } from '../common/fs.js';
import { stateDir } from '../common/paths.js';

/** One request to an LLM (lines without a `kind`: every line written before MCP calls were logged). */
export interface AuditEntry {
  kind?: 'llm';
  /** When the request started, ISO 8601 UTC. */
  time: string;
  /** 'ask' (the user asked), 'auto' (an auto-explanation) or 'doctor' (omnish doctor's 1-token check). */
  trigger: 'ask' | 'auto' | 'doctor';
  /** Which sessions the context came from: the scope and the session ids included. */
  sessions: string[];
  /** Config name of the backend that answered (or was tried last), and its model. */
  backend: string | null;
  model: string | null;
  /** Characters sent (system prompt + context + question), after redaction. */
  charsSent: number;
  /** Secrets replaced before sending, by kind. */
  redactions: Array<{ kind: string; count: number }>;
  /** Tokens reported by the provider (0 when it reported none). */
  tokensIn: number;
  tokensOut: number;
  /** 'ok', 'cancelled', or 'error: <one line>'. */
  outcome: string;
  /** Wall time of the request, ms. */
  durationMs: number;
  /** Tool calls the model made while answering (each has an LlmToolAuditEntry); absent: none, or written before tools. */
  toolCalls?: number;
}

/** What every audited tool call records, whoever asked for it (the model in omnishd, an MCP client). */
export interface ToolCallAudit {
  /** The tool (`search`, `get_command_output`, ...). */
  tool: string;
  /** Its arguments as they were sent. */
  arguments: Record<string, unknown>;
  /** UTF-8 bytes of the result sent back (after redaction and caps). */
  bytes: number;
  /** Secrets replaced in the result, by kind. */
  redactions: Array<{ kind: string; count: number }>;
  /** 'ok', or why not ('error: <one line>'; for MCP also 'truncated'). */
  outcome: string;
  /** Wall time of the call, ms. */
  durationMs: number;
}

/** One tool call the model made while omnishd answered (`::ask`, `omnish ask`, an auto-explanation): what it read. */
export interface LlmToolAuditEntry extends ToolCallAudit {
  kind: 'llm-tool';
  /** When the call was run, ISO 8601 UTC. */
  time: string;
  /** What the answer was for, as in AuditEntry. */
  trigger: 'ask' | 'auto';
  /** The asking session's id, or null (a question about the latest or all sessions). */
  session: string | null;
  /** Config name of the backend whose model called it. */
  backend: string | null;
  // tool: `search`, `get_command_output`, `read_file`, `suggest_command`, ...; arguments as the model sent
  // them; outcome 'ok' or 'error: <one line>' (the model got the error as the result).
}

/** One tool call answered by `omnish mcp` (src/commands/mcp.ts): what an AI client read. */
export interface McpAuditEntry extends ToolCallAudit {
  kind: 'mcp';
  /** When the call arrived, ISO 8601 UTC. */
  time: string;
  /** The MCP client's name and version as it introduced itself (`claude-code 1.2.3`), null if it did not. */
  client: string | null;
  // tool and arguments as the client sent them; outcome 'ok', 'truncated' (a cap cut the result) or 'error: <one line>'.
}

/** A line of the audit log. */
export type AuditLine = AuditEntry | McpAuditEntry | LlmToolAuditEntry;

/** Path of the audit log. */
export function auditPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(stateDir(env), 'audit.jsonl');
}

/** Appends an entry (synchronously: an audit line must not be lost to a crash right after). */
export function appendAudit(entry: AuditLine, path = auditPath()): void {
  makeDirs(dirname(path), 0o700);
  appendFileSync(path, `${JSON.stringify(entry)}\n`, { mode: 0o600 });
}
