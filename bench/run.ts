/**
 * omnish benchmark: what the relay costs compared with the bare shell and with script(1).
 *
 * The terminal is bench/term.c, a C reader compiled at run time, so the reader is never the
 * bottleneck (a node-pty reader in Node was, and flattened every ratio). Contenders, in the same
 * environment and alternating within each round: bash straight in the pty (direct), bash under
 * script(1), bash under omnish recording to a real omnishd, all isolated in a temporary directory.
 * Figures: throughput of `cat` (bytes delivered counted, a lost tail flagged), keystroke echo p50/p99,
 * time to first prompt, stored bytes per output byte. A separate part (bench/startup.ts) times the
 * start-up of plain CLI commands. docs/benchmarks.md says what each one means.
 *
 * Usage: npm run bench [-- --rounds N --mb N --keys N --starts N --only a,b --omnish FILE --json FILE
 *                         --startup N --startup-only]
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tempDir } from '../test/helpers/env.js';
import { type Options, parseArgs, USAGE } from './args.js';
import { benchEnv, type Contender, contenders, isolation, type Isolation } from './contenders.js';
import { compileTerm, running } from './cterm.js';
import { echoRun, type RunContext, startDaemon, startRun, throughputRun } from './measure.js';
import { BenchError } from './errors.js';
import { busyFraction, endProcessesMentioning, loadAverage, machine, sleep, treeSize } from './procfs.js';
import { render, type Round, type Setting, summarise } from './report.js';
import { renderStartup, startupBench } from './startup.js';
import { fmt } from './stats.js';
import { type TextFile, writeTextFile } from './textfile.js';

const COLS = 120;
const ROWS = 40;

function log(msg: string): void {
  process.stderr.write(`${msg}\n`);
}

/** The list rotated by `k`, so no contender always runs first (or right after another). */
function rotated<T>(list: readonly T[], k: number): T[] {
  return list.map((_, i) => list[(i + k) % list.length]!);
}

/** Stored bytes of the data directory once the daemon has stopped writing (unchanged 1 s, at most 30 s). */
async function storedBytes(data: string): Promise<{ bytes: number; settled: boolean }> {
  const deadline = Date.now() + 30_000;
  let last = -1;
  let since = Date.now();
  while (Date.now() < deadline) {
    const now = treeSize(join(data, 'sessions'));
    if (now !== last) {
      last = now;
      since = Date.now();
    } else if (Date.now() - since >= 1000) {
      return { bytes: last, settled: true };
    }
    await sleep(100);
  }
  return { bytes: last, settled: false };
}

/** Runs every measurement `opts.rounds` times; `omnishBytes` adds up what omnish sessions delivered. */
async function rounds(ctx: RunContext, list: Contender[], opts: Options, file: string, omnishBytes: { n: number }): Promise<Round[]> {
  const out: Round[] = [];
  const count = (c: Contender, bytes: number): void => {
    if (c.name.startsWith('omnish')) omnishBytes.n += bytes;
  };
  for (let i = 0; i < opts.rounds; i++) {
    const round: Round = { throughput: {}, echo: {}, startsMs: {} };
    const order = rotated(list, i);
    for (const c of order) {
      const t = await throughputRun(ctx, c, file);
      round.throughput[c.name] = t;
      count(c, t.totalBytes);
      log(`round ${i + 1}/${opts.rounds} throughput ${c.name.padEnd(6)} ${fmt(t.delivered / t.seconds / 1e6)} MB/s ` +
        `(${fmt(t.seconds, 3)} s, ${t.delivered} bytes${t.markerSeen ? '' : ', no end marker'}; relay CPU ${fmt(t.relayCpu, 2)} s, ` +
        `whole tree ${fmt(t.treeCpu, 2)} s` +
        `${c.name.startsWith('omnish') ? `, daemon CPU ${fmt(t.daemonCpu, 2)} s` : ''}, reader CPU ${fmt(t.readerCpu, 2)} s)`);
    }
    for (const c of order) {
      const e = await echoRun(ctx, c, opts.keys);
      round.echo[c.name] = e.samples;
      count(c, e.totalBytes);
    }
    for (let k = 0; k < opts.starts; k++) {
      for (const c of rotated(order, k)) {
        const s = await startRun(ctx, c);
        (round.startsMs[c.name] ??= []).push(s.ms);
        count(c, s.totalBytes);
      }
    }
    out.push(round);
  }
  return out;
}

/** The relay rounds: prints their report and returns what --json writes of them. */
async function bench(opts: Options, dir: string, iso: Isolation): Promise<object> {
  const started = Date.now();
  const list = contenders(opts.only, opts.omnish);
  const names = list.map((c) => c.name);
  const term = compileTerm();
  const facts = machine();
  const loadBefore = loadAverage();
  const busyBefore = await busyFraction();
  log(`omnish bench — ${facts.cpu}, ${facts.cores} cores, Node ${facts.node}, Linux ${facts.kernel}`);
  mkdirSync(dirname(iso.socket), { mode: 0o700, recursive: true });
  const path = join(dir, 'text.txt');
  let t = Date.now();
  const file: TextFile = writeTextFile(path, opts.mb * 1_000_000);
  log(`generated ${fmt(file.bytes / 1e6)} MB of text in ${Date.now() - t} ms`);
  const env = benchEnv(iso);
  const ctx: RunContext = { term, daemonPid: undefined, opts: { cols: COLS, rows: ROWS, timeoutMs: opts.timeoutMs, env, cwd: dir } };
  const omnishBytes = { n: 0 };
  const omnish = list.find((c) => c.name.startsWith('omnish'));
  if (omnish) {
    // A user's daemon is already running: start it, and warm it up with one session.
    ctx.daemonPid = await startDaemon(join(dirname(opts.omnish), 'omnishd.js'), env, iso);
    omnishBytes.n += (await startRun(ctx, omnish)).totalBytes;
    log(`omnishd ${ctx.daemonPid} is up`);
  }
  t = Date.now();
  const done = await rounds(ctx, list, opts, path, omnishBytes);
  log(`rounds: ${((Date.now() - t) / 1000).toFixed(1)} s`);
  let stored: Setting['stored'] = null;
  if (omnish) {
    const s = await storedBytes(iso.data);
    const sessions = s.bytes > 0 ? readdirSync(join(iso.data, 'sessions')).length : 0;
    if (s.bytes > 0) stored = { stored: s.bytes, output: omnishBytes.n, sessions, settled: s.settled };
  }
  const setting: Setting = {
    date: new Date().toISOString(), machine: facts, busyBefore, loadBefore, loadAfter: loadAverage(), names, file,
    expectedBytes: file.bytes + file.lines + 'D:5\r\n'.length, rounds: opts.rounds, keys: opts.keys, starts: opts.starts,
    omnish: opts.omnish, cols: COLS, rows: ROWS, stored, seconds: (Date.now() - started) / 1000,
  };
  process.stdout.write(render(done, setting));
  return { setting, summary: summarise(done, setting), rounds: done };
}

async function main(): Promise<number> {
  const opts = parseArgs(process.argv.slice(2));
  if (opts === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  const { path: dir, cleanup: removeDir } = tempDir('omnish-bench-');
  const iso = isolation(dir);
  let cleaned = false;
  const cleanup = async (): Promise<void> => {
    if (cleaned) return;
    cleaned = true;
    for (const pid of running) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    const ended = await endProcessesMentioning(dir);
    if (ended.length > 0) log(`cleanup: ended ${ended.length} process(es) of the run: ${ended.join(', ')}`);
    removeDir();
  };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      log(`\n${sig}: cleaning up`);
      void cleanup().finally(() => process.exit(130));
    });
  }
  try {
    const json: Record<string, unknown> = opts.startupOnly ? {} : { ...(await bench(opts, dir, iso)) };
    if (opts.startupRuns > 0) {
      const startup = await startupBench(opts.omnish, opts.startupRuns, dir, log);
      process.stdout.write(renderStartup(startup));
      json.startup = startup;
    }
    if (opts.json) {
      // JSON cannot hold NaN; null stands for "not measured".
      writeFileSync(opts.json, `${JSON.stringify(json, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`);
      log(`wrote ${opts.json}`);
    }
    return 0;
  } finally {
    await cleanup();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    log(err instanceof BenchError ? `bench: ${err.message}` : `bench failed: ${err instanceof Error ? err.stack : String(err)}`);
    process.exit(1);
  },
);
