/**
 * Auto-explanations on the terminal. One is shown only where it cannot disturb anything: at a
 * ready prompt with nothing typed. Then the prompt line is cleared, the explanation printed and the
 * prompt drawn again, so the user is exactly where they were. Otherwise (a command or full-screen
 * program runs, or the user is typing) it waits for the next prompt.
 *
 * The explanation is the LLM's text and the command line came from the terminal: both are
 * untrusted and go through the sanitizer before omnish adds its own dim frame around them.
 */
import { sanitizeLine, sanitizeText } from '../common/sanitize.js';

/** What the notices need from the session. */
export interface NoticeHost {
  /** True at a ready prompt with an empty input line, on the normal screen. */
  idle(): boolean;
  /** Writes to the terminal. */
  show(text: string): void;
  /** Draws the prompt again. */
  redrawPrompt(): void;
}

/** Explanations waiting for a quiet prompt; each at most this many lines (the rest is in `omnish show`). */
const MAX_LINES = 20;

export class Notices {
  private readonly pending: string[] = [];

  constructor(private readonly host: NoticeHost) {}

  /** Queues an explanation for `command` (with the command it suggests, if any) and shows it now if the prompt is quiet. */
  add(command: string | null, text: string, suggestion?: string): void {
    this.pending.push(format(command, text, suggestion));
    this.flush();
  }

  /** Shows whatever waits, if the prompt is quiet (called at every new prompt). */
  flush(): void {
    if (this.pending.length === 0 || !this.host.idle()) return;
    // Erase the prompt line, print above where it was, then draw the prompt again.
    this.host.show(`\r\x1b[K${this.pending.splice(0).join('')}`);
    this.host.redrawPrompt();
  }
}

/** Most characters of the command line shown in the title. */
const MAX_TITLE_COMMAND = 60;

/** The first line of a command line, sanitized and cut to MAX_TITLE_COMMAND characters (whole code points). */
function titleCommand(command: string): string {
  const chars = [...sanitizeLine(command.split('\n')[0] ?? '')];
  return chars.length > MAX_TITLE_COMMAND ? `${chars.slice(0, MAX_TITLE_COMMAND - 1).join('')}…` : chars.join('');
}

/** Most characters of a suggested command shown in a notice. */
const MAX_SUGGESTION = 200;

/**
 * Dim, framed text with CR LF line ends (the terminal is raw); `command`, `text` and `suggestion`
 * are sanitized first. A suggested command gets the frame's last line, bold: `╰ suggested: make -j1`,
 * with a dim hint that `::fix` types it.
 */
export function format(command: string | null, text: string, suggestion?: string): string {
  const lines = sanitizeText(text).trim().split('\n');
  const shown = lines.slice(0, MAX_LINES);
  if (lines.length > MAX_LINES) shown.push(`… (${lines.length - MAX_LINES} more lines: omnish audit / omnish commands)`);
  const title = `omnish: why ${command ? `\`${titleCommand(command)}\`` : 'the last command'} failed`;
  const cmd = suggestion ? [...sanitizeLine(suggestion)].slice(0, MAX_SUGGESTION).join('') : '';
  const end = cmd ? `╰ suggested: \x1b[22;1m${cmd}\x1b[0m\x1b[2m  (::fix puts it on your command line)\x1b[0m` : '╰\x1b[0m';
  return `\x1b[2m╭ ${title}\r\n${shown.map((l) => `│ ${l}`).join('\r\n')}\r\n${end}\r\n`;
}
