/** `omnish audit`: every request omnish sent to an LLM — when, why, to which backend, how much. */
import { readFileSync } from 'node:fs';
import { UsageError } from '../common/errors.js';
import { safeJson, sanitizeLine } from '../common/sanitize.js';
import { auditPath, type AuditEntry } from '../store/audit.js';
import { localTime, table } from './format.js';
import type { CommandSpec } from './registry.js';

/** One line of audit.jsonl (written by src/store/audit.ts). */
type Entry = AuditEntry;

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

function render(entries: Entry[]): string {
  if (entries.length === 0) return 'No LLM requests yet.\n';
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

export const auditCommand: CommandSpec<[], { json?: boolean; last?: string }> = {
  name: 'audit',
  summary: 'list every request sent to an LLM (when, backend, size, redactions, outcome)',
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
