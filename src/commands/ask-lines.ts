/**
 * The lines `omnish ask` / `::ask` adds around a streamed answer: one dim line per tool call the
 * model made (`· searched "ENOSPC": 3 commands in 2 sessions`) and, after the answer, the command
 * it suggested (`  suggested: make -j1`). Both hold text the model chose: sanitized as one line.
 */
import { sanitizeLine } from '../common/sanitize.js';

/** Most characters of a tool line or a suggestion shown. */
const MAX_CHARS = 200;

const clip = (s: string): string => [...sanitizeLine(s)].slice(0, MAX_CHARS).join('');

/**
 * The dim line for a tool call. `atLineStart`: the answer so far ends with a newline (or nothing
 * was streamed): otherwise the line starts on a new one.
 */
export function toolLine(text: string, atLineStart: boolean, color: boolean): string {
  const body = `· ${clip(text)}`;
  return `${atLineStart ? '' : '\n'}${color ? `\x1b[2m${body}\x1b[0m` : body}\n`;
}

/**
 * The suggestion after the answer, on a line of its own: `  suggested: CMD` (the command bold on a
 * terminal); at a prompt with a hint that `::fix` types it.
 */
export function suggestionLine(command: string, color: boolean, atPrompt = false): string {
  const cmd = clip(command);
  const hint = atPrompt ? '  (::fix puts it on your command line)' : '';
  return color ? `\x1b[2m  suggested:\x1b[0m \x1b[1m${cmd}\x1b[0m\x1b[2m${hint}\x1b[0m\n` : `  suggested: ${cmd}${hint}\n`;
}
