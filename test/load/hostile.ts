/**
 * Hostile terminal output through the real omnish and omnishd (issue 13, item 2): one session runs
 * an unterminated OSC string, `yes`, random bytes and many short lines, then an ordinary command;
 * the run measures both processes' memory and collects what the checks need (the store compared
 * with what the terminal got, the command records, the context built afterwards). Shared by
 * test/hostile-output.test.ts (CI sizes) and bench/soak.ts (full sizes, the defaults here).
 */
import { join } from 'node:path';
import type { TermResult } from '../../bench/cterm.js';
import type { CommandRecord } from '../../src/store/index.js';
import { daemonPids, omnishAsync, startDaemon, waitDaemon } from '../helpers/daemon.js';
import { testEnv } from '../helpers/env.js';
import { memBytes } from '../helpers/procs.js';
import { waitUntil } from '../helpers/wait.js';
import { commandsOf, compareWithStore, endedSession, MemorySampler, runSession, storeOf, type StoreComparison } from './rig.js';

/** How much of each hostile output, bytes (lines for `lines`). */
export interface HostileSizes {
  /** An OSC 133 string (it looks like a mark) that is never terminated. */
  osc: number;
  /** `yes | head -c N`. */
  yes: number;
  /** `head -c N /dev/urandom`. */
  random: number;
  /** `seq N`: N short lines. */
  lines: number;
}

/** The sizes: 100 MB of OSC, 1 GB of yes, 50 MB of random bytes, a million lines. */
export const FULL_SIZES: HostileSizes = { osc: 100e6, yes: 1e9, random: 50e6, lines: 1e6 };

/** The command lines, in order; `after-42` is the ordinary command after them. */
export function hostileCommands(s: HostileSizes): { name: string; cmd: string }[] {
  return [
    { name: 'osc', cmd: `printf '\\033]133;A;'; head -c ${s.osc} /dev/zero | tr '\\0' x` },
    { name: 'yes', cmd: `yes | head -c ${s.yes}` },
    { name: 'random', cmd: `head -c ${s.random} /dev/urandom` },
    { name: 'lines', cmd: `seq ${s.lines}` },
    { name: 'after', cmd: 'echo after-$((6*7))' },
  ];
}

export interface HostileRun {
  term: TermResult;
  store: StoreComparison;
  commands: CommandRecord[];
  /** `omnish context --json` afterwards: its stats, its text, the budget it had (tokens), how long it took (ms). */
  context: { approxTokens: number; chars: number; commands: number; user: string; maxTokens: number; ms: number };
  /** Bytes: each process's resident size once the session was up, and its peak during the run. */
  client: { baseline: number; peak: number };
  daemon: { baseline: number; peak: number; after: number };
  seconds: number;
}

/** The context budget the run configures (the default of `[llm] max_context_tokens`). */
const MAX_TOKENS = 8000;

/**
 * Runs the hostile session in test directory `dir` (an empty one) with its own omnishd, started
 * first with `daemonEnv` added to its environment.
 * @throws BenchError when the terminal failed; Error when the session did not end in the store
 */
export async function runHostile(termBin: string, dir: string, sizes: HostileSizes, opts: { timeoutMs: number; daemonEnv?: Record<string, string> }): Promise<HostileRun> {
  startDaemon(dir, { env: testEnv(dir, opts.daemonEnv) });
  const daemon = await waitDaemon(dir);
  // A short session first: what omnishd loads for its first session and first command (some
  // 35 MiB: the command tracker, the event detector, the store writer) is not growth.
  const warm = await runSession(termBin, dir, { commands: ['echo warm-up'], out: join(dir, 'warm.out'), timeoutMs: opts.timeoutMs });
  await endedSession(dir, warm.pid, opts.timeoutMs);
  const daemonBaseline = memBytes(daemon);
  const t0 = Date.now();
  const out = join(dir, 'term.out');
  let clientPid = 0;
  let clientBaseline = 0;
  const sampler = new MemorySampler(() => [daemon, ...(clientPid ? [clientPid] : [])]);
  const running = runSession(termBin, dir, { commands: hostileCommands(sizes).map((c) => c.cmd), out, timeoutMs: opts.timeoutMs });
  // The client's baseline: once its session is registered (the shell is starting; no output yet to speak of).
  const found = waitUntil(() => storeOf(dir).list().find((s) => s.clientPid !== warm.pid)?.clientPid, 'the session to register', opts.timeoutMs).then((pid) => {
    clientPid = pid;
    clientBaseline = memBytes(pid);
  });
  let term: TermResult;
  try {
    [term] = await Promise.all([running, found]);
  } finally {
    sampler.stop();
  }
  const clientPeak = Math.max(sampler.peak(clientPid), clientBaseline);
  const session = await endedSession(dir, term.pid, opts.timeoutMs);
  const daemonPeak = sampler.peak(daemon);
  const seconds = (Date.now() - t0) / 1000;
  const store = compareWithStore(session, out);
  const c0 = Date.now();
  const ctx = await omnishAsync(dir, ['context', '--json', '--session', session.id]);
  const contextMs = Date.now() - c0;
  if (ctx.status !== 0) throw new Error(`omnish context failed (${ctx.status}): ${ctx.stderr}`);
  const { user, stats } = JSON.parse(ctx.stdout) as { user: string; stats: { approxTokens: number; chars: number; commands: number } };
  if (!daemonPids(dir).includes(daemon)) throw new Error('omnishd is gone after the hostile session');
  return {
    term, store, commands: commandsOf(session), seconds,
    context: { ...stats, user, maxTokens: MAX_TOKENS, ms: contextMs },
    client: { baseline: clientBaseline, peak: clientPeak },
    daemon: { baseline: daemonBaseline, peak: daemonPeak, after: memBytes(daemon) },
  };
}
