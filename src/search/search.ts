/**
 * Running a search on the index: the read API that `omnish search`, its picker and `omnish mcp`
 * share. `runSearch(index, query)` returns typed hits, newest first (or by rank), each with a
 * snippet of its output around the first match and where the matches are in it. Texts in a hit are
 * untrusted (they come from the terminal): sanitize them before writing them to one.
 */
import { inflateRawSync } from 'node:zlib';
import { UsageError } from '../common/errors.js';
import { MAX_SLOT_BUMP, rowidSlot, type IndexedCommand, type SearchIndex } from './db.js';
import type { SearchQuery } from './filters.js';
import type { SqlValue } from './sqlite.js';

/** Default and largest number of hits. */
export const DEFAULT_LIMIT = 20;
export const MAX_LIMIT = 1000;
/** Longest snippet, characters. */
export const SNIPPET_CHARS = 160;

/**
 * One command found: its index row (db.ts IndexedCommand, `session` and `seq` being what
 * `omnish show ID:SEQ` opens) without the text, and where the query matched.
 */
export interface SearchHit extends Omit<IndexedCommand, 'text'> {
  /** One line of its indexed output: around the first match, else its first line ('' for none). */
  snippet: string;
  /** [start, end) character offsets of the matches in `snippet`. */
  matches: Array<[number, number]>;
  /** Matches in the command line, [start, end) offsets in `command`. */
  commandMatches: Array<[number, number]>;
}

/** What a search returns. */
export interface SearchResult {
  hits: SearchHit[];
  /** The FTS5 query that ran (the user's, or its words quoted when it was not valid syntax; '' for none). */
  ftsQuery: string;
}

/** A term of a query, for highlighting: a word, or a phrase as its words; `prefix` for `word*`. */
interface Term {
  words: string[];
  prefix: boolean;
}

const WORD = /[\p{L}\p{N}_]+/gu;
const OPERATORS = new Set(['AND', 'OR', 'NOT', 'NEAR']);

/** The words and phrases of an FTS5 query (operators, column names and NEAR distances left out). */
export function queryTerms(query: string): Term[] {
  const terms: Term[] = [];
  // Column filters ({command} : …) name columns, not words.
  const q = query.replace(/\{[^}]*\}/g, ' ');
  for (const m of q.matchAll(/"((?:[^"]|"")*)"(\*)?|([\p{L}\p{N}_]+)(\*)?(\s*:)?/gu)) {
    if (m[1] !== undefined) {
      const words = m[1].replace(/""/g, '"').match(WORD) ?? [];
      if (words.length > 0) terms.push({ words, prefix: m[2] === '*' });
      continue;
    }
    const word = m[3] ?? '';
    if (m[5] || OPERATORS.has(word)) continue; // `command:` is a column, AND/OR/NOT/NEAR operators
    if (/^\d+$/.test(word) && /,\s*$/.test(q.slice(0, m.index))) continue; // NEAR(a b, 5): the distance
    terms.push({ words: [word], prefix: m[4] === '*' });
  }
  return terms;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A regular expression matching any of `terms` as whole words (case-insensitive), or null for none. */
function termRegex(terms: readonly Term[]): RegExp | null {
  if (terms.length === 0) return null;
  const alts = terms.map((t) => t.words.map(escapeRe).join('[^\\p{L}\\p{N}_]+') + (t.prefix ? '[\\p{L}\\p{N}_]*' : ''));
  return new RegExp(`(?<![\\p{L}\\p{N}_])(?:${alts.join('|')})(?![\\p{L}\\p{N}_])`, 'giu');
}

/** [start, end) of every match of `re` in `text`. */
function matchesIn(text: string, re: RegExp | null): Array<[number, number]> {
  if (!re) return [];
  return [...text.matchAll(re)].map((m) => [m.index, m.index + m[0].length] as [number, number]);
}

/** One line of `text` around the first match of `re` (at most SNIPPET_CHARS), with its matches. */
export function makeSnippet(text: string, re: RegExp | null): { snippet: string; matches: Array<[number, number]> } {
  const first = re ? new RegExp(re.source, 'iu').exec(text) : null;
  let line: string;
  let at = 0;
  if (first) {
    const start = text.lastIndexOf('\n', first.index) + 1;
    const end = text.indexOf('\n', first.index);
    line = text.slice(start, end === -1 ? undefined : end);
    at = first.index - start;
  } else {
    line = text.split('\n').find((l) => l.trim() !== '') ?? '';
  }
  const lead = line.length - line.trimStart().length;
  line = line.trim();
  at = Math.max(0, at - lead);
  if (line.length > SNIPPET_CHARS) {
    const from = Math.max(0, Math.min(at - 40, line.length - SNIPPET_CHARS));
    line = (from > 0 ? '…' : '') + line.slice(from, from + SNIPPET_CHARS - 1) + (from + SNIPPET_CHARS - 1 < line.length ? '…' : '');
  }
  return { snippet: line, matches: matchesIn(line, re) };
}

/** The WHERE clauses and parameters of the filters. */
function filterSql(q: SearchQuery): { where: string[]; params: SqlValue[] } {
  const where: string[] = [];
  const params: SqlValue[] = [];
  if (q.exit === 'nonzero') where.push('c.exit IS NOT NULL AND c.exit != 0');
  else if (typeof q.exit === 'number') {
    where.push('c.exit = ?');
    params.push(q.exit);
  }
  if (q.cwd !== undefined) {
    const dir = q.cwd === '/' ? '' : q.cwd;
    where.push('(c.cwd = ? OR substr(c.cwd, 1, ?) = ?)');
    params.push(q.cwd, dir.length + 1, `${dir}/`);
  }
  if (q.cwdExact !== undefined) {
    where.push('c.cwd = ?');
    params.push(q.cwdExact);
  }
  if (q.host !== undefined) {
    where.push('c.host = ?');
    params.push(q.host);
  }
  if (q.session !== undefined) {
    where.push('substr(c.session, 1, ?) = ?');
    params.push(q.session.length, q.session);
  }
  return { where, params };
}

/**
 * The time filters: a rowid range (a rowid is its end time's slot or a later one, db.ts), which
 * bounds the walk, and the exact end time, which decides.
 */
function rowidRange(q: SearchQuery, column: string): { where: string[]; params: SqlValue[] } {
  const where: string[] = [];
  const params: SqlValue[] = [];
  if (q.sinceMs !== undefined) {
    where.push(`${column} >= ?`, 'c.ended_ms >= ?');
    params.push(rowidSlot(q.sinceMs), Math.floor(q.sinceMs));
  }
  if (q.untilMs !== undefined) {
    where.push(`${column} <= ?`, 'c.ended_ms < ?');
    params.push(rowidSlot(q.untilMs) + MAX_SLOT_BUMP, Math.floor(q.untilMs));
  }
  return { where, params };
}

/** The user's query as FTS5 gets it, restricted to one column for `in`. */
function ftsExpression(query: string, column: SearchQuery['in']): string {
  return column ? `{${column}} : (${query})` : query;
}

/** Each whitespace-separated word of `query` as a quoted phrase: what `src/x.c` or `foo-bar` meant. */
function quoteWords(query: string): string {
  return query.split(/\s+/).filter(Boolean).map((w) => `"${w.replace(/"/g, '""')}"`).join(' ');
}

function isSyntaxError(err: unknown): boolean {
  return /fts5: syntax error|unterminated string|no such column|unknown special query|fts5: column queries/i.test((err as Error).message ?? '');
}

/**
 * Runs `q` on the index.
 * @throws UsageError for a query that is not valid FTS5 syntax even with its words quoted
 * @throws the binding's error for a damaged index (see isCorruption)
 */
export function runSearch(index: SearchIndex, q: SearchQuery): SearchResult {
  const limit = Math.min(MAX_LIMIT, Math.max(1, Math.floor(q.limit ?? DEFAULT_LIMIT)));
  const text = q.query?.trim() ?? '';
  const filters = filterSql(q);
  const cols = 'c.session, c.seq, c.host, c.shell, c.cwd, c.command, c.exit, c.started_ms, c.ended_ms, c.output_bytes, c.omitted_bytes, c.alt_screen, c.text';
  let rows: Record<string, SqlValue>[];
  let ftsQuery = '';
  if (text === '') {
    const range = rowidRange(q, 'c.id');
    const where = [...range.where, ...filters.where];
    rows = index.db.prepare(`SELECT ${cols} FROM commands c ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY c.id DESC LIMIT ?`)
      .all(...range.params, ...filters.params, limit);
  } else {
    const range = rowidRange(q, 'fts.rowid');
    const where = ['fts MATCH ?', ...range.where, ...filters.where].join(' AND ');
    const order = q.order === 'rank' ? 'bm25(fts, 1.0, 4.0)' : 'fts.rowid DESC';
    const sql = `SELECT ${cols} FROM fts JOIN commands c ON c.id = fts.rowid WHERE ${where} ORDER BY ${order} LIMIT ?`;
    const run = (fts: string): Record<string, SqlValue>[] => index.db.prepare(sql).all(ftsExpression(fts, q.in), ...range.params, ...filters.params, limit);
    ftsQuery = text;
    try {
      rows = run(text);
    } catch (err) {
      if (!isSyntaxError(err)) throw err;
      ftsQuery = quoteWords(text);
      try {
        rows = run(ftsQuery);
      } catch (again) {
        if (!isSyntaxError(again)) throw again;
        throw new UsageError(`'${text}' is not a search query: ${(err as Error).message.replace(/^fts5: /, '')} (see omnish search --help)`, { cause: err });
      }
    }
  }
  const re = termRegex(queryTerms(ftsQuery));
  return { hits: rows.map((r) => toHit(r, q.in === 'command' ? null : re, q.in === 'output' ? null : re)), ftsQuery };
}

function toHit(r: Record<string, SqlValue>, outputRe: RegExp | null, commandRe: RegExp | null): SearchHit {
  const text = inflateRawSync(r.text as Uint8Array).toString('utf8');
  const command = r.command === null ? null : String(r.command);
  return {
    session: String(r.session),
    seq: Number(r.seq),
    host: String(r.host),
    shell: String(r.shell),
    cwd: r.cwd === null ? null : String(r.cwd),
    command,
    exitCode: r.exit === null ? null : Number(r.exit),
    startedAtMs: Number(r.started_ms),
    endedAtMs: Number(r.ended_ms),
    outputBytes: Number(r.output_bytes),
    omittedBytes: Number(r.omitted_bytes),
    altScreen: Number(r.alt_screen) === 1,
    ...makeSnippet(text, outputRe),
    commandMatches: command === null ? [] : matchesIn(command, commandRe),
  };
}
