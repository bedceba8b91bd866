/** `omnish status`: is the daemon running, and what is it recording. */
import { isUserFacing } from '../common/errors.js';
import { safeJson, sanitizeLine } from '../common/sanitize.js';
import { socketPath } from '../common/paths.js';
import { VERSION } from '../common/version.js';
import { request } from '../control/request.js';
import type { IndexStatusResult, StatusResult } from '../protocol/index.js';
import { configStatusLines } from './config-problem.js';
import { shortDuration, tildify } from './format.js';
import type { CommandIo } from './io.js';
import type { CommandSpec } from './registry.js';
import { problemText, recoveredText, type StoreStatus } from './store-problem.js';

/** The store's health: a line while writes fail, and one about the last failure once it ended. */
function storeLines(store: StoreStatus): string[] {
  if (store.problem) return [`store: ${problemText(store.problem)}`];
  if (store.lastProblem) return [`store: ${recoveredText(store.lastProblem)}`];
  return [];
}

/** 'bash' → 'shell integration: bash'; 'off: reason' → 'shell integration: off (reason)'. */
function integrationText(integration: string): string {
  const off = /^off: (.*)$/.exec(integration);
  return `shell integration: ${off ? `off (${off[1]})` : integration}`;
}

/** One line on the search index: 'search index: 7,924 commands from 40 sessions', its work, or why it is off. */
function indexLine(index: IndexStatusResult): string {
  const held = `${index.commands.toLocaleString('en-US')} command${index.commands === 1 ? '' : 's'} from ${index.sessions} session${index.sessions === 1 ? '' : 's'}`;
  switch (index.state) {
    case 'ready': return `search index: ${held}`;
    case 'starting': return 'search index: opening';
    case 'catching-up': return `search index: catching up with the store (${held} so far)`;
    case 'rebuilding': return `search index: rebuilding from the store (${held} so far)`;
    // The problem is the daemon's text (a path, an error message): sanitized by the caller.
    case 'unavailable': return `search index: off (${index.problem ?? 'no SQLite binding'})`;
    case 'failed': return `search index: not usable (${index.problem ?? 'unknown error'}); try omnish index rebuild`;
  }
}

/** tty, shell, cwd and integration state were sent by the client: sanitized, like every such value. */
function render(io: CommandIo, s: StatusResult): string {
  const lines = [
    `omnishd ${s.daemon.version} running (pid ${s.daemon.pid}, up ${shortDuration(s.daemon.uptimeS * 1000)})`,
    `socket: ${s.daemon.socket} (${s.daemon.connections} connection${s.daemon.connections === 1 ? '' : 's'})`,
    `store: ${s.store.sessions} session${s.store.sessions === 1 ? '' : 's'}, ${(s.store.bytes / 1048576).toFixed(1)} MB`,
    ...storeLines(s.store),
    // The problem quotes the user's file: sanitized.
    ...(s.config ? configStatusLines(s.config).map((l) => sanitizeLine(l)) : []),
    ...(s.index ? [sanitizeLine(indexLine(s.index))] : []),
    `default LLM backend: ${s.daemon.defaultBackend === 'auto' ? 'auto (from the environment, or a local server)' : s.daemon.defaultBackend}`,
    `recording ${s.sessions.length} session${s.sessions.length === 1 ? '' : 's'}`,
    ...s.sessions.map((x) => sanitizeLine(`  ${x.id}  ${x.tty.replace(/^\/dev\//, '')}  ${x.shell.split('/').pop()}  ${tildify(x.cwd)}  ${integrationText(x.integration)}`) + (x.stored === false ? '  (not stored yet: the store cannot be written)' : '')),
  ];
  const here = io.session;
  const mine = s.sessions.find((x) => x.id === (here?.id ?? process.env.OMNISH_SESSION));
  if (mine) {
    const recording = here ? (here.paused ? ', recording paused (::resume)' : ', recording') : '';
    // Said only when it was asked for: `on`, or `off (why)` (the default, plain `off`, goes unsaid).
    const input = mine.inputRecording && mine.inputRecording !== 'off' ? `, input recording: ${mine.inputRecording}` : '';
    lines.push(sanitizeLine(`this session: ${mine.id}, ${integrationText(mine.integration)}, relay: ${mine.relay}${recording}${input}`));
  }
  return lines.join('\n') + '\n';
}

export const statusCommand: CommandSpec<[], { json?: boolean }> = {
  name: 'status',
  summary: 'show whether omnishd runs and what it records',
  usage: { options: [{ flags: '--json', description: 'print JSON: {"daemon": {...} | null, "sessions": [...]}' }] },
  async run(io, _args, opts) {
    let status: StatusResult;
    try {
      status = await request('status');
    } catch (err) {
      if (!isUserFacing(err)) throw err;
      // Not running is an answer, not a failure of this command's input: exit 3, like `systemctl status`.
      if (opts.json) io.out(`${JSON.stringify({ daemon: null, client: { version: VERSION }, socket: socketPath(), sessions: [] }, null, 2)}\n`);
      else io.out(`omnishd is not running (${socketPath()}); it starts with the next omnish shell, or run 'omnishd'\n`);
      io.setExitCode(3);
      return;
    }
    io.out(opts.json ? `${safeJson(status)}\n` : render(io, status));
  },
};
