/**
 * Load, bounded (issue 13, item 3; docs/reliability.md): 12 sessions printing a few lines every
 * 100 ms for 10 s and 2 printing 6 MB of random base64 at full speed, all at once against one omnishd,
 * each under bench/term (a C reader, never the bottleneck). What must hold: every terminal's bytes
 * are in the store exactly, with no gap; omnishd's memory stays within a bound during the run and
 * after it; `status` answered every time it was asked (once a second, from another process), and
 * `omnish ask` got its answer during the load. No timing is asserted: the latencies are printed.
 *
 * Full size (50 + 8 sessions for a minute, or longer): `npm run soak -- --minutes N`.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTestDir } from './helpers/fixture.js';
import { SUITE_MEMORY_ENV } from './fuzz/rig.js';
import { ANSWER, runLoad } from './load/load.js';
import { compileTerm, mib } from './load/rig.js';

const dir = useTestDir();

const SLOW = 12;
const FAST = 2;
const SECONDS = 10;
/** Bytes each fast session prints at full speed: under the client's 8 MiB record cap (see load.ts). */
const FAST_BYTES = 6e6;
/**
 * omnishd's growth over its baseline, bytes, at the peak and after the run. The baseline is taken
 * after a first session and a first ask (what loads on first use: the LLM client, the redaction
 * rules, the renderer, some 31 MiB). Measured: +23 MiB at the peak, +19 MiB after, JS heap capped
 * at 32 MB as in the fuzz.
 */
const PEAK_GROWTH = 48 * 2 ** 20;
const AFTER_GROWTH = 40 * 2 ** 20;

describe('load', () => {
  it(`${SLOW} sessions printing lines and ${FAST} at full speed for ${SECONDS} s: nothing lost, omnishd's memory bounded, status and ask answer`, { timeout: 240_000 }, async () => {
    const term = compileTerm(join(dir.path, 'term'));
    const run = await runLoad(term, dir.path, { slow: SLOW, fast: FAST, seconds: SECONDS, fastBytes: FAST_BYTES, marginMs: 120_000, daemonEnv: SUITE_MEMORY_ENV });
    const bytes = (kind: string): number => run.sessions.filter((s) => s.kind === kind).reduce((n, s) => n + s.term.bytes, 0);
    const lat = [...run.status.latencies].sort((a, b) => a - b);
    const figures = `omnishd ${mib(run.daemon.baseline)} → peak ${mib(run.daemon.peak)}, after ${mib(run.daemon.after)}; ` +
      `slow ${bytes('slow')} bytes, fast ${bytes('fast')} bytes in ${run.seconds.toFixed(1)} s; status ${lat.length} answers, ` +
      `max ${lat.at(-1)?.toFixed(0)} ms; ask ${run.ask.ms} ms`;
    console.log(`load: ${figures}`);

    for (const s of run.sessions) {
      expect({ ...s.store, endReason: s.endReason }, `${s.kind} session of client ${s.term.pid}`)
        .toEqual({ termBytes: s.term.bytes, storedBytes: s.term.bytes, gaps: 0, lostBytes: 0, firstDifference: -1, endReason: 'exit' });
    }
    expect(run.sessions).toHaveLength(SLOW + FAST);
    expect(run.status.failures).toEqual([]);
    expect(run.status.latencies.length).toBeGreaterThan(0);
    expect(run.ask).toMatchObject({ status: 0, stdout: expect.stringContaining(ANSWER) as string });
    expect(run.daemon.peak - run.daemon.baseline, figures).toBeLessThan(PEAK_GROWTH);
    expect(run.daemon.after - run.daemon.baseline, figures).toBeLessThan(AFTER_GROWTH);
  });
});
