/**
 * What the index holds of a command's output: the text the terminal showed, as lines, with escape
 * sequences removed, and for a large output only its head and its tail (the per-command cap,
 * docs/search.md). Rendering is line-level, not a terminal emulator: a `\r` returns to the start of
 * the line and what follows overwrites it (so progress bars collapse to their last state), a
 * backspace removes the character before it, and every other control character and escape
 * sequence is dropped. That is what logs, test runs and listings need, at hundreds of MB/s; the
 * xterm renderer `omnish show` uses is ~2 MB/s, too slow to keep up with 8 terminals.
 */
import stripAnsi from 'strip-ansi';

/** Bytes of a command's output indexed from its start. */
export const INDEX_HEAD_BYTES = 32 * 1024;
/** Bytes of a command's output indexed from its end. With the head: the per-command cap, 128 KiB. */
export const INDEX_TAIL_BYTES = 96 * 1024;

/** The ranges of [start, end) (output byte stream offsets) that the index reads: the head and the tail, bytes. */
export function indexedRanges(start: number, end: number): { head: [number, number]; tail: [number, number] } {
  const headEnd = Math.min(end, start + INDEX_HEAD_BYTES);
  return { head: [start, headEnd], tail: [Math.max(headEnd, end - INDEX_TAIL_BYTES), end] };
}

/** Control characters a terminal does not show (LF and TAB are kept). */
// eslint-disable-next-line no-control-regex -- dropping what a terminal would not show is the point
const HIDDEN = /[\x00-\x08\x0b-\x1f\x7f\x80-\x9f]/g;

/** Applies backspaces: each removes the character before it. */
function backspaces(part: string): string {
  if (!part.includes('\b')) return part;
  let piece = '';
  for (const ch of part) piece = ch === '\b' ? piece.slice(0, -1) : piece + ch;
  return piece;
}

/** Renders one line's `\r` and backspaces: each `\r` goes back to column 0 and overwrites. */
function renderLine(line: string): string {
  let text = line;
  if (line.includes('\r')) {
    text = '';
    for (const part of line.split('\r')) {
      const piece = backspaces(part);
      text = piece + text.slice(piece.length);
    }
  } else {
    text = backspaces(line);
  }
  return text.replace(HIDDEN, '').trimEnd();
}

/**
 * Raw terminal output (UTF-8 bytes) as plain lines: escape sequences removed, `\r` and backspace
 * applied per line, other control characters dropped, trailing blanks and blank lines trimmed.
 */
export function flattenOutput(bytes: Uint8Array): string {
  // Buffer's decoder: ~30x faster than a TextDecoder here; invalid UTF-8 becomes U+FFFD all the same.
  const text = stripAnsi(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  const lines = text.replace(/\r+\n/g, '\n').split(/[\n\v\f]/).map(renderLine);
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  while (lines.length > 0 && lines[0] === '') lines.shift();
  return lines.join('\n');
}

/** The text indexed for a command, and how much of its output it leaves out. */
export interface IndexedText {
  text: string;
  /** Bytes of output between the head and the tail that are not indexed (0 under the cap). */
  omittedBytes: number;
}

/**
 * The indexed text of an output of `total` bytes, from its head (its first ≤ INDEX_HEAD_BYTES) and
 * its tail (its last ≤ INDEX_TAIL_BYTES after the head). Between them, a line says what is left out.
 */
export function indexedText(head: Uint8Array, tail: Uint8Array, total: number): IndexedText {
  const omittedBytes = Math.max(0, total - head.length - tail.length);
  if (omittedBytes === 0) return { text: flattenOutput(Buffer.concat([head, tail])), omittedBytes };
  return { text: `${flattenOutput(head)}\n[… ${omittedBytes} bytes not indexed …]\n${flattenOutput(tail)}`, omittedBytes };
}
