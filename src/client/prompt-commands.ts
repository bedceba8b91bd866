/**
 * Running a `::` command line inside the session: the same command table as `omnish NAME`, with
 * output written straight to the raw terminal (LF becomes CR LF for text) and keys routed from the
 * interceptor. The CLI code loads on first use, so a shell that never runs `::` never pays for it.
 */
import type { CommandIo, SessionControl } from '../commands/io.js';
import { sanitizeText } from '../common/sanitize.js';
import type { KeyRouter } from './intercept.js';

/**
 * Splits a command line into words the way a shell would for simple cases: whitespace separates,
 * '…' and "…" quote, a backslash escapes the next character.
 * @throws Error on an unterminated quote
 */
export function splitWords(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < line.length) word += line[++i];
      else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < line.length) {
      word += line[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote) throw new Error(`unterminated ${quote} quote`);
  if (inWord) words.push(word);
  return words;
}

/**
 * Runs `line` (without the `::` prefix) and writes everything to the terminal through `show`.
 * Never throws: a bug in a command is reported as one line and the session goes on.
 */
export async function runPromptCommand(
  line: string,
  show: (bytes: Buffer | string) => void,
  keys: KeyRouter,
  session?: SessionControl,
): Promise<void> {
  let endsWithNewline = true;
  const text = (s: string): void => {
    if (s.length === 0) return;
    show(s.replace(/\r?\n/g, '\r\n'));
    endsWithNewline = s.endsWith('\n');
  };
  const io: CommandIo = {
    out: text,
    err: text,
    raw: (bytes) => {
      show(bytes);
      endsWithNewline = bytes.length > 0 && bytes[bytes.length - 1] === 0x0a;
    },
    isTTY: true,
    atPrompt: true,
    onKey: (listener) => keys.listen(listener),
    setExitCode: () => {},
    session,
  };
  try {
    const words = line.length === 0 ? ['help'] : splitWords(line);
    const { runCommand } = await import('../commands/cli.js');
    await runCommand(words, io); // atPrompt: usage lines say ':: NAME'
  } catch (err) {
    text(`omnish: ${sanitizeText((err as Error).message)}\n`);
  }
  if (!endsWithNewline) show('\r\n');
}
