/**
 * The search index (docs/search.md): SQLite with FTS5, derived from the session store. The read
 * API for commands (`omnish search`, `omnish mcp`): `openIndex` then `runSearch(index, query)`,
 * which returns typed hits; filters are parsed by the functions of filters.ts. omnishd writes it
 * (src/daemon/indexer.ts) with `SearchIndex.add`/`removeSessions` and `sessionCommands`.
 * Importing this module loads no SQLite binding; opening an index does.
 */
export { IndexCorruptError, isCorruption, SearchIndex, SCHEMA_VERSION, type IndexedCommand } from './db.js';
export {
  parseDir, parseExit, parseLimit, parseSessionPrefix, parseWhen, type SearchFilters, type SearchQuery,
} from './filters.js';
export { DEFAULT_LIMIT, MAX_LIMIT, queryTerms, runSearch, type SearchHit, type SearchResult } from './search.js';
export { indexedCommand, sessionCommands, type SessionInfo } from './from-store.js';
export { flattenOutput, INDEX_HEAD_BYTES, INDEX_TAIL_BYTES, indexedRanges, indexedText } from './text.js';
export { loadBinding, SqliteUnavailableError, type BindingName } from './sqlite.js';

import { join } from 'node:path';
import { dataDir } from '../common/paths.js';

/** Name of the index file in the data directory. */
export const INDEX_FILE = 'search.db';

/** Path of the search index: `<data dir>/search.db`. */
export function indexPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(dataDir(env), INDEX_FILE);
}
