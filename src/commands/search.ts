/**
 * `omnish search QUERY`: finds recorded commands by words of their command line and output, in the
 * index omnishd keeps (docs/search.md). Reads the index file directly (read-only; omnishd is its
 * only writer), so it works whether or not the daemon runs. The SQLite binding loads here, on
 * first use, never at start-up; without one, search says so in one line.
 */
import { safeJson, sanitizeLine } from '../common/sanitize.js';
import { runSearch, type SearchHit, type SearchIndex, type SearchQuery } from '../search/index.js';
import { openIndexForSearch, searchQuery, type SearchOptions } from '../tools/search-query.js';
import { shortDuration, localTime, tildify } from './format.js';
import type { CommandIo } from './io.js';
import type { CommandSpec } from './registry.js';

export { openIndexForSearch, searchQuery, type SearchOptions } from '../tools/search-query.js';

/** "5m ago" within a day, else the local date and time. */
function when(ms: number, now: number): string {
  return now - ms < 86_400_000 ? `${shortDuration(now - ms)} ago` : localTime(new Date(ms).toISOString());
}

/** `text` sanitized, with the ranges `marks` highlighted (bold reverse) when `color`, else as is. */
export function highlight(text: string, marks: ReadonlyArray<readonly [number, number]>, color: boolean): string {
  if (!color || marks.length === 0) return sanitizeLine(text);
  let out = '';
  let at = 0;
  for (const [a, b] of marks) {
    if (a < at) continue;
    out += `${sanitizeLine(text.slice(at, a))}\x1b[1;7m${sanitizeLine(text.slice(a, b))}\x1b[0m`;
    at = b;
  }
  return out + sanitizeLine(text.slice(at));
}

/** One hit for a person: `ID:SEQ  when  cwd  exit  command`, then its snippet indented. */
export function renderHit(h: SearchHit, color: boolean, now = Date.now()): string {
  const exit = h.exitCode === null ? 'exit -' : `exit ${h.exitCode}`;
  const firstLine = (h.command ?? '?').split('\n')[0] ?? '';
  const command = highlight(firstLine, h.commandMatches.filter(([, b]) => b <= firstLine.length), color) + ((h.command ?? '').includes('\n') ? ' …' : '');
  const ref = color ? `\x1b[1m${h.session}:${h.seq}\x1b[0m` : `${h.session}:${h.seq}`;
  const head = `${ref}  ${when(h.endedAtMs, now)}  ${sanitizeLine(tildify(h.cwd ?? '?'))}  ${exit}  ${command}`;
  return h.snippet === '' ? `${head}\n` : `${head}\n    ${highlight(h.snippet, h.matches, color)}\n`;
}

/**
 * Runs the search `words` + `opts` and prints the hits (or JSON).
 * @throws UsageError for bad options or query syntax; OmnishError when the index cannot be used
 */
export async function search(io: CommandIo, words: readonly string[], opts: SearchOptions): Promise<void> {
  const q = searchQuery(words, opts);
  const index = await openIndexForSearch();
  if (q.query === undefined && io.isTTY && !io.atPrompt && !opts.json && process.stdin.isTTY) return interactive(io, index, q);
  try {
    const state = index.getMeta('state');
    if (state === 'rebuilding' || state === 'catching-up') {
      io.err(`omnish: the search index is being ${state === 'rebuilding' ? 'rebuilt' : 'brought up to date'} by omnishd; results may be incomplete\n`);
    }
    const { hits } = runSearch(index, q);
    if (opts.json) return io.out(`${safeJson(hits)}\n`);
    if (hits.length === 0) {
      io.out('no commands found\n');
      io.setExitCode(1);
      return;
    }
    const now = Date.now();
    io.out(hits.map((h) => renderHit(h, io.isTTY || opts.color === true, now)).join(''));
  } finally {
    index.close();
  }
}

/** The picker (no query, on a terminal), then what the user chose: the output, or a replay from the command. */
async function interactive(io: CommandIo, index: SearchIndex, q: SearchQuery): Promise<void> {
  let picked;
  try {
    const { pick } = await import('./search-picker.js');
    picked = await pick(index, q);
  } finally {
    index.close();
  }
  if (!picked) return;
  const ref = `${picked.hit.session}:${picked.hit.seq}`;
  if (picked.action === 'show') {
    const { showOutput } = await import('./show.js');
    io.err(`${ref}  ${sanitizeLine((picked.hit.command ?? '?').split('\n')[0] ?? '')}\n`);
    return showOutput(io, ref, {});
  }
  const { replaySession } = await import('./replay.js');
  return replaySession(io, picked.hit.session, { speed: '1', from: String(picked.hit.seq) });
}

export const searchCommand: CommandSpec<[string[]], SearchOptions> = {
  name: 'search',
  summary: 'find recorded commands by words of their command line or output',
  usage: {
    arguments: [{ name: '[query...]', description: 'FTS5 query: words, "a phrase", prefix*, AND/OR/NOT, NEAR(a b, 5); none on a terminal: the interactive picker (type to filter, arrows, Enter shows the output, Ctrl-R replays from that command)' }],
    options: [
      { flags: '--exit <status>', description: 'only commands that failed (nonzero) or exited with this status' },
      { flags: '--cwd <dir>', description: 'only commands run in DIR or below it' },
      { flags: '--here', description: 'only commands run in this directory' },
      { flags: '--host <name>', description: 'only commands run on this host' },
      { flags: '--session <id>', description: 'only commands of this session (id or prefix)' },
      { flags: '--since <when>', description: 'only commands that ended since WHEN: 30m, 2h, 3d, 1w ago, or a date (2026-11-21, 2026-11-21T13:05)' },
      { flags: '--until <when>', description: 'only commands that ended before WHEN (a date alone: up to its end)' },
      { flags: '--in <where>', description: 'match in the command line or the output only', choices: ['command', 'output'] },
      { flags: '--limit <n>', description: 'most hits shown (1-1000)', default: '20' },
      { flags: '--rank', description: 'best match first (default: newest first)' },
      { flags: '--color', description: 'highlight matches even when stdout is not a terminal (::search uses it)' },
      { flags: '--json', description: 'print a JSON array of hits (session, seq, command, cwd, exitCode, startedAtMs, endedAtMs, snippet, matches, ...)' },
    ],
    after: '\nOpen a hit with: omnish show ID:SEQ. Query syntax and filters: docs/search.md.\nExit status: 0 found; 1 nothing found, or no index; 2 bad usage.\n',
  },
  run: (io, [words], opts) => search(io, words, opts),
};
