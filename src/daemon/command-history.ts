/**
 * The CommandHistory the context builder asks (src/llm/context-history.ts): earlier runs of a
 * command line in one directory, from the search index, read-only. An index that is missing,
 * damaged or without SQLite means "unknown" (null), never an error: the answer goes on without it.
 */
import { existsSync } from 'node:fs';
import type { CommandHistory, CommandHistoryFacts } from '../llm/context-history.js';
import { indexPath, runSearch, SearchIndex, MAX_LIMIT, type SearchHit, type SearchQuery } from '../search/index.js';

export class IndexCommandHistory implements CommandHistory {
  /** @param path the index file (default: the data directory's) */
  constructor(private readonly path: string = indexPath()) {}

  async earlierRuns(q: { command: string; cwd: string; beforeMs: number; session: string; seq: number }): Promise<CommandHistoryFacts | null> {
    if (!existsSync(this.path)) return null;
    let index: SearchIndex;
    try {
      index = await SearchIndex.open(this.path, { readOnly: true });
    } catch {
      return null;
    }
    try {
      const base: SearchQuery = { cwdExact: q.cwd, untilMs: q.beforeMs + 1, in: 'command', limit: MAX_LIMIT };
      let hits: SearchHit[];
      try {
        // The words of the command line narrow it down in FTS; equality is checked below.
        hits = runSearch(index, { ...base, query: `"${q.command.replace(/"/g, '""')}"` }).hits;
      } catch {
        hits = runSearch(index, base).hits; // a line without words FTS can match (e.g. `..`)
      }
      const runs = hits.filter((h) => h.command === q.command && !(h.session === q.session && h.seq === q.seq));
      const success = runs.find((h) => h.exitCode === 0); // newest first
      return {
        runs: runs.length,
        failures: runs.filter((h) => h.exitCode !== null && h.exitCode !== 0).length,
        ...(success ? { lastSuccess: { atMs: success.endedAtMs, session: success.session, seq: success.seq } } : {}),
        ...(hits.length >= MAX_LIMIT ? { capped: true } : {}),
      };
    } catch {
      return null;
    } finally {
      index.close();
    }
  }
}
