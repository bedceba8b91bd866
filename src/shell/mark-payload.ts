/**
 * The text of omnish's shell-integration marks: the OSC payloads `133;A|B|C`, `133;D;<exit>`,
 * `633;E;<command>` and `633;P;Cwd=<path>`, each ending in `;omnish=<nonce>`. Parameters are
 * escaped as VS Code does: `\\` is a backslash, `\xHH` the byte HH (so `\x3b` is `;`); the bytes
 * are UTF-8. The byte-level parsing of the output stream is in marks.ts.
 */

const BACKSLASH = 0x5c;

/** What a mark says. */
export type MarkKind = 'A' | 'B' | 'C' | 'D' | 'E' | 'P' | 'alt-on' | 'alt-off';

/** One mark found in the output stream. Offsets count bytes of the stream as pushed, marks included. */
export interface MarkEvent {
  kind: MarkKind;
  /** Byte offset in the output stream of the sequence's first byte (its ESC). */
  start: number;
  /** Byte offset in the output stream just after the sequence's last byte. */
  offset: number;
  /** D: the command's exit status; absent when the mark carries none (or not a number). */
  exitCode?: number;
  /** E: the command line, unescaped. */
  command?: string;
  /** P: the working directory, unescaped. */
  cwd?: string;
}

/**
 * Undoes VS Code's escaping (`\\`, `\xHH`) of a latin1-decoded parameter and decodes the bytes
 * as UTF-8. A backslash not starting a valid escape is kept as is.
 */
export function unescapeMarkText(text: string): string {
  if (!text.includes('\\')) return Buffer.from(text, 'latin1').toString('utf8');
  const out = Buffer.allocUnsafe(text.length);
  let k = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === BACKSLASH) {
      if (text.charCodeAt(i + 1) === BACKSLASH) {
        out[k++] = BACKSLASH;
        i++;
        continue;
      }
      const hex = text.slice(i + 2, i + 4);
      if (text[i + 1] === 'x' && /^[0-9a-fA-F]{2}$/.test(hex)) {
        out[k++] = parseInt(hex, 16);
        i += 3;
        continue;
      }
    }
    out[k++] = c;
  }
  return out.toString('utf8', 0, k);
}

/**
 * Decodes the payload of a complete OSC (latin1: one char per byte), or null when it is not one of
 * our marks: not 133/633, an unknown letter, or a last parameter other than `tag` (`omnish=<nonce>`).
 * The nonce must be last, so a command line that happens to read `omnish=...` stays a command line.
 */
export function parseMarkPayload(text: string, tag: string): Omit<MarkEvent, 'start' | 'offset'> | null {
  const parts = text.split(';');
  if (parts.length < 3 || parts[parts.length - 1] !== tag) return null;
  const code = parts[0];
  const params = parts.slice(2, -1);
  if (code !== '133' && code !== '633') return null;
  switch (parts[1]) {
    case 'A':
    case 'B':
    case 'C':
      return { kind: parts[1] };
    case 'D': {
      const exit = params[0] ?? '';
      return /^-?\d{1,10}$/.test(exit) ? { kind: 'D', exitCode: Number(exit) } : { kind: 'D' };
    }
    case 'E':
      return code === '633' ? { kind: 'E', command: unescapeMarkText(params[0] ?? '') } : null;
    case 'P': {
      const cwd = params.find((p) => p.startsWith('Cwd='));
      return code === '633' && cwd !== undefined ? { kind: 'P', cwd: unescapeMarkText(cwd.slice(4)) } : null;
    }
    default:
      return null;
  }
}
