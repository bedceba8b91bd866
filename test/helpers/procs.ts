/** Finding and ending the processes a test (or a bench run) started: by pid, never by name. */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** pids of the descendants of `root` whose command line contains `needle` (from ps). */
export function descendantPids(root: number, needle: string): number[] {
  const rows = execFileSync('ps', ['-e', '-o', 'pid=,ppid=,args='], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((line) => {
      const m = /^\s*(\d+)\s+(\d+)\s(.*)$/.exec(line);
      return m ? { pid: Number(m[1]), ppid: Number(m[2]), args: m[3] ?? '' } : undefined;
    })
    .filter((r): r is { pid: number; ppid: number; args: string } => r !== undefined);
  const inTree = new Set([root]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const r of rows) {
      if (inTree.has(r.ppid) && !inTree.has(r.pid)) {
        inTree.add(r.pid);
        grew = true;
      }
    }
  }
  return rows.filter((r) => r.pid !== root && inTree.has(r.pid) && r.args.includes(needle)).map((r) => r.pid);
}

/** What `findProcesses` shows of a process, read from /proc only when asked (latin1, NUL-separated). */
export interface ProcView {
  pid: number;
  cmdline(): string;
  environ(): string;
}

/**
 * pids of the processes (this one excluded) for which `match` holds, from /proc. A process that
 * goes away meanwhile, or is not ours to read, does not match.
 */
export function findProcesses(match: (p: ProcView) => boolean): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    const pid = Number(name);
    const view: ProcView = {
      pid,
      cmdline: () => readFileSync(`/proc/${name}/cmdline`, 'latin1'),
      environ: () => readFileSync(`/proc/${name}/environ`, 'latin1'),
    };
    try {
      if (match(view)) pids.push(pid);
    } catch {
      // gone, or not ours to read
    }
  }
  return pids;
}

/** Sends `signal` to each of `pids`, one by one; those already gone are skipped. */
export function signalAll(pids: Iterable<number>, signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

/**
 * A memory figure of a process from /proc/PID/status, in bytes: VmRSS (resident now) or VmHWM
 * (the peak resident size since it started).
 * @throws Error when the process is gone or the field is missing
 */
export function memBytes(pid: number, field: 'VmRSS' | 'VmHWM' = 'VmRSS'): number {
  const kb = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!kb) throw new Error(`no ${field} for pid ${pid}`);
  return Number(kb[1]) * 1024;
}
