/**
 * `omnish index rebuild`: drops the search index and has omnishd index the store again (the store
 * is the source of truth; docs/search.md "Rebuilding"). omnishd does the work because it is the
 * index's only writer: a rebuild beside it would race the commands it adds.
 */
import { OmnishError } from '../common/errors.js';
import { safeJson, sanitizeLine } from '../common/sanitize.js';
import { request } from '../control/request.js';
import type { CommandSpec } from './registry.js';

/** Longest wait for a rebuild, ms: a store of several GB takes minutes. */
const REBUILD_TIMEOUT_MS = 30 * 60_000;

const rebuild: CommandSpec<[], { json?: boolean }> = {
  name: 'rebuild',
  summary: 'drop the search index and index every stored session again',
  usage: { options: [{ flags: '--json', description: 'print the result as JSON: {"state", "path", "commands", "sessions", "problem"?}' }] },
  async run(io, _args, opts) {
    const started = Date.now();
    const r = await request('index-rebuild', {}, { autostart: true, idleTimeoutMs: REBUILD_TIMEOUT_MS });
    if (opts.json) return io.out(`${safeJson(r)}\n`);
    if (r.state === 'unavailable' || r.state === 'failed') throw new OmnishError(sanitizeLine(`search index: ${r.problem ?? r.state}`));
    io.out(`rebuilt the search index: ${r.commands} commands from ${r.sessions} sessions in ${((Date.now() - started) / 1000).toFixed(1)}s (${sanitizeLine(r.path)})\n`);
  },
};

export const indexCommand: CommandSpec = {
  name: 'index',
  summary: 'manage the search index (rebuild it from the store)',
  usage: { subcommands: [rebuild as CommandSpec] },
};
