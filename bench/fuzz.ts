/**
 * The long run of the socket fuzz (test/fuzz.test.ts is its bounded run in the suite): the same
 * attacks and checks (test/fuzz/), batch after batch with a new seed each, for as long as asked,
 * against one omnishd; then 1,000 idle connections, and the figures, including the daemon's
 * memory after each batch (a leak shows as a climb, allocator slack as a plateau).
 *
 * The attacks leave about one session a case in the store, a thousand times faster than a user:
 * after each batch the run applies retention (`gc`, with `[store] max_total_mb = 1`), as omnishd
 * does hourly, unless --keep-sessions; what a big store costs is measured on its own.
 *
 * Usage: npm run fuzz -- [--minutes N] [--seed S] [--batch N] [--idle N] [--keep-sessions] [--suite-memory] [--daemon-node-options OPTS] [--json FILE]
 * Exit status 1 on the first failure, with the seed of its batch and how to replay it.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import fc from 'fast-check';
import { tempDir } from '../test/helpers/env.js';
import { fuzzCase } from '../test/fuzz/attacks.js';
import { FuzzRig, SUITE_MEMORY_ENV, type Figures } from '../test/fuzz/rig.js';

const USAGE = `usage: npm run fuzz -- [options]
  --minutes N                 how long to fuzz (default 1; fractions allowed)
  --seed S                    seed of the first batch; batch k uses S + k (default: from the clock)
  --batch N                   cases per batch (default 200)
  --idle N                    idle connections opened at the end (default 1000)
  --keep-sessions             do not apply retention after each batch (the store grows by about a session a case)
  --daemon-node-options OPTS  NODE_OPTIONS of the daemon (e.g. --max-old-space-size=32)
  --suite-memory              run the daemon as the suite does to check its memory (test/fuzz.test.ts: JS heap
                              capped at 32 MB, glibc mmap threshold 4 MiB)
  --json FILE                 also write the figures to FILE
`;

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '1' }, seed: { type: 'string' }, batch: { type: 'string', default: '200' },
    idle: { type: 'string', default: '1000' }, 'keep-sessions': { type: 'boolean' }, 'suite-memory': { type: 'boolean' }, 'daemon-node-options': { type: 'string' }, json: { type: 'string' }, help: { type: 'boolean' },
  },
});
if (values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const minutes = Number(values.minutes);
const firstSeed = values.seed === undefined ? Date.now() % 2 ** 31 : Number(values.seed);
const batch = Number(values.batch);
const idle = Number(values.idle);
if (!(minutes > 0) || !Number.isInteger(firstSeed) || !(batch >= 1) || !(idle >= 0)) {
  process.stderr.write(USAGE);
  process.exit(2);
}

const mb = (n: number): string => `${(n / 2 ** 20).toFixed(1)} MB`;
const log = (line: string): void => void process.stderr.write(`${line}\n`);

const dir = tempDir('omnish-fuzz-');
const rig = await FuzzRig.start(dir.path, {
  daemonEnv: {
    ...(values['suite-memory'] ? SUITE_MEMORY_ENV : {}),
    ...(values['daemon-node-options'] ? { NODE_OPTIONS: values['daemon-node-options'] } : {}),
  },
  config: values['keep-sessions'] ? undefined : '[store]\nmax_total_mb = 1\n',
});
let collected = 0;
const t0 = Date.now();
const rssAfterBatch: number[] = [];
let failed = false;
try {
  log(`socket fuzz: ${minutes} min, batches of ${batch} cases from seed ${firstSeed}, omnishd pid ${rig.pid}`);
  for (let k = 0; Date.now() - t0 < minutes * 60_000; k++) {
    const seed = firstSeed + k;
    const details = await fc.check(fc.asyncProperty(fuzzCase, (attacks) => rig.runCase(attacks)), { seed, numRuns: batch, endOnFailure: true });
    if (details.failed) {
      failed = true;
      log(`FAILED in batch ${k}, seed ${seed} (replay: FUZZ_SEED=${seed} FUZZ_RUNS=${batch} npx vitest run test/fuzz.test.ts)`);
      // The error names the attacks; the counterexample (their bytes) can be megabytes: its head only.
      log(`error: ${details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance)}`);
      log(`counterexample (first 2000 characters): ${fc.stringify(details.counterexample).slice(0, 2000)}`);
      break;
    }
    if (!values['keep-sessions']) collected += await rig.collect();
    rssAfterBatch.push(await rig.settledRss());
    const f = rig.snapshot();
    log(`${((Date.now() - t0) / 60_000).toFixed(1)} min: ${f.cases} cases, ${f.connections} connections, ${mb(f.bytes)} sent; ` +
      `status p99 ${f.status.p99Ms.toFixed(0)} ms, max ${f.status.maxMs.toFixed(0)} ms; omnishd ${mb(rssAfterBatch.at(-1)!)} settled, peak ${mb(f.rss.peakBytes)}`);
  }
  if (!failed && idle > 0) await rig.idleConnections(idle);
} catch (err) {
  failed = true;
  log(`FAILED: ${(err as Error).message}`);
} finally {
  let figures: Figures | undefined;
  try {
    figures = await rig.finish();
  } catch (err) {
    failed = true;
    log(`FAILED at the end: ${(err as Error).message}`);
  }
  dir.cleanup();
  if (figures) {
    const out = { seed: firstSeed, minutes: (Date.now() - t0) / 60_000, sessionsCollected: collected, rssAfterBatchBytes: rssAfterBatch, ...figures };
    if (values.json) writeFileSync(values.json, `${JSON.stringify(out, null, 2)}\n`);
    const { rss, status, live } = figures;
    log(`figures: ${figures.cases} cases, ${figures.connections} connections, ${mb(figures.bytes)} of attack bytes, ${collected} sessions collected; ` +
      `status asked ${status.asked} times, p50 ${status.p50Ms.toFixed(1)} ms, p99 ${status.p99Ms.toFixed(1)} ms, max ${status.maxMs.toFixed(1)} ms, ${status.failures.length} late; ` +
      `live session ${live.bytes} bytes ${live.matches ? 'identical in the store' : 'DIFFERENT in the store'}, ${live.gaps} gaps; ` +
      `omnishd RSS baseline ${mb(rss.baselineBytes)}, peak ${mb(rss.peakBytes)}, after ${mb(rss.afterBytes)}`);
    if (!live.matches || live.gaps !== 0 || status.failures.length > 0) failed = true;
  }
}
process.exit(failed ? 1 : 0);
