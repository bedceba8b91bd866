/**
 * Comment-preserving edits of config.toml. smol-toml parses and writes TOML but drops comments, and
 * the config file is mostly comments (config/default.toml), so `omnish config set --save` edits the
 * text itself: a line scanner (toml-lines.ts) finds `[table]` headers and `key = value` lines with
 * their offsets, and an edit replaces one value, adds one line, or appends one table. Every byte
 * outside the edit stays as it was.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fchmodSync, fsyncSync, openSync, realpathSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { OmnishError, UsageError } from '../common/errors.js';
import { makeDirs } from '../common/fs.js';
import { scanToml } from './toml-lines.js';

export { parseDottedKey, scanToml, type TomlEntry } from './toml-lines.js';

const BARE_KEY = /^[A-Za-z0-9_-]+$/;

/** Writes a key part as TOML: bare when it can be, else a quoted string. */
export function quoteKey(part: string): string {
  return BARE_KEY.test(part) ? part : quoteString(part);
}

/** A TOML string: a literal '…' for text with backslashes (regular expressions), else a basic "…". */
export function quoteString(s: string): string {
  // eslint-disable-next-line no-control-regex -- control characters must be escaped in TOML strings
  const control = /[\x00-\x08\x0a-\x1f\x7f]/;
  if (s.includes('\\') && !s.includes("'") && !control.test(s)) return `'${s}'`;
  // JSON's escapes are valid TOML; DEL must be escaped too in TOML, and JSON leaves it as it is.
  return JSON.stringify(s).replace(/\x7f/g, '\\u007f');
}

/** Writes a value as a one-line TOML value (`true`, `30`, `"x"`, `["a", "b"]`, `{ k = 1 }`). */
export function formatValue(v: unknown): string {
  if (typeof v === 'string') return quoteString(v);
  if (typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (typeof v === 'number') return Number.isNaN(v) ? 'nan' : v === Infinity ? 'inf' : v === -Infinity ? '-inf' : String(v);
  if (v instanceof Date) return v.toISOString();
  if (Array.isArray(v)) return `[${v.map(formatValue).join(', ')}]`;
  if (typeof v === 'object' && v !== null) {
    const items = Object.entries(v).map(([k, x]) => `${quoteKey(k)} = ${formatValue(x)}`);
    return items.length === 0 ? '{}' : `{ ${items.join(', ')} }`;
  }
  throw new OmnishError(`cannot write ${String(v)} as a TOML value`);
}

/**
 * Reads a value typed on the command line as TOML (`true`, `30`, `"x"`, `["a", "b"]`). A bare word
 * that is not TOML (`openai`, `/bin/zsh`, `gpt-4o-mini`) is taken as a string, so the quotes a
 * shell would eat are not needed for simple names.
 * @throws UsageError for anything else
 */
export function parseValue(text: string): unknown {
  try {
    const doc = parseToml(`v = ${text}`);
    // `1\nx = 2` would parse as two keys: only a single value is a value.
    if (Object.keys(doc).length === 1 && 'v' in doc) return doc.v;
  } catch {
    // not TOML: maybe a bare word
  }
  if (text !== '' && !/[\s"'[\]{}=#,]/.test(text)) return text;
  throw new UsageError(`${JSON.stringify(text)} is not a TOML value: quote text ("some text"), write lists as ["a", "b"]`);
}

const same = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * Returns `text` with the key at `path` set to `value`, changing nothing else: the value of an
 * existing `key = value` line is replaced (its comment stays); a new key goes after the last key of
 * its table (or right after the table's header); a missing table is added after the last table of
 * the same top-level section, or at the end.
 * @throws OmnishError when the key lies inside an inline table or array, which a line edit cannot reach
 */
export function setKey(text: string, path: readonly string[], value: unknown): string {
  const entries = scanToml(text).filter((e) => !e.inArray);
  const v = formatValue(value);
  const exact = entries.find((e) => e.kind === 'key' && same(e.path, path));
  if (exact) return text.slice(0, exact.valueStart) + v + text.slice(exact.valueEnd);
  const blocker = entries.find((e) => e.kind === 'key' && e.path.length < path.length && same(e.path, path.slice(0, e.path.length)));
  if (blocker) {
    throw new OmnishError(`${path.join('.')} is inside the value of ${blocker.path.join('.')} (line ${blocker.line}); edit that line by hand`);
  }
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const parent = path.slice(0, -1);
  const insert = (at: number, lines: string): string => {
    const before = at > 0 && text[at - 1] !== '\n' ? eol : '';
    return text.slice(0, at) + before + lines + text.slice(at);
  };
  const siblings = entries.filter((e) => e.kind === 'key' && same(e.path.slice(0, -1), parent));
  const last = siblings[siblings.length - 1];
  if (last) {
    // Written relative to the sibling's table, so `[llm]` + `auto_trigger.notify = …` stays dotted.
    const indent = /^[ \t]*/.exec(text.slice(last.lineStart))?.[0] ?? '';
    return insert(last.end, `${indent}${path.slice(last.table.length).map(quoteKey).join('.')} = ${v}${eol}`);
  }
  const keyLine = `${quoteKey(path[path.length - 1] ?? '')} = ${v}${eol}`;
  const header = entries.find((e) => e.kind === 'table' && same(e.path, parent));
  if (header) return insert(header.end, keyLine);
  if (parent.length === 0) return keyLine + text; // a top-level key must come before any header
  const family = entries.filter((e) => e.path[0] === parent[0]);
  const at = family[family.length - 1]?.end ?? text.length;
  const gapAfter = at < text.length && !/^[ \t]*\r?\n/.test(text.slice(at)) ? eol : '';
  const gapBefore = at === 0 ? '' : eol;
  return insert(at, `${gapBefore}[${parent.map(quoteKey).join('.')}]${eol}${keyLine}${gapAfter}`);
}

/**
 * Replaces the file at `path` with `text` atomically: a temporary file beside it is written,
 * flushed and renamed over it, so a crash leaves either the old or the new file, never half of one.
 * A symlinked config (dotfile managers) is followed, so the link survives and its target changes.
 * @param mode permission bits for a new file (an existing file keeps its own)
 */
export function writeFileAtomic(path: string, text: string, mode = 0o600): void {
  let target = path;
  let fileMode = mode;
  try {
    target = realpathSync(path);
    fileMode = statSync(target).mode & 0o7777;
  } catch {
    makeDirs(dirname(path), 0o700);
  }
  const tmp = join(dirname(target), `.${basename(target)}.${randomBytes(4).toString('hex')}.tmp`);
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    fchmodSync(fd, fileMode); // exact bits: openSync's mode would be masked by the umask
    writeSync(fd, text);
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, target);
  } catch (err) {
    for (const undo of [() => closeSync(fd), () => unlinkSync(tmp)]) {
      try {
        undo();
      } catch {
        // closed or gone already
      }
    }
    throw err;
  }
}
