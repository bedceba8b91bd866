/**
 * The interactive picker of `omnish search` (run with no query on a terminal): type to filter,
 * arrows to move, Enter prints the chosen command's output, Ctrl-R replays the session from that
 * command, Esc or Ctrl-C leaves. Built on @inquirer/core (its prompt engine: keypress handling,
 * line editing, redrawing), loaded only when the picker opens.
 */
import { createPrompt, isDownKey, isEnterKey, isUpKey, useKeypress, useMemo, useState } from '@inquirer/core';
import { OmnishError } from '../common/errors.js';
import { sanitizeLine } from '../common/sanitize.js';
import { runSearch, type SearchHit, type SearchIndex, type SearchQuery } from '../search/index.js';
import { shortDuration } from './format.js';
import { highlight } from './search.js';

/** What the user chose: a hit and what to do with it, or nothing. */
export type Picked = { hit: SearchHit; action: 'show' | 'replay' } | null;

interface PickerConfig {
  index: SearchIndex;
  /** The filters given on the command line; the typed text becomes the query. */
  base: SearchQuery;
  /** Terminal size, cells. */
  columns: number;
  rows: number;
}

/** The hits for `text`, or why the text is not a query yet. */
function lookup(config: PickerConfig, text: string, limit: number): { hits: SearchHit[]; error?: string } {
  try {
    return { hits: runSearch(config.index, { ...config.base, query: text, limit }).hits };
  } catch (err) {
    if (err instanceof OmnishError) return { hits: [], error: err.message };
    throw err;
  }
}

/** One hit on one line of `width` cells: age, exit, command, and the snippet after it. */
function line(h: SearchHit, width: number, active: boolean, now: number): string {
  const exit = h.exitCode === null ? '-' : String(h.exitCode);
  const command = (h.command ?? '?').split('\n')[0] ?? '';
  const head = `${shortDuration(now - h.endedAtMs).padStart(4)} ${exit.padStart(3)}  `;
  const room = Math.max(10, width - head.length - 2);
  const cmd = command.length > room ? `${command.slice(0, room - 1)}…` : command;
  const rest = room - cmd.length - 3;
  const snippet = rest > 10 && h.snippet ? `  ${h.snippet.length > rest ? `${h.snippet.slice(0, rest - 1)}…` : h.snippet}` : '';
  const text = `${head}${sanitizeLine(cmd)}\x1b[2m${sanitizeLine(snippet)}\x1b[0m`;
  return active ? `\x1b[7m>\x1b[0m ${text}` : `  ${text}`;
}

const picker = createPrompt<Picked, PickerConfig>((config, done) => {
  const [text, setText] = useState('');
  const [active, setActive] = useState(0);
  const limit = Math.max(3, Math.min(50, config.rows - 4));
  const found = useMemo(() => lookup(config, text, limit), [text]);
  useKeypress((key, rl) => {
    const hit = found.hits[active];
    if (isEnterKey(key)) {
      if (hit) done({ hit, action: 'show' });
    } else if (key.ctrl && key.name === 'r') {
      if (hit) done({ hit, action: 'replay' });
    } else if (key.name === 'escape') {
      done(null);
    } else if (isUpKey(key, [])) {
      setActive(Math.max(0, active - 1));
    } else if (isDownKey(key, [])) {
      setActive(Math.min(found.hits.length - 1, active + 1));
    } else if (rl.line !== text) {
      setText(rl.line);
      setActive(0);
    }
  });
  const now = Date.now();
  const head = `\x1b[1msearch:\x1b[0m ${sanitizeLine(text)}`;
  const body = found.error
    ? `  ${sanitizeLine(found.error)}`
    : found.hits.length === 0
      ? '  no commands found'
      : found.hits.map((h, i) => line(h, config.columns, i === active, now)).join('\n');
  const chosen = found.hits[active];
  const status = chosen
    ? `\x1b[2m${chosen.session}:${chosen.seq}  ${sanitizeLine(chosen.cwd ?? '?')}  Enter: output  Ctrl-R: replay from here  Esc: quit\x1b[0m`
    : '\x1b[2mtype words to search; Esc quits\x1b[0m';
  // Highlighted snippet of the chosen hit under the list: where the match is.
  const snippet = chosen?.snippet ? `\n  ${highlight(chosen.snippet.slice(0, config.columns - 4), chosen.matches, true)}` : '';
  return [head, `${body}${snippet}\n${status}`];
});

/**
 * Runs the picker on the process's terminal.
 * @returns the user's choice, or null when they left (Esc, Ctrl-C)
 */
export async function pick(index: SearchIndex, base: SearchQuery): Promise<Picked> {
  try {
    return await picker({ index, base, columns: process.stdout.columns || 80, rows: process.stdout.rows || 24 }, { clearPromptOnDone: true });
  } catch (err) {
    if ((err as Error).name === 'ExitPromptError') return null; // Ctrl-C
    throw err;
  }
}
