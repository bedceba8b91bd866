/**
 * `::fix`: puts the command the LLM last proposed for this session (its suggest_command tool, in
 * an `::ask` answer or an auto-explanation) on the shell's command line, as if typed: not run, ready
 * to edit, to run with Enter or to clear with Ctrl-U. `omnish fix` on the command line prints it.
 * omnish never runs it: the suggestion is untrusted text from a model, and only the user's Enter
 * turns it into a command.
 */
import { OmnishError, UsageError } from '../common/errors.js';
import { safeJson, sanitizeLine } from '../common/sanitize.js';
import { request } from '../control/request.js';
import type { CommandIo } from './io.js';
import type { CommandSpec } from './registry.js';

/**
 * Characters a line editor would take as keys rather than text: C0 controls (Tab completes, ^U
 * clears, ESC starts a sequence), DEL, C1 controls, and the invisible bidi and zero-width formatting
 * characters that make a line read differently from what it runs.
 */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const NOT_TEXT = /[\x00-\x1f\x7f\x80-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/u;

/**
 * The suggestion as it may be typed at a prompt: trimmed, one line, only printable characters.
 * @throws OmnishError naming what is wrong (a line break, a control character) with the text shown sanitized
 */
export function typeableCommand(suggestion: string): string {
  const text = suggestion.trim();
  if (/[\r\n]/.test(text)) throw new OmnishError(`the suggested command spans lines, so it is not typed for you: ${sanitizeLine(text)}`);
  if (NOT_TEXT.test(text)) throw new OmnishError(`the suggested command holds control characters, so it is not typed for you: ${sanitizeLine(text)}`);
  return text;
}

async function run(io: CommandIo, opts: { json?: boolean; session?: string }): Promise<void> {
  const session = opts.session ?? io.session?.id ?? process.env.OMNISH_SESSION;
  if (!session) throw new UsageError('fix needs a session: type ::fix at an omnish prompt, or pass --session ID');
  const { command, atMs } = await request('suggestion', { session }, { autostart: true });
  if (opts.json) {
    io.out(`${safeJson({ command, atMs: atMs ?? null })}\n`);
    return;
  }
  if (!command) {
    io.err('omnish: no suggested command in this session yet: ::ask proposes one when a command would fix things, as do explanations of failures\n');
    io.setExitCode(1);
    return;
  }
  const text = typeableCommand(command);
  if (io.typeAhead) io.typeAhead(text);
  else io.out(`${text}\n`);
}

export const fixCommand: CommandSpec<[], { json?: boolean; session?: string }> = {
  name: 'fix',
  summary: 'put the command the LLM last suggested on your command line (not run: Enter runs it)',
  usage: {
    options: [
      { flags: '--session <id>', description: 'the session whose suggestion to use (default: the one you are in)' },
      { flags: '--json', description: 'print {command, atMs} instead' },
    ],
    after: '\nAt the prompt (::fix) the command is typed for you, not run: edit it, press Enter to run it, or Ctrl-U to clear it.\nOn the command line (omnish fix) it is printed. Suggestions come from ::ask answers and explanations of failures.\n',
  },
  run: (io, _args, opts) => run(io, opts),
};
