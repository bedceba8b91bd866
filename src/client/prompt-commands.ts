/**
 * Running a `::` command line inside the session: the same command table as `omnish NAME`, with
 * output written straight to the raw terminal (LF becomes CR LF for text) and keys routed from the
 * interceptor. The CLI code loads on first use, so a shell that never runs `::` never pays for it.
 */
import { spawn } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
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
 * Commands that run at the prompt as a child `omnish NAME …` rather than in this process: they load
 * what the relay must never hold (`search` opens SQLite: a binding, a file, memory for its cache).
 */
const CHILD_COMMANDS = new Set(['search']);

/**
 * Runs `omnish WORDS --color` as a child and hands its stdout and stderr to `text` as they come
 * (omnish's own output, already sanitized). Resolves when it exits.
 */
function runChild(words: readonly string[], text: (s: string) => void, shellPid?: number): Promise<void> {
  const bin = fileURLToPath(new URL('../../bin/omnish.js', import.meta.url));
  const args = words.includes('--json') ? [...words] : [...words, '--color'];
  // In the shell's directory, not the one omnish started in: `::search --here`, `--cwd .` mean where the user is.
  let cwd: string | undefined;
  try {
    if (shellPid !== undefined) cwd = readlinkSync(`/proc/${shellPid}/cwd`);
  } catch {
    // No /proc (macOS) or the shell is gone: omnish's own directory.
  }
  const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'], cwd });
  child.stdout.setEncoding('utf8').on('data', text);
  child.stderr.setEncoding('utf8').on('data', text);
  return new Promise((resolve) => {
    child.on('error', (err) => {
      text(`omnish: cannot run omnish ${words[0] ?? ''}: ${sanitizeText(err.message)}\n`);
      resolve();
    });
    child.on('close', () => resolve());
  });
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
    typeAhead: (t) => keys.typeAhead(t),
    setExitCode: () => {},
    session,
  };
  try {
    const words = line.length === 0 ? ['help'] : splitWords(line);
    if (CHILD_COMMANDS.has(words[0] ?? '')) {
      await runChild(words, text, session?.shellPid);
    } else {
      const { runCommand } = await import('../commands/cli.js');
      await runCommand(words, io); // atPrompt: usage lines say ':: NAME'
    }
  } catch (err) {
    text(`omnish: ${sanitizeText((err as Error).message)}\n`);
  }
  if (!endsWithNewline) show('\r\n');
}
