/**
 * The filters of a search (`omnish search --exit … --cwd … --since …`, and `omnish mcp`'s search
 * tool): their typed form and the parsing of what a user types. Pure: no SQLite here, so a command
 * can check its options before it loads a binding.
 */
import { resolve } from 'node:path';
import { UsageError } from '../common/errors.js';

/** Which commands a search considers. Every field narrows; none set: all commands. */
export interface SearchFilters {
  /** 'nonzero': failed commands (an exit status other than 0; not those without one); a number: that exit status. */
  exit?: 'nonzero' | number;
  /** Absolute directory: commands run in it or below it. */
  cwd?: string;
  /** Absolute directory: commands run in exactly this one (`--here`). */
  cwdExact?: string;
  /** Host name, exactly. */
  host?: string;
  /** Session id or a prefix of it (lowercase hex). */
  session?: string;
  /** Commands that ended at or after this time, ms since the epoch. */
  sinceMs?: number;
  /** Commands that ended before this time, ms since the epoch. */
  untilMs?: number;
  /** Match the query in the command line only, or in the output only (default: both). */
  in?: 'command' | 'output';
}

/** A search: an FTS5 query (none: every command the filters let through), filters, order, size. */
export interface SearchQuery extends SearchFilters {
  /** FTS5 query syntax (docs/search.md): words, "phrases", prefix*, AND/OR/NOT, NEAR(). */
  query?: string;
  /** 'newest' (default): by end time, newest first; 'rank': best match first (bm25, command line weighted 4×). */
  order?: 'newest' | 'rank';
  /** Most hits returned (default 20, at most 1000). */
  limit?: number;
}

const UNITS_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/**
 * A point in time as a user types it: a duration ago (`90s`, `30m`, `2h`, `3d`, `1w`), a date
 * (`2026-11-21`, local midnight; with `endOfDay` the midnight after it) or a date and time
 * (`2026-11-21T13:05`, `2026-11-21 13:05:00`, ISO 8601 with a zone).
 * @returns ms since the epoch
 * @throws UsageError for anything else
 */
export function parseWhen(text: string, now = Date.now(), endOfDay = false): number {
  const t = text.trim();
  const ago = /^(\d+(?:\.\d+)?)\s*([smhdw])$/i.exec(t);
  if (ago) return now - Number(ago[1]) * (UNITS_MS[ago[2]!.toLowerCase()] ?? 0);
  const day = /^(\d{4})-(\d{2})-(\d{2})$/.exec(t);
  if (day) {
    const ms = new Date(Number(day[1]), Number(day[2]) - 1, Number(day[3]) + (endOfDay ? 1 : 0)).getTime();
    if (!Number.isNaN(ms)) return ms;
  }
  if (/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}/.test(t)) {
    const ms = new Date(t.replace(' ', 'T')).getTime();
    if (!Number.isNaN(ms)) return ms;
  }
  throw new UsageError(`'${text}' is not a time: expected a duration ago (30m, 2h, 3d, 1w) or a date (2026-11-21, 2026-11-21T13:05)`);
}

/**
 * `--exit` as typed: `nonzero` (also `fail`, `!0`) or an exit status 0–255.
 * @throws UsageError for anything else
 */
export function parseExit(text: string): 'nonzero' | number {
  const t = text.trim().toLowerCase();
  if (t === 'nonzero' || t === 'fail' || t === 'failed' || t === '!0') return 'nonzero';
  if (/^\d{1,3}$/.test(t) && Number(t) <= 255) return Number(t);
  throw new UsageError(`--exit '${text}': expected nonzero or an exit status (0-255)`);
}

/**
 * `--session` as typed: a session id or a prefix of it.
 * @throws UsageError for anything but 1–64 hex digits
 */
export function parseSessionPrefix(text: string): string {
  const t = text.trim().toLowerCase();
  if (!/^[0-9a-f]{1,64}$/.test(t)) throw new UsageError(`--session '${text}': expected a session id or a prefix of it (hex digits)`);
  return t;
}

/**
 * `--limit` as typed: 1–1000.
 * @throws UsageError otherwise
 */
export function parseLimit(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw new UsageError(`--limit '${text}': expected a number from 1 to 1000`);
  return n;
}

/** A directory as typed, made absolute against `cwd`, without a trailing slash (but `/` itself). */
export function parseDir(text: string, cwd = process.cwd()): string {
  const abs = resolve(cwd, text);
  return abs.length > 1 ? abs.replace(/\/+$/, '') : abs;
}
