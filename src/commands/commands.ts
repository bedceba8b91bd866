/**
 * `omnish commands [ID]`: the commands of a session, from the command records omnishd writes to
 * its events.jsonl (docs/store-format.md). Reads the store directly, so it works whether or not
 * the daemon runs.
 */
import { shortDurationUs } from '../common/format.js';
import { safeJson, sanitizeLine } from '../common/sanitize.js';
// The two store modules it reads with, not the whole store (start-up: no reader, renderer, retention).
import { readCommandRecords, type CommandRecord } from '../store/records.js';
import { SessionStore } from '../store/store.js';
import { table, tildify } from './format.js';
import type { CommandIo } from './io.js';
import type { CommandSpec } from './registry.js';

import { pickSession } from '../tools/sessions.js';

export { pickSession };

/** A duration in µs for a table: "0.4s", "12s", "3m05s", "2h04m". */
export const commandDuration = shortDurationUs;

function render(records: CommandRecord[]): string {
  const rows = records.map((r) => [
    String(r.seq),
    r.exitCode === null ? '-' : String(r.exitCode),
    commandDuration(r.endedAtUs - r.startedAtUs),
    // cwd and command line come from the terminal: sanitized (src/common/sanitize.ts).
    r.cwd === null ? '?' : sanitizeLine(tildify(r.cwd)),
    r.command === null ? '?' : sanitizeLine(r.command.split('\n')[0] ?? '') + (r.command.includes('\n') ? ' …' : ''),
  ]);
  return table(['SEQ', 'EXIT', 'DURATION', 'CWD', 'COMMAND'], rows);
}

/**
 * Prints the commands of the session `id` (see pickSession) as a table, or as JSON.
 * @throws UsageError for a bad id; StoreError for an unreadable events.jsonl
 */
export function listCommands(io: CommandIo, id: string | undefined, opts: { json?: boolean }, store = new SessionStore()): void {
  const session = pickSession(store, id);
  const records = readCommandRecords(session.dir);
  if (opts.json) return io.out(`${safeJson(records)}
`);
  if (records.length === 0) {
    return io.out(`No commands recorded in session ${session.id} (shell integration off, or none finished yet).\n`);
  }
  io.out(render(records));
}

export const commandsCommand: CommandSpec<[string | undefined], { json?: boolean }> = {
  name: 'commands',
  summary: 'list the commands of a session, with exit status and duration',
  usage: {
    arguments: [{ name: '[id]', description: 'session id or a unique prefix (default: this shell\'s session, else the newest)' }],
    options: [{ flags: '--json', description: 'print a JSON array of the command records' }],
    after: '\nShow a command\'s output with: omnish show ID:SEQ\n',
  },
  run: (io, [id], opts) => listCommands(io, id, opts),
};
