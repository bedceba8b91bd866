/**
 * Search benchmark (docs/benchmarks.md "Search"): generates a store holding `--mb` MB of recorded
 * output (bench/search-corpus.ts: build logs, test runs, listings, stack traces, progress bars),
 * indexes it as `omnish index rebuild` does, and measures:
 * - query latency, p50/p99, for word and phrase queries with and without filters, on the index
 *   opened read-only as `omnish search` opens it;
 * - `omnish search` end to end, process start included, next to `node -e 0`;
 * - index size against the indexed text;
 * - live indexing: a burst of commands from 8 terminals handed to omnishd's Indexer as the session
 *   manager does, how long until all are searchable, and the longest the event loop (which
 *   carries the recording) went without a turn meanwhile.
 *
 * Usage: npm run bench:search [-- --mb N --runs N --keep DIR --json FILE --live-only]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { tempDir, testEnv } from '../test/helpers/env.js';
import { OMNISH } from '../test/helpers/paths.js';
import { SessionStore, type SessionMeta } from '../src/store/index.js';
import { indexedRanges, runSearch, SearchIndex, sessionCommands, type SearchQuery } from '../src/search/index.js';
import { loadBinding } from '../src/search/sqlite.js';
import { Indexer } from '../src/daemon/indexer.js';
import { IndexerThread } from '../src/daemon/indexer-thread.js';
import type { FinishedCommand } from '../src/daemon/commands.js';
import { Corpus, writeCorpus } from './search-corpus.js';
import { BenchError } from './errors.js';
import { busyFraction, loadAverage } from './procfs.js';
import { fmt, quantile, median } from './stats.js';

const MB = 1024 * 1024;

function log(msg: string): void {
  process.stderr.write(`${msg}\n`);
}

interface Args {
  mb: number;
  runs: number;
  keep?: string;
  json?: string;
  liveOnly?: boolean;
}

function parse(argv: string[]): Args {
  const a: Args = { mb: 1024, runs: 30 };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i + 1];
    switch (argv[i]) {
      case '--mb': a.mb = Number(v); i++; break;
      case '--runs': a.runs = Number(v); i++; break;
      case '--keep': a.keep = v; i++; break;
      case '--json': a.json = v; i++; break;
      case '--live-only': a.liveOnly = true; break;
      case '--help': case '-h':
        process.stdout.write('Usage: npm run bench:search [-- --mb N (1024) --runs N (30) --keep DIR (reuse/keep the corpus) --json FILE --live-only]\n');
        process.exit(0);
        break;
      default: throw new BenchError(`unknown option ${argv[i]}`);
    }
  }
  if (!(a.mb > 0) || !(a.runs > 0)) throw new BenchError('--mb and --runs take positive numbers');
  return a;
}

/** The queries timed: words and phrases, alone and with filters, newest first and by rank. */
function queries(now: number): Array<{ name: string; q: SearchQuery }> {
  return [
    { name: 'word, common (error)', q: { query: 'error' } },
    { name: 'word, rare (ECONNREFUSED)', q: { query: 'ECONNREFUSED' } },
    { name: 'word + prefix (migrat*)', q: { query: 'migrat*' } },
    { name: 'phrase ("no such file or directory")', q: { query: '"no such file or directory"' } },
    { name: 'phrase ("should render the")', q: { query: '"should render the"' } },
    { name: 'word, --exit nonzero', q: { query: 'assertionerror', exit: 'nonzero' } },
    { name: 'word, --since 3d', q: { query: 'payment', sinceMs: now - 3 * 86_400_000 } },
    { name: 'word, --host buildbox --exit 2', q: { query: 'declared', host: 'buildbox', exit: 2 } },
    { name: 'word, --cwd (prefix) --in output', q: { query: 'socket', cwd: '/home/dev', in: 'output' } },
    { name: 'phrase, --session, --until 10d', q: { query: '"index out of range"', session: '5e', untilMs: now - 10 * 86_400_000 } },
    { name: 'word, --rank', q: { query: 'segmentation', order: 'rank' } },
    { name: 'no query, --exit nonzero', q: { exit: 'nonzero' } },
  ];
}

async function main(): Promise<void> {
  const args = parse(process.argv.slice(2));
  const binding = await loadBinding();
  const tmp = args.keep ? { path: args.keep, cleanup: () => {} } : tempDir('omnish-bench-search-');
  const data = join(tmp.path, 'data');
  const sessions = join(data, 'sessions');
  const result: Record<string, unknown> = { node: process.version, binding: binding.name, mb: args.mb, busyBefore: await busyFraction(), loadBefore: loadAverage() };
  try {
    if (args.liveOnly) {
      result.live = await liveBurst(tmp.path);
      if (args.json) writeFileSync(args.json, `${JSON.stringify(result, null, 2)}\n`);
      return;
    }
    // 1. The store.
    if (!existsSync(sessions)) {
      mkdirSync(data, { recursive: true });
      const t0 = performance.now();
      const c = writeCorpus(sessions, args.mb * MB);
      log(`corpus: ${c.sessions} sessions, ${c.commands} commands, ${fmt(c.outputBytes / MB)} MB of output in ${fmt((performance.now() - t0) / 1000)} s`);
      result.corpus = c;
    }
    // 2. The index, built as a rebuild builds it.
    const path = join(data, 'search.db');
    let textBytes = 0;
    let commands = 0;
    let outputBytes = 0;
    if (!existsSync(path)) {
      const index = await SearchIndex.open(path);
      const t0 = performance.now();
      for (const s of new SessionStore(sessions).list().reverse()) {
        const rows = sessionCommands(s);
        for (const r of rows) {
          textBytes += Buffer.byteLength(r.text);
          outputBytes += r.outputBytes;
        }
        commands += rows.length;
        index.add(rows);
      }
      const buildS = (performance.now() - t0) / 1000;
      // As omnishd leaves it after a rebuild (src/daemon/indexer.ts compactAfter): what a user's disk holds.
      const t1 = performance.now();
      index.compact({ merge: true });
      const compactS = (performance.now() - t1) / 1000;
      index.db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
      const page = (sql: string): number => Number(Object.values(index.db.prepare(sql).get() ?? {})[0] ?? 0);
      const pageSize = page('PRAGMA page_size');
      const freeBytes = page('PRAGMA freelist_count') * pageSize;
      const part = (sql: string): number => Number(Object.values(index.db.prepare(sql).get() ?? {})[0] ?? 0);
      const deflated = part('SELECT sum(length(text)) FROM commands');
      const ftsBytes = part("SELECT sum(length(block)) FROM fts_data");
      index.close();
      const size = statSync(path).size;
      result.build = {
        commands, outputMB: outputBytes / MB, textMB: textBytes / MB, seconds: buildS, compactSeconds: compactS, indexMB: size / MB, sizeOverText: size / textBytes,
        freeMB: freeBytes / MB, deflatedTextOverText: deflated / textBytes, ftsOverText: ftsBytes / textBytes,
      };
      log(`index: ${commands} commands, ${fmt(outputBytes / MB)} MB output -> ${fmt(textBytes / MB)} MB text in ${fmt(buildS)} s ` +
        `(${fmt(outputBytes / MB / buildS)} MB/s of output), compacted in ${fmt(compactS, 2)} s; file ${fmt(size / MB)} MB = ${fmt(size / textBytes, 2)}x the text ` +
        `(FTS5 index ${fmt(ftsBytes / textBytes, 2)}x, deflated text ${fmt(deflated / textBytes, 2)}x, free pages ${fmt(freeBytes / MB)} MB)`);
    }
    // 3. Query latency.
    const index = await SearchIndex.open(path, { readOnly: true });
    const now = Date.now();
    const all: number[] = [];
    const perQuery: Array<{ name: string; hits: number; p50: number; p99: number }> = [];
    for (const { name, q } of queries(now)) {
      const ms: number[] = [];
      let hits = 0;
      runSearch(index, q); // warm
      for (let i = 0; i < args.runs; i++) {
        const t0 = performance.now();
        hits = runSearch(index, q).hits.length;
        ms.push(performance.now() - t0);
      }
      all.push(...ms);
      perQuery.push({ name, hits, p50: median(ms), p99: quantile(ms, 0.99) });
      log(`query ${name.padEnd(44)} ${String(hits).padStart(3)} hits  p50 ${fmt(median(ms), 2).padStart(7)} ms  p99 ${fmt(quantile(ms, 0.99), 2).padStart(7)} ms`);
    }
    index.close();
    result.queries = { perQuery, p50: median(all), p99: quantile(all, 0.99) };
    log(`queries overall: p50 ${fmt(median(all), 2)} ms, p99 ${fmt(quantile(all, 0.99), 2)} ms (target 50 / 200)`);
    // 4. End to end.
    const env = testEnv(tmp.path);
    const time = (argv: string[]): number => {
      const t0 = performance.now();
      const r = spawnSync(process.execPath, argv, { env, encoding: 'utf8' });
      if (r.status !== 0) throw new BenchError(`${argv.join(' ')} failed: ${r.stderr}`);
      return performance.now() - t0;
    };
    const e2e: number[] = [];
    const node0: number[] = [];
    const sessionsCli: number[] = [];
    time([OMNISH, 'search', 'error']);
    for (let i = 0; i < Math.min(args.runs, 20); i++) {
      node0.push(time(['-e', '0']));
      sessionsCli.push(time([OMNISH, 'sessions']));
      e2e.push(time([OMNISH, 'search', 'error', '--exit', 'nonzero']));
    }
    result.endToEnd = { median: median(e2e), p90: quantile(e2e, 0.9), nodeMedian: median(node0), sessionsMedian: median(sessionsCli) };
    log(`omnish search end to end: median ${fmt(median(e2e))} ms, p90 ${fmt(quantile(e2e, 0.9))} ms ` +
      `(same machine: node -e 0 ${fmt(median(node0))} ms, omnish sessions ${fmt(median(sessionsCli))} ms; target 200)`);
    // 5. Live indexing: a burst from 8 terminals, in the worker thread (as omnishd runs it) and in this thread.
    result.live = await liveBurst(tmp.path);
    result.loadAfter = loadAverage();
    if (args.json) writeFileSync(args.json, `${JSON.stringify(result, null, 2)}\n`);
  } finally {
    tmp.cleanup();
  }
}

/** The burst: 8 terminals × 40 commands each, outputs drawn as in the corpus (a few MB-sized). */
function burstOf(): { items: Array<{ meta: SessionMeta; f: FinishedCommand }>; bytes: number } {
  const c = new Corpus(99);
  const items: Array<{ meta: SessionMeta; f: FinishedCommand }> = [];
  let bytes = 0;
  const startedAt = new Date().toISOString();
  for (let term = 0; term < 8; term++) {
    let offset = 0;
    const meta = { id: (0xb0000000000 + term).toString(16), hostname: 'live', shell: '/bin/bash', startedAt } as SessionMeta;
    for (let seq = 1; seq <= 40; seq++) {
      const kind = c.kind();
      const out = c.output(kind, c.size());
      const { head } = indexedRanges(offset, offset + out.length);
      items.push({
        meta,
        f: {
          record: { type: 'command', seq, command: c.command(kind), cwd: '/home/dev', startedAtUs: seq * 1000, endedAtUs: seq * 1000 + 500, exitCode: 0, outputStart: offset, outputEnd: offset + out.length, altScreen: false },
          head: Buffer.from(out.subarray(0, head[1] - head[0])),
          output: Buffer.from(out.subarray(Math.max(0, out.length - 256 * 1024))),
        },
      });
      offset += out.length;
      bytes += out.length;
    }
  }
  return { items, bytes };
}

/**
 * Hands the burst to omnishd's indexer as the session manager does: in its worker thread
 * (IndexerThread, what omnishd runs) and in this thread (Indexer, its fallback). Measures how long
 * until every command is searchable, and the longest the event loop (which carries the
 * recording) went without a turn meanwhile, next to the same figure with nothing to do.
 */
async function liveBurst(dir: string): Promise<Record<string, number>> {
  const { items, bytes } = burstOf();
  const silent = pino({ level: 'silent' });
  const store = new SessionStore(join(dir, 'live-sessions'));
  // The same stall measured with nothing to do, first: on a loaded machine the scheduler alone stalls a process.
  const idleLag = await stallDuring(() => new Promise((r) => setTimeout(r, 2000)));
  const r: Record<string, number> = { commands: items.length, outputMB: bytes / MB, idleLoopStallMs: idleLag };
  for (const where of ['worker', 'main'] as const) {
    const path = join(dir, `live-${where}.db`);
    const indexer = where === 'worker' ? new IndexerThread(path, store, silent) : new Indexer(path, store, silent);
    if (indexer instanceof IndexerThread) indexer.start();
    else await indexer.start();
    // Wait until the index exists and is open (the worker creates it).
    let reader: SearchIndex | undefined;
    while (!reader) {
      try {
        reader = await SearchIndex.open(path, { readOnly: true });
      } catch {
        await new Promise((res) => setTimeout(res, 20));
      }
    }
    let doneMs = 0;
    const t0 = performance.now();
    const stall = await stallDuring(async () => {
      for (const b of items) indexer.add(b.meta, b.f);
      while ((reader.counts().commands) < items.length) await new Promise((res) => setTimeout(res, 20));
      doneMs = performance.now() - t0;
    });
    reader.close();
    await indexer.close();
    r[`${where}SearchableAfterMs`] = doneMs;
    r[`${where}LoopStallMs`] = stall;
    log(`live burst (${where === 'worker' ? 'worker thread, as omnishd' : 'main thread, the fallback'}): 8 terminals x 40 commands, ` +
      `${fmt(bytes / MB)} MB of output, all searchable after ${fmt(doneMs)} ms (${fmt(bytes / MB / (doneMs / 1000))} MB/s of output); ` +
      `longest event-loop stall ${fmt(stall, 1)} ms (idle, same machine: ${fmt(idleLag, 1)} ms)`);
  }
  return r;
}

/** The longest gap between 1 ms timer ticks while `during` runs, ms. */
async function stallDuring(during: () => Promise<unknown>): Promise<number> {
  let max = 0;
  let last = performance.now();
  const ticker = setInterval(() => {
    const t = performance.now();
    max = Math.max(max, t - last);
    last = t;
  }, 1);
  await during();
  clearInterval(ticker);
  return max;
}

main().catch((err: unknown) => {
  log(err instanceof BenchError ? `bench: ${err.message}` : String((err as Error).stack ?? err));
  process.exit(1);
});
