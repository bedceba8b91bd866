/**
 * Starting omnishd in the background: a detached `omnishd --foreground` with no terminal and no
 * stdio, so nothing it does can reach a user's terminal, and it outlives the client that started it.
 *
 * A daemon that cannot serve (its socket's directory cannot be created, the runtime directory is
 * not private, ...) exits at once with status 1 and says why in its log. Starting it again and
 * again would not help and would cost a node start-up each time, so spawnDaemon backs off between
 * spawns that failed and gives up after MAX_FAILED_SPAWNS of them in a row (per socket path, for
 * the life of this process). A client that gave up still reconnects: a daemon started by hand is
 * found.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { daemonPidPath, socketPath } from '../common/paths.js';
import { DaemonUnavailableError } from '../common/errors.js';
import { EXIT_ALREADY_RUNNING, pidAlive } from '../common/process.js';
import { connectUnix } from '../transport/index.js';

/** Absolute path of the omnishd launcher. */
export const OMNISHD_BIN = fileURLToPath(new URL('../../bin/omnishd.js', import.meta.url));

/** Spawns in a row whose daemon exited without any daemon answering, after which spawnDaemon gives up. */
export const MAX_FAILED_SPAWNS = 3;
/** Wait before the spawn after the first failed one (ms); it doubles after each further failure. */
export const FIRST_RESPAWN_DELAY_MS = 2000;

/** A daemon that ran this long (ms) before exiting got past its start: it does not count as a failed spawn. */
const SERVED_MS = 10_000;

/** What spawnDaemon knows about the daemons it started for one socket path. */
interface SpawnState {
  /** Consecutive spawns that failed (the child exited non-zero and no daemon answered). */
  failed: number;
  /** No new spawn before this time (ms since the epoch). */
  notBefore: number;
  /** The last child, while it runs. */
  child: ChildProcess | undefined;
}

const states = new Map<string, SpawnState>();

function stateOf(path: string): SpawnState {
  let s = states.get(path);
  if (!s) states.set(path, (s = { failed: 0, notBefore: 0, child: undefined }));
  return s;
}

/** True when a daemon answers on `path` now. */
async function answers(path: string): Promise<boolean> {
  try {
    (await connectUnix(path, { connectTimeoutMs: 1000 })).destroy();
    return true;
  } catch {
    return false;
  }
}

/**
 * Spawns a detached daemon and returns at once, unless backing off: while the previous one still
 * runs, within the delay after a failed spawn, or for good after MAX_FAILED_SPAWNS failed ones in a
 * row. Several racing callers start one daemon: the rest lose the lock and exit (which does not
 * count as a failure, since a daemon then answers).
 * @returns true if a daemon was spawned
 */
export function spawnDaemon(env: NodeJS.ProcessEnv = process.env): boolean {
  const path = socketPath(env);
  const s = stateOf(path);
  if (s.child || s.failed >= MAX_FAILED_SPAWNS || Date.now() < s.notBefore) return false;
  const child = spawn(process.execPath, [OMNISHD_BIN, '--foreground'], { detached: true, stdio: 'ignore', env });
  s.child = child;
  const spawnedAt = Date.now();
  // The exit is still reported while this process runs for other reasons; unref() only means we
  // do not stay alive for it.
  child.once('exit', (code, signal) => {
    s.child = undefined;
    // Stopped by a signal or normally (`omnish daemon stop`): it served; start afresh next time.
    // Lost the lock: another daemon serves (or soon will); not a failure either.
    if (code === 0 || code === EXIT_ALREADY_RUNNING || signal) return void (s.failed = 0);
    const livedMs = Date.now() - spawnedAt;
    void answers(path).then((ok) => {
      if (ok) return void (s.failed = 0); // it lost the lock to a daemon that serves
      // One that ran for a while (and crashed) served in between: failures in a row start again.
      s.failed = (livedMs >= SERVED_MS ? 0 : s.failed) + 1;
      s.notBefore = Date.now() + FIRST_RESPAWN_DELAY_MS * 2 ** (s.failed - 1);
    });
  });
  child.once('error', () => {
    s.child = undefined; // could not even exec node: counts like a daemon that failed
    s.failed++;
  });
  child.unref();
  return true;
}

/**
 * Starts the daemon unless one answers, and waits until it does.
 * @returns the daemon's pid (from its pid file, once that names a live process; 0 if it still does
 *   not when `timeoutMs` is over)
 * @throws DaemonUnavailableError when it exits before answering (with the reason it printed:
 *   `omnishd could not start: cannot create directory ...`) or does not answer within `timeoutMs`
 */
export async function startDetached(timeoutMs = 5000, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const path = socketPath(env);
  const deadline = Date.now() + timeoutMs;
  let started: StartedDaemon | undefined;
  try {
    for (;;) {
      if (await answers(path)) {
        // A daemon answers as soon as it listens and writes its pid file right after: until then
        // the file is missing, or stale (a SIGKILLed daemon's) and names a dead process.
        const pid = readPid(env);
        if (pid && pidAlive(pid)) return pid;
        if (Date.now() > deadline) return 0;
        await new Promise((r) => setTimeout(r, 10));
        continue;
      }
      started ??= startWithStderr(env);
      const exit = started.exitCode();
      // One that lost the lock to a daemon still loading its store: wait for that one to answer.
      if (exit !== undefined && exit !== 0 && exit !== EXIT_ALREADY_RUNNING && !(await answers(path))) {
        const why = started.stderr() || `it exited with status ${exit} (see its log)`;
        throw new DaemonUnavailableError(`omnishd could not start: ${why.replace(/^omnishd: (cannot start: )?/, '')}`);
      }
      if (Date.now() > deadline) throw new DaemonUnavailableError(`omnishd did not start within ${timeoutMs / 1000} s (see its log)`);
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    started?.dispose();
  }
}

/** A daemon started by startDetached, whose stderr goes to a private temporary file. */
interface StartedDaemon {
  /** Its exit status once it exited (a signal counts as 128 + n), else undefined. */
  exitCode(): number | undefined;
  /** The first line it wrote to stderr ('' if none). */
  stderr(): string;
  dispose(): void;
}

/**
 * Spawns a detached daemon whose stderr is a temporary file (0600, removed again at once after),
 * so that a daemon that cannot start can tell the user why. A file, not a pipe: the daemon outlives
 * us and must never get EPIPE on a later write.
 */
function startWithStderr(env: NodeJS.ProcessEnv): StartedDaemon {
  const file = join(tmpdir(), `omnishd-start-${process.pid}-${randomBytes(6).toString('hex')}.err`);
  const fd = openSync(file, 'wx+', 0o600);
  let status: number | undefined;
  try {
    const child = spawn(process.execPath, [OMNISHD_BIN, '--foreground'], { detached: true, stdio: ['ignore', 'ignore', fd], env });
    child.once('exit', (code, signal) => (status = code ?? 128 + (signal ? constants.signals[signal] : 0)));
    child.once('error', () => (status = 127));
    child.unref();
  } finally {
    closeSync(fd); // the child has its own copy
  }
  return {
    exitCode: () => status,
    stderr: () => {
      try {
        return readFileSync(file, 'utf8').split('\n')[0]!.trim();
      } catch {
        return '';
      }
    },
    dispose: () => rmSync(file, { force: true }),
  };
}

function readPid(env: NodeJS.ProcessEnv): number {
  try {
    return Number(readFileSync(daemonPidPath(env), 'utf8').trim()) || 0;
  } catch {
    return 0;
  }
}
