/**
 * The read_file tool (only with `[llm.tools] read_files = true`): a text file the model asks for,
 * if it lies under the working directory of the session (where its last command ran) or its path
 * appears in the context sent. Symlinks are resolved first, so a link cannot lead outside. Only
 * regular files that look like text (no NUL byte in what is read); at most `maxBytes`, the rest
 * said to be left out. The text is redacted by the tool loop like every result.
 */
import { closeSync, openSync, readSync, realpathSync, statSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { UsageError } from '../common/errors.js';

/** Where read_file may read, for one request. */
export interface ReadFileScope {
  /** The session's working directory (absolute), or null when unknown. */
  cwd: string | null;
  /** The context sent to the model: a path written in it may be read. */
  contextText: string;
  /** Most bytes returned. */
  maxBytes: number;
}

/** True when `path` is `dir` or below it. */
function under(path: string, dir: string): boolean {
  const rel = relative(dir, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

/** True when `text` has `path` as a whole word: not inside a longer path (`/etc/passwd` is not named by `/etc/passwd.bak`). */
function names(text: string, path: string): boolean {
  if (path.length < 2) return false;
  const esc = path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(^|[\\s'"\`=:(<])${esc}($|[\\s'"\`:),;>])`).test(text);
}

/** The real path of `p`, or null when it does not exist. */
function real(p: string): string | null {
  try {
    return realpathSync(p);
  } catch {
    return null;
  }
}

/**
 * Reads the file `path` (absolute, or relative to the session's cwd) within `scope`.
 * @returns its text (at most maxBytes) and a note when it was cut
 * @throws UsageError (the model's error result) when the path is outside the scope, missing, not a regular file, or binary
 */
export function readFileInScope(path: string, scope: ReadFileScope): { text: string; bytes: number; size: number } {
  if (path.trim() === '') throw new UsageError('read_file needs a path');
  if (!isAbsolute(path) && scope.cwd === null) throw new UsageError('the session\'s working directory is unknown: give an absolute path');
  const wanted = isAbsolute(path) ? resolve(path) : resolve(scope.cwd as string, path);
  const file = real(wanted);
  if (file === null) throw new UsageError(`${path}: no such file`);
  const cwd = scope.cwd === null ? null : real(scope.cwd);
  // Named in the context: the path as the model gave it, or made absolute, written there as a word.
  const named = names(scope.contextText, path) || names(scope.contextText, wanted);
  if (!(cwd !== null && under(file, cwd)) && !named) {
    throw new UsageError(`${path}: read_file reads only files under the session's directory (${scope.cwd ?? 'unknown'}) or named in the context`);
  }
  const st = statSync(file);
  if (!st.isFile()) throw new UsageError(`${path}: not a regular file`);
  const buf = Buffer.alloc(Math.min(scope.maxBytes, st.size));
  const fd = openSync(file, 'r');
  let n = 0;
  try {
    n = readSync(fd, buf, 0, buf.length, 0);
  } finally {
    closeSync(fd);
  }
  const data = buf.subarray(0, n);
  if (data.includes(0)) throw new UsageError(`${path}: not a text file`);
  let text = data.toString('utf8');
  if (st.size > n) text += `\n[… ${st.size - n} more bytes not read: read_file returns at most ${scope.maxBytes} bytes …]`;
  return { text, bytes: n, size: st.size };
}
