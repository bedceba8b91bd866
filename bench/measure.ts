/**
 * The three measurements, each one run of one contender under the C terminal, and the daemon that
 * omnish records to.
 */
import { existsSync } from 'node:fs';
import { startDaemon as spawnDaemon } from '../test/helpers/daemon.js';
import { waitUntil } from '../test/helpers/wait.js';
import { type Contender, echoSteps, END_MARKER, type Isolation, startSteps, throughputSteps } from './contenders.js';
import { runTerm, type TermOptions, type TermResult } from './cterm.js';
import { BenchError } from './errors.js';
import { cpuSeconds, cpuWhenIdle } from './procfs.js';
import { quantile } from './stats.js';

/** What every run needs: the terminal binary and its options. */
export interface RunContext {
  term: string;
  opts: TermOptions;
  /** The omnishd that omnish records to, or undefined when omnish is not measured. */
  daemonPid: number | undefined;
}

/** One throughput run: `cat` of the text file, from the write of the command line. */
export interface ThroughputRun {
  /** From the write of the command line until EOF (the shell and the relay gone), s. */
  seconds: number;
  /** From the write until the end marker arrived, s; NaN when it never did. */
  markerSeconds: number;
  /** Bytes delivered from the write until EOF. */
  delivered: number;
  /** Whether the end marker (the last output before `exit`) arrived. */
  markerSeen: boolean;
  /** CPU of the contender's own process from the write to its exit, s (10 ms resolution). */
  relayCpu: number;
  /** CPU of the contender and every descendant it waited for (wait4 rusage), the whole run, s. */
  treeCpu: number;
  /** CPU of omnishd over the run, until it went idle afterwards, s; NaN without a daemon. */
  daemonCpu: number;
  /** CPU of the C terminal, s. */
  readerCpu: number;
  /** Every byte of the run, start-up included (for the stored-bytes ratio). */
  totalBytes: number;
}

async function daemonCpuAround(ctx: RunContext, c: Contender, run: () => Promise<TermResult>): Promise<{ r: TermResult; cpu: number }> {
  const pid = c.name.startsWith('omnish') ? ctx.daemonPid : undefined;
  const before = pid === undefined ? NaN : cpuSeconds(pid);
  const r = await run();
  const cpu = pid === undefined ? NaN : (await cpuWhenIdle(pid)) - before;
  return { r, cpu };
}

/** One throughput run of `c` (see throughputSteps). */
export async function throughputRun(ctx: RunContext, c: Contender, file: string): Promise<ThroughputRun> {
  const { r, cpu } = await daemonCpuAround(ctx, c, () => runTerm(ctx.term, c.name, c.file, c.args, throughputSteps(file), ctx.opts));
  const marker = r.waits.find((w) => w.needle === END_MARKER);
  return {
    seconds: r.eofUs / 1e6,
    markerSeconds: marker ? marker.sinceMarkUs / 1e6 : NaN,
    delivered: r.markBytes,
    markerSeen: marker !== undefined,
    relayCpu: r.selfCpuUs >= 0 && r.markSelfCpuUs >= 0 ? (r.selfCpuUs - r.markSelfCpuUs) / 1e6 : NaN,
    treeCpu: r.rusageCpuUs / 1e6,
    daemonCpu: cpu,
    readerCpu: r.readerCpuUs / 1e6,
    totalBytes: r.bytes,
  };
}

/** Keystroke echo round trips of `c`, µs, and every byte of the run. */
export async function echoRun(ctx: RunContext, c: Contender, keys: number): Promise<{ samples: number[]; totalBytes: number }> {
  const r = await runTerm(ctx.term, c.name, c.file, c.args, echoSteps(keys), ctx.opts);
  return { samples: r.echoUs, totalBytes: r.bytes };
}

/** Time from spawn to the first prompt of `c`, ms, and every byte of the run. */
export async function startRun(ctx: RunContext, c: Contender): Promise<{ ms: number; totalBytes: number }> {
  const r = await runTerm(ctx.term, c.name, c.file, c.args, startSteps(), { ...ctx.opts, timeoutMs: Math.min(ctx.opts.timeoutMs, 15_000) });
  return { ms: (r.waits[0]?.us ?? NaN) / 1000, totalBytes: r.bytes };
}

/** p50 and p99 of echo samples, µs. */
export function echoQuantiles(samples: readonly number[]): { p50: number; p99: number } {
  return { p50: quantile(samples, 0.5), p99: quantile(samples, 0.99) };
}

/**
 * Starts `omnishd --foreground` for the isolated directory, as a user's already-running daemon, and
 * waits (up to 15 s) for its socket.
 * @returns its pid
 * @throws BenchError when it does not come up
 */
export async function startDaemon(omnishd: string, env: Record<string, string>, iso: Isolation, nodeArgs: string[] = []): Promise<number> {
  const child = spawnDaemon(iso.dir, { omnishd, env, cwd: iso.dir, nodeArgs });
  let exited = false;
  child.on('exit', () => (exited = true));
  try {
    await waitUntil(() => exited || existsSync(iso.socket), 'the socket of omnishd', 15_000);
  } catch {
    throw new BenchError(`omnishd (${omnishd}) did not create ${iso.socket} within 15 s`);
  }
  if (!existsSync(iso.socket)) throw new BenchError(`omnishd (${omnishd}) exited before its socket appeared`);
  if (child.pid === undefined) throw new BenchError('omnishd has no pid');
  return child.pid;
}
