/**
 * The pieces of the hostile-output and load runs (issue 13, items 2 and 3; docs/reliability.md),
 * shared by test/hostile-output.test.ts, test/load.test.ts (bounded) and bench/soak.ts
 * (`npm run soak`, full size):
 *
 * - sessions run under bench/term.c, the benchmark's C terminal, which drains its pty far faster
 *   than omnish relays and writes every byte it read to a file (`-o`): the reader is never what
 *   limits a full-speed session, and the test process holds no output;
 * - what a terminal got is compared with the store (stream.bin) byte for byte, streaming, with the
 *   gaps counted;
 * - memory is sampled from /proc (VmRSS every SAMPLE_MS, VmHWM at the end), with the peak kept.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { compileTerm, runTerm, type Step, type TermResult } from '../../bench/cterm.js';
import { RecordKind, readCommandRecords, readStream, SessionStore, STREAM_FILE, type CommandRecord, type StoredSession } from '../../src/store/index.js';
import { testEnv } from '../helpers/env.js';
import { OMNISH, ROOT } from '../helpers/paths.js';
import { memBytes } from '../helpers/procs.js';
import { waitUntil } from '../helpers/wait.js';

export { compileTerm };

/** The prompt-ready mark (OSC 133 B) as it starts: a session's shell is ready for a command line. */
const PROMPT_READY = '\x1b]133;B;omnish=';
/** How often memory is sampled, ms. */
const SAMPLE_MS = 50;

/** The end marker of command `k` of a session, and the printf that prints it without its echo holding it. */
export function endMarker(k: number): { cmd: string; out: string } {
  return { cmd: `printf '%s:%s\\n' END${k} 42`, out: `END${k}:42` };
}

/** A session to run: command lines typed one after the other, each waited for, then `exit`. */
export interface SessionScript {
  /** The command lines, in order (bash). */
  commands: string[];
  /** Where the terminal writes what it got. */
  out: string;
  /** Deadline of each wait (the prompt, each command's end marker, EOF after exit), ms. */
  timeoutMs: number;
  cols?: number;
  rows?: number;
}

/**
 * Runs omnish (bash without rc files, integration on) in bench/term with `script`: waits for the
 * first prompt, then types each command followed by its end marker and waits for the marker and the
 * next prompt (nothing is typed ahead, so a command's recorded output is its own), then `exit`
 * and reads to EOF. Resolves with term's figures.
 * @throws BenchError when a wait timed out or the terminal failed (its last output in the message)
 */
export function runSession(termBin: string, dir: string, script: SessionScript): Promise<TermResult> {
  const steps: Step[] = [{ wait: PROMPT_READY }];
  script.commands.forEach((cmd, k) => {
    const end = endMarker(k);
    steps.push({ send: `${cmd}; ${end.cmd}\r` }, { wait: end.out }, { wait: PROMPT_READY });
  });
  steps.push({ send: 'exit\r' });
  return runTerm(termBin, 'omnish', process.execPath, [OMNISH, '--norc', '--noprofile'], steps, {
    cols: script.cols ?? 120, rows: script.rows ?? 40, timeoutMs: script.timeoutMs, env: testEnv(dir), cwd: ROOT, out: script.out,
  });
}

/** The store of test directory `dir`. */
export function storeOf(dir: string): SessionStore {
  return new SessionStore(join(dir, 'data', 'sessions'));
}

/** Waits until the session whose client is `clientPid` has ended in the store (its meta says so); returns it. */
export async function endedSession(dir: string, clientPid: number, timeoutMs = 30_000): Promise<StoredSession> {
  return waitUntil(() => storeOf(dir).list().find((s) => s.clientPid === clientPid && s.endedAt !== null), `session of client ${clientPid} to end in the store`, timeoutMs);
}

/** The command records of a stored session. */
export function commandsOf(session: StoredSession): CommandRecord[] {
  return readCommandRecords(session.dir);
}

/** How the store's copy of a session compares with what its terminal got. */
export interface StoreComparison {
  /** Bytes the terminal got (the -o file). */
  termBytes: number;
  /** Output bytes in the store. */
  storedBytes: number;
  /** Gap records, and the bytes they say were lost. */
  gaps: number;
  lostBytes: number;
  /** Offset of the first byte that differs (or where one side ended early), -1 when identical. */
  firstDifference: number;
}

/**
 * Compares the output records of `session`'s stream.bin with the file `termOut`, streaming (both
 * can be gigabytes).
 * @throws StoreError when the stream file cannot be read
 */
export function compareWithStore(session: StoredSession, termOut: string): StoreComparison {
  const fd = openSync(termOut, 'r');
  const mine = Buffer.alloc(1 << 20);
  let at = 0;
  let stored = 0;
  let gaps = 0;
  let lost = 0;
  let firstDifference = -1;
  try {
    for (const r of readStream(join(session.dir, STREAM_FILE), { borrow: true })) {
      if (r.kind === RecordKind.Gap) {
        gaps++;
        lost += r.lostBytes;
        at += r.lostBytes; // the terminal had them, where the gap stands
        continue;
      }
      if (r.kind !== RecordKind.Output) continue;
      stored += r.data.length;
      for (let k = 0; k < r.data.length && firstDifference < 0; ) {
        const want = Math.min(mine.length, r.data.length - k);
        const got = readSync(fd, mine, 0, want, at);
        const a = mine.subarray(0, got);
        const b = r.data.subarray(k, k + got);
        if (got < want || !a.equals(b)) {
          let i = 0;
          while (i < got && a[i] === b[i]) i++;
          firstDifference = at + i;
        }
        at += got;
        k += got;
      }
    }
    let termBytes = at;
    for (let n = readSync(fd, mine, 0, mine.length, termBytes); n > 0; n = readSync(fd, mine, 0, mine.length, termBytes)) termBytes += n;
    if (firstDifference < 0 && termBytes !== stored + lost) firstDifference = Math.min(termBytes, stored + lost);
    return { termBytes, storedBytes: stored, gaps, lostBytes: lost, firstDifference };
  } finally {
    closeSync(fd);
  }
}

/**
 * The peak resident memory of some processes: VmHWM (the kernel's own peak, so nothing between two
 * samples is missed) read every SAMPLE_MS until stop(), the last value kept when a process ends.
 * Bytes.
 */
export class MemorySampler {
  private readonly peaks = new Map<number, number>();
  private readonly timer: NodeJS.Timeout;

  /** @param pids the processes to watch, asked again at every sample (a process may appear late) */
  constructor(private readonly pids: () => number[]) {
    this.timer = setInterval(() => this.sample(), SAMPLE_MS);
    this.sample();
  }

  private sample(): void {
    for (const pid of this.pids()) {
      try {
        this.peaks.set(pid, Math.max(this.peaks.get(pid) ?? 0, memBytes(pid, 'VmHWM')));
      } catch {
        // gone
      }
    }
  }

  /** Peak resident size of `pid` (0 if never seen), read now if it still runs. */
  peak(pid: number): number {
    this.sample();
    return this.peaks.get(pid) ?? 0;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/** Bytes as MiB with one decimal, for messages and figures. */
export const mib = (n: number): string => `${(n / 2 ** 20).toFixed(1)} MiB`;
