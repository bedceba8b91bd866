/**
 * `omnish gc [--dry-run] [--json]`: applies the `[store]` limits now (omnishd also does so when it
 * starts and every hour) and says what that freed. The daemon does the work: it knows which
 * sessions are being recorded, and it is the only process that writes to the store.
 */
import { safeJson, sanitizeLine } from '../common/sanitize.js';
import { request } from '../control/request.js';
import type { GcResult } from '../protocol/index.js';
import type { CommandSpec } from './registry.js';

/** Longest wait for the daemon's answer, ms: cutting a large session rewrites hundreds of MB. */
const GC_TIMEOUT_MS = 120_000;

/** Bytes with one decimal: KB below 1 MB, else MB (1 KB = 1,024 bytes, 1 MB = 1,048,576 as in `[store]`). */
export function size(bytes: number): string {
  return bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(1)} KB` : `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/**
 * The report for a person: "freed 123.4 MB: evicted 3 sessions (2 by age, 1 by size), trimmed 1",
 * then one line per session and the store's size, then the threads deleted (their session went, or
 * they are older than max_age_days); a dry run says "would free".
 */
export function renderGc(r: GcResult, dryRun: boolean): string {
  const byAge = r.evicted.filter((e) => e.reason === 'age').length;
  const bySize = r.evicted.length - byAge;
  const why = [byAge > 0 ? `${byAge} by age` : '', bySize > 0 ? `${bySize} by size` : ''].filter(Boolean).join(', ');
  const lines: string[] = [];
  if (r.evicted.length === 0 && r.trimmed.length === 0) {
    lines.push(`nothing to free: the store holds ${size(r.totalBytesBefore)}, within the [store] limits`);
  } else {
    const evicted = `${dryRun ? 'would evict' : 'evicted'} ${plural(r.evicted.length, 'session')}${why ? ` (${why})` : ''}`;
    lines.push(`${dryRun ? 'would free' : 'freed'} ${size(r.freedBytes)}: ${evicted}, ${dryRun ? 'would trim' : 'trimmed'} ${r.trimmed.length}`);
    for (const e of r.evicted) lines.push(`  evict  ${e.id}  ${size(e.bytes).padStart(10)}  ${e.reason === 'age' ? 'older than max_age_days' : 'over max_total_mb'}`);
    for (const t of r.trimmed) lines.push(`  trim   ${t.id}  ${size(t.bytes).padStart(10)}  over max_session_mb`);
    lines.push(`store: ${size(r.totalBytesBefore)} -> ${size(r.totalBytesAfter)}`);
  }
  const threads = r.threads ?? [];
  if (threads.length > 0) {
    const gone = threads.filter((t) => t.reason === 'session').length;
    const why = [gone > 0 ? `${gone} of deleted sessions` : '', threads.length > gone ? `${threads.length - gone} older than max_age_days` : ''].filter(Boolean).join(', ');
    lines.push(`${dryRun ? 'would delete' : 'deleted'} ${plural(threads.length, 'thread')} (${why})`);
  }
  return `${lines.join('\n')}\n`;
}

export const gcCommand: CommandSpec<[], { dryRun?: boolean; json?: boolean }> = {
  name: 'gc',
  summary: 'free space now: delete old sessions and cut large ones, as [store] in config.toml says',
  usage: {
    options: [
      { flags: '--dry-run', description: 'say what would be freed, change nothing' },
      { flags: '--json', description: 'print the report as JSON: {"freedBytes", "evicted", "trimmed", "totalBytesBefore", "totalBytesAfter", "errors"}' },
    ],
    after: '\nLive sessions are never deleted or cut. Limits: [store] in config.toml (max_total_mb, max_session_mb, max_age_days).\n' +
      'Threads (omnish threads) go with their session, and when not updated for max_age_days.\n',
  },
  async run(out, _args, opts) {
    const dryRun = opts.dryRun === true;
    const report = await request('gc', { dryRun }, { autostart: true, idleTimeoutMs: GC_TIMEOUT_MS });
    out.out(opts.json ? `${safeJson(report)}\n` : renderGc(report, dryRun));
    for (const e of report.errors) out.err(`${sanitizeLine(`omnish: gc: session ${e.id}: ${e.message}`)}\n`);
    if (report.errors.length > 0) out.setExitCode(1);
  },
};
