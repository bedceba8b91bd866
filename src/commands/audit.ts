/**
 * `omnish audit`: every request omnish sent to an LLM — when, why, to which backend, how much —
 * and every tool call `omnish mcp` answered or the model made while omnishd answered (which tool,
 * with what, how much, what was redacted).
 */
import { readFileSync } from 'node:fs';
import { UsageError } from '../common/errors.js';
import { safeJson, sanitizeLine } from '../common/sanitize.js';
import { auditPath, type AuditEntry, type AuditLine, type LlmToolAuditEntry, type McpAuditEntry } from '../store/audit.js';
import { localTime, table } from './format.js';
import type { CommandSpec } from './registry.js';

/** One line of audit.jsonl (written by src/store/audit.ts). */
type Entry = AuditLine;

/** Longest ARGUMENTS cell, characters: the whole arguments are in --json. */
const ARGS_CHARS = 60;

/** Reads the audit log; a torn last line (crash mid-append) is skipped. */
export function readAudit(path = auditPath()): Entry[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const entries: Entry[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      entries.push(JSON.parse(line) as Entry);
    } catch {
      // a torn last line
    }
  }
  return entries;
}

const isMcp = (e: Entry): e is McpAuditEntry => e.kind === 'mcp';
const isTool = (e: Entry): e is LlmToolAuditEntry => e.kind === 'llm-tool';

/** The arguments of a tool call on one line, clipped to ARGS_CHARS. */
function argumentsCell(args: Record<string, unknown>): string {
  const text = Object.keys(args).length === 0 ? '-' : JSON.stringify(args);
  return text.length > ARGS_CHARS ? `${text.slice(0, ARGS_CHARS - 1)}…` : text;
}

function renderLlm(entries: AuditEntry[]): string {
  const rows = entries.map((e) => [
    localTime(e.time),
    e.trigger,
    `${e.backend ?? '-'}${e.model ? ` (${e.model})` : ''}`,
    String(e.charsSent),
    String(e.redactions.reduce((n, r) => n + r.count, 0)),
    `${e.tokensIn}/${e.tokensOut}`,
    e.outcome,
  ].map(sanitizeLine)); // the model name and an error's text come from the LLM server
  return table(['TIME', 'TRIGGER', 'BACKEND', 'CHARS', 'REDACTED', 'TOKENS IN/OUT', 'OUTCOME'], rows);
}

function renderMcp(entries: McpAuditEntry[]): string {
  const rows = entries.map((e) => [
    localTime(e.time),
    e.client ?? '-',
    e.tool,
    argumentsCell(e.arguments ?? {}),
    String(e.bytes),
    String((e.redactions ?? []).reduce((n, r) => n + r.count, 0)),
    e.outcome,
  ].map(sanitizeLine)); // the client's name, the tool and its arguments come from the MCP client
  return table(['TIME', 'CLIENT', 'TOOL', 'ARGUMENTS', 'BYTES', 'REDACTED', 'OUTCOME'], rows);
}

function renderTools(entries: LlmToolAuditEntry[]): string {
  const rows = entries.map((e) => [
    localTime(e.time),
    e.trigger,
    e.backend ?? '-',
    e.tool,
    argumentsCell(e.arguments ?? {}),
    String(e.bytes),
    String((e.redactions ?? []).reduce((n, r) => n + r.count, 0)),
    e.outcome,
  ].map(sanitizeLine)); // the tool's name and its arguments come from the model
  return table(['TIME', 'TRIGGER', 'BACKEND', 'TOOL', 'ARGUMENTS', 'BYTES', 'REDACTED', 'OUTCOME'], rows);
}

/** The LLM requests, the tool calls of their models, then the MCP tool calls, each under a heading of its own (only when it has rows). */
function render(entries: Entry[]): string {
  if (entries.length === 0) return 'No LLM requests or MCP tool calls yet.\n';
  const llm = entries.filter((e): e is AuditEntry => !isMcp(e) && !isTool(e));
  const tools = entries.filter(isTool);
  const mcp = entries.filter(isMcp);
  const parts: string[] = [];
  if (llm.length > 0) parts.push(renderLlm(llm));
  if (tools.length > 0) parts.push(`Tool calls of the model while omnishd answered:\n${renderTools(tools)}`);
  if (mcp.length > 0) parts.push(`MCP tool calls (omnish mcp):\n${renderMcp(mcp)}`);
  return parts.join('\n');
}

export const auditCommand: CommandSpec<[], { json?: boolean; last?: string }> = {
  name: 'audit',
  summary: 'list every request sent to an LLM and every omnish mcp tool call (when, to whom, size, redactions)',
  usage: {
    options: [
      { flags: '--json', description: 'print the entries as a JSON array' },
      { flags: '-n, --last <count>', description: 'only the last COUNT entries' },
    ],
  },
  run(io, _args, opts) {
    let entries = readAudit();
    if (opts.last !== undefined) {
      const n = Number(opts.last);
      if (!Number.isInteger(n) || n < 1) throw new UsageError(`--last takes a positive whole number, got '${opts.last}'`);
      entries = entries.slice(-n);
    }
    io.out(opts.json ? `${safeJson(entries)}\n` : render(entries));
  },
};
