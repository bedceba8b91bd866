/**
 * The search index: one SQLite file (`<data dir>/search.db`, mode 0600) with a row per recorded
 * command and an FTS5 full-text index over its command line and its output text. It is derived
 * data: the session store stays the source of truth and the index can be dropped and rebuilt from
 * it at any time (src/search/rebuild.ts). omnishd is its only writer; `omnish search` (and `omnish
 * mcp`) open it read-only, which WAL mode allows while the daemon writes.
 *
 * Layout (docs/search.md):
 * - `commands`: the command's metadata and its indexed text, deflated (the text is not kept twice:
 *   the FTS table is contentless, snippets are made from this copy).
 * - `fts`: FTS5, columns `output` and `command`, contentless with contentless_delete (SQLite ≥ 3.43),
 *   tokenizer unicode61 (words, case and diacritics folded). `output` is column 0 because FTS5
 *   marks every position list of another column with two extra bytes: the output's terms are
 *   nearly all of the index (0.04× the text saved, docs/benchmarks.md "Search").
 * - rowid = the end time in sixteenths of a second (ROWIDS_PER_SECOND), or the next free slot
 *   after it, so newest-first is rowid order, which FTS5 walks backwards without sorting, and a
 *   time filter is a rowid range. Slots this coarse keep the rowid deltas that FTS5 stores for every
 *   term of every command at one or two bytes (end ms × 1024 cost 0.04× the text more).
 */
import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { loadBinding, type Database, type SqlValue, type Statement } from './sqlite.js';

/** Version of the schema below; an index of another version is rebuilt. */
export const SCHEMA_VERSION = 2;

/** Rowids per second of end time: a command's rowid is its slot, or the next free one after it. */
export const ROWIDS_PER_SECOND = 16;

/**
 * How far past its own slot a command's rowid may be: a command that finds its slot taken (many
 * commands in a fraction of a second, a pasted script) takes the next free one. A `--until` filter
 * looks this far past its slot and checks the exact end time.
 */
export const MAX_SLOT_BUMP = 16 * 3600;

/** The rowid slot of an end time (ms since the epoch). */
export function rowidSlot(ms: number): number {
  return Math.floor((Math.max(0, ms) * ROWIDS_PER_SECOND) / 1000);
}

/** One command as the index stores it. */
export interface IndexedCommand {
  /** Session id (lowercase hex). */
  session: string;
  /** The command's number in its session (command record `seq`). */
  seq: number;
  /** Host the session ran on. */
  host: string;
  /** Path of the session's shell, e.g. /bin/bash. */
  shell: string;
  /** Working directory when it started, or null if unknown. */
  cwd: string | null;
  /** Command line as the shell reported it, or null. */
  command: string | null;
  /** Exit status, or null if none was reported. */
  exitCode: number | null;
  /** Wall-clock start, ms since the epoch. */
  startedAtMs: number;
  /** Wall-clock end, ms since the epoch. */
  endedAtMs: number;
  /** Bytes of recorded output (outputEnd − outputStart). */
  outputBytes: number;
  /** Bytes of output between head and tail that are not indexed (src/search/text.ts). */
  omittedBytes: number;
  /** True if it ran a full-screen program (its screen is not in the text). */
  altScreen: boolean;
  /** The indexed output text (src/search/text.ts). */
  text: string;
}

/** The index is not a usable SQLite database (SQLITE_CORRUPT, SQLITE_NOTADB) or has another schema. */
export class IndexCorruptError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'IndexCorruptError';
  }
}

/** True for an error SQLite raises for a damaged or foreign file. */
export function isCorruption(err: unknown): boolean {
  const e = err as { code?: string; errcode?: number; message?: string };
  const code = e?.errcode !== undefined ? e.errcode & 0xff : undefined;
  return code === 11 || code === 26 || /SQLITE_(CORRUPT|NOTADB)|malformed|not a database|file is not a database|fts5: corrupt/i.test(`${e?.code ?? ''} ${e?.message ?? ''}`);
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS commands (
  id INTEGER PRIMARY KEY,
  session TEXT NOT NULL,
  seq INTEGER NOT NULL,
  host TEXT NOT NULL,
  shell TEXT NOT NULL,
  cwd TEXT,
  command TEXT,
  exit INTEGER,
  started_ms INTEGER NOT NULL,
  ended_ms INTEGER NOT NULL,
  output_bytes INTEGER NOT NULL,
  omitted_bytes INTEGER NOT NULL,
  alt_screen INTEGER NOT NULL,
  text BLOB NOT NULL,
  UNIQUE (session, seq)
);
CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5(output, command, content='', contentless_delete=1, tokenize='unicode61 remove_diacritics 2');
`;

/** Creates the file owner-only before SQLite opens it (its -wal and -shm files take the same mode). */
function createPrivate(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  closeSync(openSync(path, 'a', 0o600));
  chmodSync(path, 0o600);
}

/**
 * An open index. Writing methods are the daemon's; `search.ts` reads through `db` and `statement`.
 */
export class SearchIndex {
  private readonly statements = new Map<string, Statement>();

  private constructor(readonly db: Database, readonly path: string, readonly readOnly: boolean) {}

  /**
   * Opens the index at `path`; for writing, creates it (mode 0600) and its tables if needed.
   * @throws SqliteUnavailableError when no binding loads; IndexCorruptError for a damaged file or
   *   another schema version; the binding's error otherwise (e.g. a missing file, read-only)
   */
  static async open(path: string, opts: { readOnly?: boolean } = {}): Promise<SearchIndex> {
    const binding = await loadBinding();
    const readOnly = opts.readOnly === true;
    if (!readOnly) createPrivate(path);
    let db: Database;
    try {
      db = binding.open(path, { readOnly });
    } catch (err) {
      if (isCorruption(err)) throw new IndexCorruptError(`the search index ${path} is damaged: ${(err as Error).message}`, { cause: err });
      throw err;
    }
    try {
      db.exec('PRAGMA busy_timeout = 2000');
      if (!readOnly) {
        // Before the first table (a no-op on an existing file): lets compact() give freed pages back.
        db.exec('PRAGMA auto_vacuum = INCREMENTAL');
        db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL');
        db.exec(SCHEMA);
        const version = db.prepare("SELECT value FROM meta WHERE key = 'schema'").get()?.value;
        if (version === undefined) db.prepare("INSERT INTO meta (key, value) VALUES ('schema', ?)").run(String(SCHEMA_VERSION));
        else if (version !== String(SCHEMA_VERSION)) throw new IndexCorruptError(`the search index ${path} has schema ${String(version)}, this omnish writes ${SCHEMA_VERSION}`);
      } else {
        const version = db.prepare("SELECT value FROM meta WHERE key = 'schema'").get()?.value;
        if (version !== String(SCHEMA_VERSION)) throw new IndexCorruptError(`the search index ${path} has schema ${String(version)}, this omnish reads ${SCHEMA_VERSION}`);
      }
    } catch (err) {
      db.close();
      if (err instanceof IndexCorruptError) throw err;
      if (isCorruption(err)) throw new IndexCorruptError(`the search index ${path} is damaged: ${(err as Error).message}`, { cause: err });
      throw err;
    }
    return new SearchIndex(db, path, readOnly);
  }

  /** A cached prepared statement. */
  statement(sql: string): Statement {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  /** Runs `fn` in one transaction (all or nothing; one fsync for a whole batch). */
  transaction<T>(fn: () => T): T {
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const result = fn();
      this.db.exec('COMMIT');
      return result;
    } catch (err) {
      try {
        this.db.exec('ROLLBACK');
      } catch {
        // The transaction is already gone (SQLite rolled it back itself).
      }
      throw err;
    }
  }

  /** Adds (or replaces) commands, in one transaction. */
  add(commands: readonly IndexedCommand[]): void {
    if (commands.length === 0) return;
    this.transaction(() => {
      for (const c of commands) this.insert(c);
    });
  }

  /**
   * Adds (or replaces) one command; outside a transaction() it commits on its own. For callers
   * that bound the time a transaction holds the thread (the daemon's indexer).
   */
  insert(c: IndexedCommand): void {
    const old = this.statement('SELECT id FROM commands WHERE session = ? AND seq = ?').get(c.session, c.seq);
    if (old) this.deleteRow(Number(old.id));
    const id = this.freeRowid(c.endedAtMs);
    this.statement(`INSERT INTO commands (id, session, seq, host, shell, cwd, command, exit, started_ms, ended_ms,
      output_bytes, omitted_bytes, alt_screen, text) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(
      id, c.session, c.seq, c.host, c.shell, c.cwd, c.command, c.exitCode, Math.round(c.startedAtMs), Math.round(c.endedAtMs),
      c.outputBytes, c.omittedBytes, c.altScreen ? 1 : 0, deflateRawSync(c.text, { level: 6 }),
    );
    this.statement('INSERT INTO fts (rowid, command, output) VALUES (?, ?, ?)').run(id, c.command ?? '', c.text);
  }

  /** The first free rowid at or after the slot of end time `ms`. */
  private freeRowid(ms: number): number {
    const slot = rowidSlot(ms);
    // The slot itself, else the first taken id from the slot on whose successor is free (a
    // primary-key walk over the run of taken ids: usually none or one).
    const row = this.statement(`SELECT ? AS id WHERE NOT EXISTS (SELECT 1 FROM commands WHERE id = ?)
      UNION ALL SELECT id + 1 FROM (SELECT c.id FROM commands c WHERE c.id >= ?
        AND NOT EXISTS (SELECT 1 FROM commands d WHERE d.id = c.id + 1) ORDER BY c.id LIMIT 1)
      LIMIT 1`).get(slot, slot, slot);
    return Number(row?.id ?? slot);
  }

  private deleteRow(id: number): void {
    this.statement('DELETE FROM fts WHERE rowid = ?').run(id);
    this.statement('DELETE FROM commands WHERE id = ?').run(id);
  }

  /** Removes every command of the sessions `ids`. @returns how many commands went */
  removeSessions(ids: readonly string[]): number {
    if (ids.length === 0) return 0;
    return this.transaction(() => {
      let n = 0;
      for (const id of ids) {
        for (const row of this.statement('SELECT id FROM commands WHERE session = ?').all(id)) {
          this.deleteRow(Number(row.id));
          n++;
        }
      }
      return n;
    });
  }

  /** Highest seq indexed per session: what catching up after a restart can skip. */
  indexedSeqs(): Map<string, number> {
    const rows = this.statement('SELECT session, max(seq) AS seq FROM commands GROUP BY session').all();
    return new Map(rows.map((r) => [String(r.session), Number(r.seq)]));
  }

  /** Commands and sessions indexed. */
  counts(): { commands: number; sessions: number } {
    const row = this.statement('SELECT count(*) AS n, count(DISTINCT session) AS s FROM commands').get();
    return { commands: Number(row?.n ?? 0), sessions: Number(row?.s ?? 0) };
  }

  /** A value of the meta table (state written by the daemon, read by `omnish search`). */
  getMeta(key: string): string | undefined {
    const v = this.statement('SELECT value FROM meta WHERE key = ?').get(key)?.value;
    return v === undefined || v === null ? undefined : String(v);
  }

  /** Sets (or with null, removes) a value of the meta table. */
  setMeta(key: string, value: string | null): void {
    if (value === null) this.statement('DELETE FROM meta WHERE key = ?').run(key);
    else this.statement('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(key, value);
  }

  /**
   * Makes the file smaller after a large change (a rebuild, a catch-up, sessions removed): with
   * `merge`, FTS5's 'optimize' merges the index into one segment (time and scratch space in
   * proportion to the whole index: only after work of that order), then free pages go back to the
   * file system (incremental vacuum).
   * @returns bytes the file shrank by
   */
  compact(opts: { merge: boolean }): number {
    const pageSize = Number(this.statement('PRAGMA page_size').get()?.page_size ?? 4096);
    const pages = (): number => Number(this.statement('PRAGMA page_count').get()?.page_count ?? 0);
    const before = pages();
    if (opts.merge) this.statement("INSERT INTO fts (fts) VALUES ('optimize')").run();
    this.db.exec('PRAGMA incremental_vacuum');
    return (before - pages()) * pageSize;
  }

  /** Runs SQLite's quick_check: false when the file is damaged. */
  healthy(): boolean {
    try {
      const rows = this.db.prepare('PRAGMA quick_check').all();
      return rows.length === 1 && Object.values(rows[0] ?? {})[0] === 'ok';
    } catch {
      return false;
    }
  }

  close(): void {
    this.statements.clear();
    this.db.close();
  }
}

export type { SqlValue };
