/**
 * The filters of `omnish search` as its options and the tools' arguments give them, turned into a
 * SearchQuery, and opening the index read-only with one clear line for each way it can fail.
 */
import { existsSync } from 'node:fs';
import { OmnishError } from '../common/errors.js';
import {
  indexPath, IndexCorruptError, loadBinding, parseDir, parseExit, parseLimit, parseSessionPrefix, parseWhen, SearchIndex,
  SqliteUnavailableError, type SearchQuery,
} from '../search/index.js';

/** Options of `omnish search`, as commander gives them. */
export interface SearchOptions {
  exit?: string;
  cwd?: string;
  here?: boolean;
  host?: string;
  session?: string;
  since?: string;
  until?: string;
  in?: 'command' | 'output';
  limit?: string;
  rank?: boolean;
  json?: boolean;
  color?: boolean;
}

/**
 * The query the words and options mean.
 * @throws UsageError for a bad filter value
 */
export function searchQuery(words: readonly string[], opts: SearchOptions, now = Date.now()): SearchQuery {
  const q: SearchQuery = { query: words.join(' ').trim() || undefined };
  if (opts.exit !== undefined) q.exit = parseExit(opts.exit);
  if (opts.cwd !== undefined) q.cwd = parseDir(opts.cwd);
  if (opts.here) q.cwdExact = parseDir('.');
  if (opts.host !== undefined) q.host = opts.host;
  if (opts.session !== undefined) q.session = parseSessionPrefix(opts.session);
  if (opts.since !== undefined) q.sinceMs = parseWhen(opts.since, now);
  if (opts.until !== undefined) q.untilMs = parseWhen(opts.until, now, true);
  if (opts.in !== undefined) q.in = opts.in;
  if (opts.limit !== undefined) q.limit = parseLimit(opts.limit);
  if (opts.rank) q.order = 'rank';
  return q;
}

/**
 * Opens the index read-only.
 * @throws OmnishError with one line for the user: no SQLite, no index yet, a damaged index
 */
export async function openIndexForSearch(path = indexPath()): Promise<SearchIndex> {
  if (!existsSync(path)) {
    // Without SQLite there never will be one: say that, not "not yet".
    try {
      await loadBinding();
    } catch (err) {
      if (err instanceof SqliteUnavailableError) throw new OmnishError(err.message, { cause: err });
      throw err;
    }
    throw new OmnishError(`no search index at ${path} yet: omnishd builds it as it records (omnish index rebuild builds it from the store now)`);
  }
  try {
    return await SearchIndex.open(path, { readOnly: true });
  } catch (err) {
    if (err instanceof SqliteUnavailableError) throw new OmnishError(err.message, { cause: err });
    if (err instanceof IndexCorruptError) {
      throw new OmnishError(`${err.message}; omnishd rebuilds it when it starts, or now with: omnish index rebuild`, { cause: err });
    }
    throw new OmnishError(`cannot open the search index ${path}: ${(err as Error).message}`, { cause: err });
  }
}

