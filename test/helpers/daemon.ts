/** Helpers for tests that involve omnishd: find, wait for and stop the daemon of a test directory. */
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { testEnv } from './env.js';
import { OMNISH, OMNISHD } from './paths.js';
import { findProcesses, signalAll } from './procs.js';
import { waitUntil } from './wait.js';

export { OMNISHD } from './paths.js';

/** pids of omnishd processes serving the socket of test directory `dir` (found by their environment). */
export function daemonPids(dir: string): number[] {
  const socket = `OMNISH_SOCKET=${testEnv(dir).OMNISH_SOCKET}`;
  return findProcesses((p) => p.cmdline().includes('omnishd.js') && p.environ().split('\0').includes(socket));
}

/** Waits until exactly one daemon serves `dir` and its socket answers; returns its pid. */
export async function waitDaemon(dir: string, timeoutMs = 10_000): Promise<number> {
  return waitUntil(() => {
    const pids = daemonPids(dir);
    if (pids.length !== 1) return undefined;
    const status = omnish(dir, ['status', '--json']);
    return status.status === 0 ? pids[0] : undefined;
  }, `omnishd for ${dir}`, timeoutMs);
}

/** Kills every daemon of `dir` with `signal` and waits until they are gone. */
export async function stopDaemons(dir: string, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  signalAll(daemonPids(dir), signal);
  await waitUntil(() => daemonPids(dir).length === 0, 'omnishd to exit');
}

/**
 * Starts `omnishd --foreground` for `dir` in the background (detached, output ignored), as a
 * user's already-running daemon; it does not wait for it (see waitDaemon). `omnishd` is another
 * build's bin/omnishd.js (the bench measures other checkouts), `env` replaces testEnv(dir).
 */
export function startDaemon(
  dir: string,
  opts: { omnishd?: string; env?: Record<string, string>; cwd?: string; nodeArgs?: string[] } = {},
): ChildProcess {
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), opts.omnishd ?? OMNISHD, '--foreground'], {
    env: opts.env ?? testEnv(dir),
    cwd: opts.cwd,
    stdio: 'ignore',
    detached: true,
  });
  child.unref();
  return child;
}

/** Runs `omnish ARGS` to completion with the test environment. */
export function omnish(dir: string, args: string[], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [OMNISH, ...args], { env: testEnv(dir, env), encoding: 'utf8', timeout: 20_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs `omnish ARGS` and returns stdout as raw bytes. */
export function omnishBytes(dir: string, args: string[]): Buffer {
  return execFileSync(process.execPath, [OMNISH, ...args], { env: testEnv(dir), timeout: 20_000 });
}

/** The sessions of `dir` as `omnish sessions --json` lists them. */
export function sessions(dir: string): Array<Record<string, unknown> & { id: string; active: boolean }> {
  const r = omnish(dir, ['sessions', '--json']);
  if (r.status !== 0) throw new Error(`omnish sessions failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as Array<Record<string, unknown> & { id: string; active: boolean }>;
}

/**
 * Runs `omnish ARGS` without blocking the test's event loop: needed when this process also serves
 * something the command talks to (a fake LLM server).
 */
export function omnishAsync(dir: string, args: string[], env: Record<string, string> = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [OMNISH, ...args], { env: testEnv(dir, env) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}
