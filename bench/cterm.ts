/**
 * The benchmark's terminal: bench/term.c, compiled with `cc` at run time into .bench/ and run once
 * per measurement. A C reader drains the pty far faster than any relay it measures, so the ratios
 * are the relay's (a node-pty reader in Node drained half as fast and flattened every ratio).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ROOT } from '../test/helpers/paths.js';
import { BenchError } from './errors.js';

/** One step of the terminal's script, run in order against the pty (see bench/term.c). */
export type Step =
  | { wait: string }
  | { find: string }
  | { send: string }
  | { mark: true }
  | { quietMs: number }
  | { echoKeys: number };

/** A needle the terminal waited for, and when it came. */
export interface WaitHit {
  needle: string;
  /** µs from spawn until the chunk holding it was read. */
  us: number;
  /** µs from the mark, or -1 when it came before the mark. */
  sinceMarkUs: number;
  /** Bytes read from the pty by then (since spawn). */
  bytes: number;
}

/** What bench/term prints: one run of one contender. */
export interface TermResult {
  pid: number;
  /** Bytes read from the pty master, from spawn to EOF. */
  bytes: number;
  /** Bytes read from the mark to EOF. */
  markBytes: number;
  /** µs from the mark (else spawn) to EOF/EIO on the master; -1 when EOF never came. */
  eofUs: number;
  /** µs from the mark (else spawn) to the contender's exit (SIGCHLD). */
  exitUs: number;
  exitCode: number | null;
  signal: number | null;
  /** The contender's own user+system CPU, µs (10 ms resolution); -1 if unreadable. */
  selfCpuUs: number;
  /** CPU of the children the contender waited for, µs (10 ms resolution). */
  childrenCpuUs: number;
  /** wait4 rusage of the contender and its waited-for descendants, µs. */
  rusageCpuUs: number;
  /** The terminal's own CPU, µs. */
  readerCpuUs: number;
  /** selfCpuUs and childrenCpuUs at the mark; -1 without a mark. */
  markSelfCpuUs: number;
  markChildrenCpuUs: number;
  waits: WaitHit[];
  /** Keystroke echo round trips, µs (`echoKeys` step). */
  echoUs: number[];
  /** Why the run failed (a timeout, EOF during a step), with the last output; null if it did not. */
  error: string | null;
}

/** Where the compiled terminal lives (gitignored). */
export const TERM_BIN = join(ROOT, '.bench', 'term');

/**
 * Compiles bench/term.c into `bin` (default .bench/term) with `$CC` (default `cc`). The tests pass
 * a path in their own temporary directory: two test files compiling one path at once would race.
 * @throws BenchError with one line when no compiler is found or the compile fails
 */
export function compileTerm(bin = TERM_BIN): string {
  const cc = process.env.CC || 'cc';
  mkdirSync(dirname(bin), { recursive: true });
  const r = spawnSync(cc, ['-O2', '-Wall', '-o', bin, join(ROOT, 'bench', 'term.c')], { encoding: 'utf8' });
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT') {
    throw new BenchError(`a C compiler is needed to build the terminal (bench/term.c) and \`${cc}\` was not found: install gcc or clang, or set CC`);
  }
  if (r.error) throw new BenchError(`could not run ${cc}: ${r.error.message}`);
  if (r.status !== 0) throw new BenchError(`${cc} failed to compile bench/term.c: ${(r.stderr || r.stdout).trim().split('\n')[0]}`);
  return bin;
}

function stepArgs(step: Step): string[] {
  if ('wait' in step) return ['-w', step.wait];
  if ('find' in step) return ['-f', step.find];
  if ('send' in step) return ['-s', step.send];
  if ('mark' in step) return ['-m'];
  if ('quietMs' in step) return ['-q', String(step.quietMs)];
  return ['-e', String(step.echoKeys)];
}

/** Options of one terminal run. */
export interface TermOptions {
  cols: number;
  rows: number;
  /** Deadline of each wait and of the final read to EOF, ms. */
  timeoutMs: number;
  env: Record<string, string>;
  cwd: string;
  /** Also write every byte read to this file (term -o): what the terminal got, to compare with the store. */
  out?: string;
}

/** Processes of term runs under way, so a Ctrl-C can end them (the contender dies with its pty). */
export const running = new Set<number>();

/**
 * Runs `file args` in a fresh pty under bench/term, with `steps`, and returns what it measured.
 * @throws BenchError when the run failed (`error` in its output, or no output at all)
 */
export function runTerm(bin: string, name: string, file: string, args: string[], steps: Step[], opts: TermOptions): Promise<TermResult> {
  const argv = ['-c', String(opts.cols), '-r', String(opts.rows), '-t', String(opts.timeoutMs), ...(opts.out ? ['-o', opts.out] : []),
    ...steps.flatMap(stepArgs),
    '--', file, ...args];
  return new Promise((resolve, reject) => {
    const child = spawn(bin, argv, { env: opts.env, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    if (child.pid !== undefined) running.add(child.pid);
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString('latin1')));
    child.stderr.on('data', (b: Buffer) => (err += b.toString('latin1')));
    child.on('error', (e) => reject(new BenchError(`${name}: could not run ${bin}: ${e.message}`)));
    child.on('close', () => {
      if (child.pid !== undefined) running.delete(child.pid);
      let result: TermResult;
      try {
        result = JSON.parse(out) as TermResult;
      } catch {
        reject(new BenchError(`${name}: the terminal printed no result${err ? `: ${err.trim()}` : ''}`));
        return;
      }
      if (result.error !== null) reject(new BenchError(`${name}: ${result.error}`));
      else resolve(result);
    });
  });
}
