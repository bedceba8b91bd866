/**
 * Load on one omnishd (issue 13, item 3): many sessions at once, each under its own bench/term,
 * most printing a few lines every 100 ms (a loop bounded by the shell's clock), some printing
 * random base64 as fast as the relay takes it, all for the same stretch of time. Throughout, a
 * separate process asks `status` (test/fuzz/probe.mjs) and, once every session is up, `omnish
 * ask` goes to a fake LLM. Collected for the checks: each terminal against the store, the daemon's memory before,
 * at its peak and after, the status answers and the ask. Shared by test/load.test.ts (CI size)
 * and bench/soak.ts (full size: 50 + 8 sessions for a minute, the defaults there).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TermResult } from '../../bench/cterm.js';
import type { StoredSession } from '../../src/store/index.js';
import { FakeAnthropicServer } from '../../src/llm/testing/fake-anthropic.js';
import { daemonPids, omnishAsync, startDaemon, waitDaemon } from '../helpers/daemon.js';
import { testEnv } from '../helpers/env.js';
import { daemonSocket, daemonToken } from '../helpers/peer.js';
import { memBytes } from '../helpers/procs.js';
import { waitUntil } from '../helpers/wait.js';
import { StatusProbe } from '../fuzz/rig.js';
import { compareWithStore, endedSession, MemorySampler, runSession, storeOf, type StoreComparison } from './rig.js';

export interface LoadOptions {
  /** Sessions printing a few lines every 100 ms. */
  slow: number;
  /** Sessions printing as fast as they can. */
  fast: number;
  /**
   * What each fast session prints, bytes of base64 (at full speed, once); without it, fast sessions
   * print for `seconds` like the others. The suite keeps it under the client's 8 MiB record cap:
   * a daemon that falls further behind than that drops output into a gap by design, and on a loaded
   * 2-core machine one does (docs/reliability.md).
   */
  fastBytes?: number;
  /** How long each session's loop runs, s (by the shell's clock: a bounded loop, not a sleep in the test). */
  seconds: number;
  /** Deadline of each terminal's waits beyond `seconds`, ms. */
  marginMs: number;
  /** Added to omnishd's environment. */
  daemonEnv?: Record<string, string>;
  /** Progress lines (the soak script prints them). */
  log?: (line: string) => void;
}

export interface SessionFigures {
  kind: 'slow' | 'fast';
  term: TermResult;
  /** How the store says the session ended: 'exit' when the client's SessionEnd arrived. */
  endReason: string | null;
  store: StoreComparison;
}

export interface LoadRun {
  sessions: SessionFigures[];
  /** omnishd's resident size, bytes: after a warm-up session and ask, its peak during the run, and once all sessions ended. */
  daemon: { baseline: number; peak: number; after: number };
  /** `status` answers during the run (probe every second, deadline 30 s): latencies (ms) and failures. */
  status: { latencies: number[]; failures: string[] };
  /** `omnish ask` sent once all sessions were up: its exit status, what it printed, how long it took (ms). */
  ask: { status: number | null; stdout: string; stderr: string; ms: number };
  seconds: number;
}

/** A slow session's loop: ten short lines every 100 ms until `seconds` have passed. */
function slowLoop(k: number, seconds: number): string {
  return `end=$((SECONDS+${seconds})); i=0; while [ $SECONDS -lt $end ]; do i=$((i+1)); for j in 0 1 2 3 4 5 6 7 8 9; do printf 'slow %s %06d.%s %s\\n' ${k} $i $j $RANDOM; done; sleep 0.1; done`;
}

/** A fast session's loop: random base64, a megabyte at a time, until `seconds` have passed; or `bytes` of it at once. */
function fastLoop(seconds: number, bytes?: number): string {
  if (bytes !== undefined) return `head -c ${Math.floor((bytes * 3) / 4)} /dev/urandom | base64 -w 120`;
  return `end=$((SECONDS+${seconds})); while [ $SECONDS -lt $end ]; do head -c 1000000 /dev/urandom | base64 -w 120; done`;
}

const KEY_ENV = { OMNISH_TEST_LLM_KEY: 'sk-ant-test-key' };
const ANSWER = 'All sessions look fine.';

/**
 * Runs the load in test directory `dir` (an empty one) against its own omnishd.
 * @throws BenchError when a terminal failed; Error when a session did not end in the store
 */
export async function runLoad(termBin: string, dir: string, opts: LoadOptions): Promise<LoadRun> {
  const log = opts.log ?? ((): void => undefined);
  const fake = await FakeAnthropicServer.start();
  writeFileSync(
    join(dir, 'config.toml'),
    `[llm]\ndefault = "claude"\n[llm.claude]\nbackend = "anthropic"\nmodel = "claude-test"\nbase_url = "${fake.baseUrl}"\napi_key_env = "OMNISH_TEST_LLM_KEY"\n` +
      '[llm.auto_trigger]\non_nonzero_exit = false\non_stderr_patterns = false\n',
  );
  fake.enqueue({ kind: 'stream', pieces: ['warm'] }, { kind: 'stream', pieces: [ANSWER] });
  let probe: StatusProbe | undefined;
  let sampler: MemorySampler | undefined;
  try {
    startDaemon(dir, { env: testEnv(dir, { ...KEY_ENV, ...opts.daemonEnv }) });
    const daemon = await waitDaemon(dir);
    // What omnishd loads for its first session and command is not growth (see hostile.ts).
    const warm = await runSession(termBin, dir, { commands: ['echo warm-up'], out: join(dir, 'warm.out'), timeoutMs: opts.marginMs });
    await endedSession(dir, warm.pid, opts.marginMs);
    // And a first ask: the LLM client, the redaction rules and the renderer load on first use.
    const first = await omnishAsync(dir, ['ask', 'warm', 'up'], KEY_ENV);
    if (first.status !== 0) throw new Error(`the warm-up ask failed (${first.status}): ${first.stderr}`);
    const baseline = memBytes(daemon);
    sampler = new MemorySampler(() => [daemon]);
    probe = new StatusProbe(daemonSocket(dir), daemonToken(dir), 1000, 30_000);
    const t0 = Date.now();
    const timeoutMs = opts.seconds * 1000 + opts.marginMs;
    const kinds: ('slow' | 'fast')[] = [...Array<'slow'>(opts.slow).fill('slow'), ...Array<'fast'>(opts.fast).fill('fast')];
    log(`${opts.slow} slow and ${opts.fast} fast sessions for ${opts.seconds} s; omnishd pid ${daemon}, ${(baseline / 2 ** 20).toFixed(1)} MiB`);
    const runs = kinds.map((kind, k) => {
      const out = join(dir, `term-${k}.out`);
      const cmd = kind === 'slow' ? slowLoop(k, opts.seconds) : fastLoop(opts.seconds, opts.fastBytes);
      return runSession(termBin, dir, { commands: [cmd], out, timeoutMs }).then((term) => ({ kind, term, out }));
    });
    // Asked once every session is up (the fast ones of the suite may be done by then).
    await waitUntil(() => storeOf(dir).list().filter((s) => s.clientPid !== warm.pid).length >= kinds.length, `${kinds.length} sessions to register`, timeoutMs);
    log(`all ${kinds.length} sessions up after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const a0 = Date.now();
    const asked = await omnishAsync(dir, ['ask', 'is', 'anything', 'wrong?'], KEY_ENV);
    const ask = { ...asked, ms: Date.now() - a0 };
    log(`ask answered in ${ask.ms} ms (exit ${ask.status})`);
    const done = await Promise.all(runs);
    const sessions: { kind: SessionFigures['kind']; term: TermResult; meta: StoredSession; out: string }[] = [];
    for (const d of done) sessions.push({ kind: d.kind, term: d.term, meta: await endedSession(dir, d.term.pid, opts.marginMs), out: d.out });
    const seconds = (Date.now() - t0) / 1000;
    await probe.answered(1);
    const peak = sampler.peak(daemon);
    if (!daemonPids(dir).includes(daemon)) throw new Error('omnishd is gone after the load');
    return {
      sessions: sessions.map((x) => ({ kind: x.kind, term: x.term, endReason: x.meta.endReason, store: compareWithStore(x.meta, x.out) })), seconds, ask,
      daemon: { baseline, peak, after: memBytes(daemon) },
      status: { latencies: [...probe.latencies], failures: [...probe.failures] },
    };
  } finally {
    sampler?.stop();
    await probe?.stop();
    await fake.close();
  }
}

export { ANSWER };
