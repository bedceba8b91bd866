/**
 * The SQLite binding of the search index, loaded on first use: `node:sqlite` where the runtime has
 * it without a flag (Node ≥ 22.13, 23.4), else the optional dependency `better-sqlite3` 12.x (its
 * prebuilt binary is built for one Node ABI: on Node 20 it loads, on Node 24 it does not, which is
 * why node:sqlite comes first). Both expose the same synchronous shape (prepare/run/all/get/exec),
 * narrowed here to what the index uses, with positional `?` parameters only (the two spell named
 * parameters differently). Nothing imports this module at start-up: `omnish` without `search`, and
 * the client relay, never load a binding (test/startup-loads.test.ts).
 */
import { createRequire } from 'node:module';

/** A value SQLite stores or returns: numbers come back as JavaScript numbers (never BigInt). */
export type SqlValue = string | number | null | Uint8Array;

/** A prepared statement. */
export interface Statement {
  run(...params: SqlValue[]): { changes: number | bigint };
  all(...params: SqlValue[]): Record<string, SqlValue>[];
  get(...params: SqlValue[]): Record<string, SqlValue> | undefined;
}

/** An open database. */
export interface Database {
  exec(sql: string): void;
  prepare(sql: string): Statement;
  close(): void;
}

/** Which binding opened a database: `node:sqlite` or `better-sqlite3`. */
export type BindingName = 'node:sqlite' | 'better-sqlite3';

/** An open-database function and where it came from. */
export interface Binding {
  name: BindingName;
  /**
   * Opens (creating unless readOnly) the database file at `path`.
   * @throws the binding's error (SQLITE_CANTOPEN, SQLITE_NOTADB, …)
   */
  open(path: string, opts?: { readOnly?: boolean }): Database;
}

/** Neither binding loads: search is off, the rest of omnish is unaffected. */
export class SqliteUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SqliteUnavailableError';
  }
}

interface NodeSqlite {
  DatabaseSync: new (path: string, opts?: { readOnly?: boolean }) => Database;
}
type BetterSqlite = new (path: string, opts?: { readonly?: boolean; fileMustExist?: boolean }) => Database;

/**
 * Imports node:sqlite without the ExperimentalWarning some Node versions print when it loads (22.x
 * prints "SQLite is an experimental feature"): nothing unexpected may reach the user's terminal.
 * Only that one warning is dropped, and only while the import runs.
 */
async function importNodeSqlite(): Promise<NodeSqlite> {
  const emit = process.emitWarning;
  process.emitWarning = function (this: unknown, warning: string | Error, ...rest: unknown[]) {
    const text = typeof warning === 'string' ? warning : warning.message;
    const type = typeof rest[0] === 'string' ? rest[0] : (rest[0] as { type?: string } | undefined)?.type ?? (warning as Error).name;
    if (type === 'ExperimentalWarning' && /sqlite/i.test(text)) return;
    return (emit as (...a: unknown[]) => void).call(process, warning, ...rest);
  } as typeof process.emitWarning;
  try {
    // A variable specifier: @types/node 20 does not know the module, and Node 20 does not have it.
    const specifier = 'node:sqlite';
    return (await import(specifier)) as NodeSqlite;
  } finally {
    process.emitWarning = emit;
  }
}

let loaded: Promise<Binding> | undefined;

/**
 * The binding, loaded once per process.
 * @throws SqliteUnavailableError with one line saying why, when neither binding loads
 */
export function loadBinding(): Promise<Binding> {
  loaded ??= (async (): Promise<Binding> => {
    let nodeError: unknown;
    try {
      const { DatabaseSync } = await importNodeSqlite();
      return { name: 'node:sqlite', open: (path, opts = {}) => new DatabaseSync(path, { readOnly: opts.readOnly === true }) };
    } catch (err) {
      nodeError = err;
    }
    try {
      const Better = createRequire(import.meta.url)('better-sqlite3') as BetterSqlite;
      // Loading the module does not load the addon: open a database to find out whether it works here.
      new Better(':memory:').close();
      return { name: 'better-sqlite3', open: (path, opts = {}) => new Better(path, { readonly: opts.readOnly === true, fileMustExist: opts.readOnly === true }) };
    } catch (err) {
      const why = (err as Error).message.split('\n')[0] ?? '';
      throw new SqliteUnavailableError(
        `search needs SQLite: this Node (${process.version}) has no node:sqlite (Node >= 22.13 has it) and better-sqlite3 does not load (${why})`,
        { cause: nodeError },
      );
    }
  })();
  return loaded;
}
