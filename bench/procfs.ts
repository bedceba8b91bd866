/** What the bench reads from /proc: CPU time of a process, how busy the machine is, leftovers. */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { cpus, release } from 'node:os';
import { join } from 'node:path';
import { findProcesses, signalAll } from '../test/helpers/procs.js';

/**
 * CPU time (user + system, seconds) used so far by process `pid` and its threads, from
 * /proc/PID/stat (clock ticks of 1/100 s); NaN when unreadable (the process is gone).
 */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

/**
 * Waits until `pid` stops using CPU (no tick for `quietMs`, at most `maxMs`), so the daemon's work
 * on a run's output is counted with that run even when it finishes storing after the terminal.
 * @returns its CPU seconds then
 */
export async function cpuWhenIdle(pid: number, quietMs = 300, maxMs = 10_000): Promise<number> {
  const deadline = Date.now() + maxMs;
  let last = cpuSeconds(pid);
  let since = Date.now();
  while (Date.now() < deadline && Date.now() - since < quietMs) {
    await sleep(50);
    const now = cpuSeconds(pid);
    if (now !== last) {
      last = now;
      since = Date.now();
    }
  }
  return last;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function cpuTicks(): { total: number; idle: number } {
  try {
    const f = (readFileSync('/proc/stat', 'latin1').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
    return { total: f.reduce((a, b) => a + b, 0), idle: (f[3] ?? 0) + (f[4] ?? 0) };
  } catch {
    return { total: NaN, idle: NaN };
  }
}

/** Fraction of the machine's CPU that others used during `ms` while the bench sat still. */
export async function busyFraction(ms = 1000): Promise<number> {
  const a = cpuTicks();
  await sleep(ms);
  const b = cpuTicks();
  return 1 - (b.idle - a.idle) / (b.total - a.total);
}

/** The 1-minute load average. */
export function loadAverage(): number {
  try {
    return Number(readFileSync('/proc/loadavg', 'latin1').split(' ')[0]);
  } catch {
    return NaN;
  }
}

/** Sum of the sizes of all files under `dir`, bytes; 0 when it does not exist. */
export function treeSize(dir: string): number {
  let total = 0;
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const entry of entries) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) total += treeSize(p);
    else if (entry.isFile()) total += statSync(p).size;
  }
  return total;
}

/** Machine facts printed with the results. */
export interface Machine {
  cpu: string;
  cores: number;
  node: string;
  kernel: string;
  bash: string;
  script: string;
  cc: string;
}

export function machine(): Machine {
  let cpu = cpus()[0]?.model ?? 'unknown';
  try {
    const m = /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m?.[1]) cpu = m[1].trim();
  } catch {
    // not Linux
  }
  const run = (file: string, args: string[]): string => {
    try {
      return (execFileSync(file, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n')[0] ?? '').trim();
    } catch {
      return 'unknown';
    }
  };
  return { cpu, cores: cpus().length, node: process.version, kernel: release(), bash: run('bash', ['-c', 'echo $BASH_VERSION']),
    script: run('script', ['--version']), cc: run(process.env.CC || 'cc', ['--version']) };
}

/**
 * pids of processes (other than this one) whose command line or environment contains `needle`:
 * what a run left behind in its temporary directory (its daemon, a stray shell).
 */
export function processesMentioning(needle: string): number[] {
  return findProcesses((p) => p.cmdline().includes(needle) || p.environ().includes(needle));
}

/** Ends every process mentioning `needle`, one by one by pid: SIGTERM, then SIGKILL after 3 s. */
export async function endProcessesMentioning(needle: string): Promise<number[]> {
  const pids = processesMentioning(needle);
  signalAll(pids, 'SIGTERM');
  const deadline = Date.now() + 3000;
  while (Date.now() < deadline && processesMentioning(needle).length > 0) await sleep(50);
  signalAll(processesMentioning(needle), 'SIGKILL');
  return pids;
}
