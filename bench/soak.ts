/**
 * The full-size runs of issue 13, items 2 and 3 (test/hostile-output.test.ts and test/load.test.ts
 * are their bounded runs in the suite; docs/reliability.md has the figures):
 *
 * - hostile output: an unterminated 100 MB OSC, 1 GB of yes, 50 MB of random bytes, a million
 *   lines, then an ordinary command, in one session;
 * - load, for --minutes: 50 sessions printing ten lines every 100 ms and 8 printing random base64
 *   as fast as they can, all at once, with `status` asked every second and one `ask`.
 *
 * Each against its own omnishd, run as shipped (no memory options) unless --suite-memory. Prints
 * the figures; exit status 1 when a check failed (a store that differs from its terminal, a
 * session whose end did not arrive, a status or ask not answered, omnishd gone).
 *
 * Usage: npm run soak -- [--minutes N] [--slow N] [--fast N] [--hostile-only] [--load-only] [--suite-memory] [--json FILE]
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { tempDir } from '../test/helpers/env.js';
import { SUITE_MEMORY_ENV } from '../test/fuzz/rig.js';
import { FULL_SIZES, runHostile, type HostileRun } from '../test/load/hostile.js';
import { runLoad, type LoadRun } from '../test/load/load.js';
import { compileTerm, mib } from '../test/load/rig.js';

const USAGE = `usage: npm run soak -- [options]
  --minutes N      how long the load runs (default 1; fractions allowed)
  --slow N         sessions printing ten lines every 100 ms (default 50)
  --fast N         sessions printing at full speed (default 8)
  --hostile-only   only the hostile-output session (100 MB OSC, 1 GB of yes, 50 MB random, 1M lines)
  --load-only      only the load
  --suite-memory   run omnishd as the suite does (JS heap capped at 32 MB, glibc mmap threshold 4 MiB)
  --json FILE      also write the figures to FILE
`;

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '1' }, slow: { type: 'string', default: '50' }, fast: { type: 'string', default: '8' },
    'hostile-only': { type: 'boolean' }, 'load-only': { type: 'boolean' }, 'suite-memory': { type: 'boolean' }, json: { type: 'string' },
    help: { type: 'boolean' },
  },
});
if (values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const minutes = Number(values.minutes);
const slow = Number(values.slow);
const fast = Number(values.fast);
if (!(minutes > 0) || !Number.isInteger(slow) || slow < 0 || !Number.isInteger(fast) || fast < 0 || (values['hostile-only'] && values['load-only'])) {
  process.stderr.write(USAGE);
  process.exit(2);
}

const log = (line: string): void => void process.stderr.write(`${line}\n`);
const daemonEnv = values['suite-memory'] ? SUITE_MEMORY_ENV : undefined;
const failures: string[] = [];
const out: { hostile?: Omit<HostileRun, 'context'> & { context: Omit<HostileRun['context'], 'user'> }; load?: LoadRun } = {};
const work = tempDir('omnish-soak-');
const termBin = compileTerm(join(work.path, 'term'));

function hostileFigures(run: HostileRun): void {
  const s = run.store;
  log(`hostile output: ${run.term.bytes} bytes in ${run.seconds.toFixed(1)} s; store ${s.firstDifference < 0 && s.gaps === 0 ? 'identical' : `DIFFERS at ${s.firstDifference} (${s.gaps} gaps, ${s.lostBytes} bytes lost)`}; ` +
    `client ${mib(run.client.baseline)} → peak ${mib(run.client.peak)}; omnishd ${mib(run.daemon.baseline)} → peak ${mib(run.daemon.peak)}, after the context ${mib(run.daemon.after)}; ` +
    `context ${run.context.approxTokens} of ${run.context.maxTokens} tokens, built in ${run.context.ms} ms`);
  for (const r of run.commands) log(`  command ${r.seq}: exit ${r.exitCode}, ${r.outputEnd - r.outputStart} bytes: ${(r.command ?? '').slice(0, 70)}`);
  if (s.firstDifference >= 0 || s.gaps > 0) failures.push('hostile: the store differs from the terminal');
  if (run.context.approxTokens > run.context.maxTokens) failures.push('hostile: the context is over its budget');
  const { user: _user, ...context } = run.context;
  out.hostile = { ...run, context };
}

function loadFigures(run: LoadRun): void {
  const lat = [...run.status.latencies].sort((a, b) => a - b);
  const q = (p: number): string => (lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] ?? 0).toFixed(0);
  const bytes = (kind: string): number => run.sessions.filter((x) => x.kind === kind).reduce((n, x) => n + x.term.bytes, 0);
  const bad = run.sessions.filter((x) => x.store.firstDifference >= 0 || x.store.gaps > 0 || x.endReason !== 'exit');
  log(`load: ${run.sessions.length} sessions in ${run.seconds.toFixed(1)} s; slow ${bytes('slow')} bytes, fast ${bytes('fast')} bytes; ` +
    `${run.sessions.length - bad.length} identical in the store; omnishd ${mib(run.daemon.baseline)} → peak ${mib(run.daemon.peak)}, after ${mib(run.daemon.after)}; ` +
    `status ${lat.length} answers, p50 ${q(0.5)} ms, p99 ${q(0.99)} ms, max ${q(1)} ms, ${run.status.failures.length} failed; ask exit ${run.ask.status} in ${run.ask.ms} ms`);
  for (const x of bad) {
    const s = x.store;
    // What the store lacks beyond what its gaps account for: lost without a trace.
    const unaccounted = s.termBytes - s.storedBytes - s.lostBytes;
    log(`  ${x.kind} session of client ${x.term.pid}: terminal ${s.termBytes} bytes, store ${s.storedBytes}, ${s.gaps} gaps (${s.lostBytes} bytes), ` +
      `${unaccounted} bytes unaccounted, ended ${x.endReason}, first difference at ${s.firstDifference}`);
  }
  if (bad.length > 0) failures.push(`load: ${bad.length} sessions not recorded exactly`);
  if (run.status.failures.length > 0) failures.push(`load: status failed: ${run.status.failures.join('; ')}`);
  if (run.ask.status !== 0) failures.push(`load: ask failed (${run.ask.status}): ${run.ask.stderr.trim()}`);
  out.load = run;
}

try {
  if (!values['load-only']) {
    const dir = tempDir('omnish-soak-hostile-');
    try {
      log(`hostile output: ${JSON.stringify(FULL_SIZES)}`);
      hostileFigures(await runHostile(termBin, dir.path, FULL_SIZES, { timeoutMs: 1_800_000, daemonEnv }));
    } finally {
      dir.cleanup();
    }
  }
  if (!values['hostile-only']) {
    const dir = tempDir('omnish-soak-load-');
    try {
      loadFigures(await runLoad(termBin, dir.path, { slow, fast, seconds: Math.round(minutes * 60), marginMs: 300_000, daemonEnv, log }));
    } finally {
      dir.cleanup();
    }
  }
} catch (err) {
  failures.push(`run failed: ${(err as Error).message}`);
} finally {
  work.cleanup();
}
if (values.json) writeFileSync(values.json, `${JSON.stringify({ ...out, failures }, null, 2)}\n`);
for (const f of failures) log(`FAILED: ${f}`);
process.exit(failures.length > 0 ? 1 : 0);
