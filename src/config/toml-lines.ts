/**
 * A line scanner for TOML text: where each `[table]` header and `key = value` line is, and where a
 * value ends (strings, multi-line arrays and comments understood). The editor (edit.ts) uses it to
 * change one value without touching anything else, and `omnish config check` to point at the line
 * of a key. It expects valid TOML: callers parse the text with smol-toml first.
 */
import { OmnishError, type ConfigKeyTarget } from '../common/errors.js';

/** One header or key/value line of a TOML document, located in its text. */
export interface TomlEntry {
  kind: 'table' | 'array-table' | 'key';
  /** Full path: the table's for a header; the table's plus the key's parts for a key. */
  path: string[];
  /** Path of the table the entry is in (for a header: its own path). */
  table: string[];
  /** True inside an `[[array.table]]`, whose keys `config set` never edits. */
  inArray: boolean;
  /** 1-based line and column of the header's `[` or the key's first character. */
  line: number;
  col: number;
  /** Offset of the first character of the entry's line. */
  lineStart: number;
  /** For keys: offsets of the value, [valueStart, valueEnd), without the trailing comment. */
  valueStart: number;
  valueEnd: number;
  /** Offset just after the entry's last line, newline included. */
  end: number;
}

/** `(offset) → 1-based line and column` for one text. */
function lineIndex(text: string): (offset: number) => { line: number; col: number } {
  const starts = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return (offset) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((starts[mid] ?? 0) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, col: offset - (starts[lo] ?? 0) + 1 };
  };
}

/** Offset just after the string starting at `i` (any of the four TOML string forms). */
function skipString(text: string, i: number): number {
  const q = text[i] as '"' | "'";
  if (text.startsWith(q.repeat(3), i)) {
    let j = i + 3;
    for (;;) {
      if (j >= text.length) return j;
      if (q === '"' && text[j] === '\\') j += 2;
      else if (text.startsWith(q.repeat(3), j)) {
        // Up to two quotes may end the content just before the closing delimiter: `""""` ends in `"`.
        let k = j + 3;
        while (k < j + 5 && text[k] === q) k++;
        return k;
      } else j++;
    }
  }
  let j = i + 1;
  while (j < text.length && text[j] !== q && text[j] !== '\n') j += q === '"' && text[j] === '\\' ? 2 : 1;
  return j + 1;
}

/** Offset where the value starting at `i` ends: its trailing spaces and comment are not part of it. */
function valueEnd(text: string, i: number): number {
  let depth = 0;
  let last = i;
  while (i < text.length) {
    const c = text[i];
    if (c === '"' || c === "'") {
      i = last = skipString(text, i);
      continue;
    }
    if (c === '#' || c === '\n') {
      if (depth === 0) break;
      // Inside an array or inline table a comment runs to the end of its line; the value goes on.
      if (c === '#') while (i < text.length && text[i] !== '\n') i++;
      else i++;
      continue;
    }
    if (c === '[' || c === '{') depth++;
    else if (c === ']' || c === '}') depth--;
    if (c !== ' ' && c !== '\t' && c !== '\r') last = i + 1;
    i++;
  }
  return last;
}

/** Reads a dotted key at `i` (`a.b`, `"x y".z`, `'lit'`); returns its parts and the offset after it. */
function readKey(text: string, i: number): { parts: string[]; end: number } {
  const parts: string[] = [];
  for (;;) {
    while (text[i] === ' ' || text[i] === '\t') i++;
    const c = text[i];
    if (c === '"' || c === "'") {
      const end = skipString(text, i);
      const raw = text.slice(i, end);
      parts.push(c === "'" ? raw.slice(1, -1) : decodeBasic(raw));
      i = end;
    } else {
      const m = /^[A-Za-z0-9_-]+/.exec(text.slice(i, i + 256));
      if (!m) throw new OmnishError(`cannot read a key at offset ${i} of the config text`);
      parts.push(m[0]);
      i += m[0].length;
    }
    let j = i;
    while (text[j] === ' ' || text[j] === '\t') j++;
    if (text[j] !== '.') return { parts, end: i };
    i = j + 1;
  }
}

/** A basic string's content: TOML's escapes are JSON's apart from \U and \e, which keys never need. */
function decodeBasic(raw: string): string {
  try {
    return JSON.parse(raw) as string;
  } catch {
    return raw.slice(1, -1);
  }
}

/** Offset after the end of the line holding `i` (newline included). */
function lineEnd(text: string, i: number): number {
  const nl = text.indexOf('\n', i);
  return nl < 0 ? text.length : nl + 1;
}

/** Every header and key/value line of `text`, in order. @throws OmnishError on text that is not TOML */
export function scanToml(text: string): TomlEntry[] {
  const at = lineIndex(text);
  const entries: TomlEntry[] = [];
  let table: string[] = [];
  let inArray = false;
  let i = 0;
  while (i < text.length) {
    const lineStart = i;
    while (text[i] === ' ' || text[i] === '\t') i++;
    const c = text[i];
    if (c === undefined || c === '\n' || c === '\r' || c === '#') {
      i = lineEnd(text, i);
      continue;
    }
    const pos = at(i);
    if (c === '[') {
      const array = text[i + 1] === '[';
      const key = readKey(text, i + (array ? 2 : 1));
      table = key.parts;
      inArray = array;
      const end = lineEnd(text, key.end);
      entries.push({ kind: array ? 'array-table' : 'table', path: table, table, inArray, ...pos, lineStart, valueStart: end, valueEnd: end, end });
      i = end;
      continue;
    }
    const key = readKey(text, i);
    let j = key.end;
    while (text[j] === ' ' || text[j] === '\t') j++;
    if (text[j] !== '=') throw new OmnishError(`config text line ${pos.line}: expected '=' after a key`);
    j++;
    while (text[j] === ' ' || text[j] === '\t') j++;
    const vEnd = valueEnd(text, j);
    const end = lineEnd(text, vEnd);
    entries.push({ kind: 'key', path: [...table, ...key.parts], table, inArray, ...pos, lineStart, valueStart: j, valueEnd: vEnd, end });
    i = end;
  }
  return entries;
}

/** Parses a dotted key as typed by the user (`llm.auto_trigger.notify`, `llm."my model".model`). */
export function parseDottedKey(key: string): string[] | undefined {
  try {
    const { parts, end } = readKey(key, 0);
    return key.slice(end).trim() === '' ? parts : undefined;
  } catch {
    return undefined;
  }
}


/** Where an error is about: a key path, or a key inside the `index`th (1-based) `[[array]]` table. */
export type KeyTarget = ConfigKeyTarget;

/**
 * The 1-based line and column where `target` is written in `text`: its key, else the header or key
 * that comes closest to it (the `[llm.claude]` of a missing `llm.claude.model`), else 1:1.
 */
export function locateKey(text: string, target: KeyTarget): { line: number; col: number } {
  let entries = scanToml(text);
  let path = target.path;
  if (target.array) {
    const { path: arrayPath, index } = target.array;
    const headers = entries.filter((e) => e.kind === 'array-table' && e.path.join('\0') === arrayPath.join('\0'));
    const header = headers[index - 1];
    if (!header) return { line: 1, col: 1 };
    const from = entries.indexOf(header);
    const next = entries.findIndex((e, i) => i > from && e.kind !== 'key');
    entries = entries.slice(from, next < 0 ? undefined : next);
    path = [...arrayPath, ...path];
  }
  let best: TomlEntry | undefined;
  let bestLength = 0;
  for (const e of entries) {
    let n = 0;
    while (n < e.path.length && n < path.length && e.path[n] === path[n]) n++;
    // Only entries on the way to the target, or inside it, count: [llm] for llm.default, not [llm.claude].
    if (n === Math.min(e.path.length, path.length) && n > bestLength) {
      best = e;
      bestLength = n;
    }
  }
  return best ? { line: best.line, col: best.col } : { line: 1, col: 1 };
}
