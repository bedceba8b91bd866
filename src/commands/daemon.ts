/**
 * `omnish daemon start|stop|restart|status`: manage omnishd by hand (after an upgrade, after changing
 * the environment that `api_key_env` reads, or to test). Clients start it on demand anyway.
 *
 * Exit status, like `systemctl`: 0 = done (start, restart) or running (status) or stopped (stop);
 * 3 = it is not running (stop, status); 1 = it did not start, did not stop within 5 s, or its pid
 * file names a process that is not omnishd (which is then left alone).
 */
import { lstatSync, readFileSync, rmSync } from 'node:fs';
import { basename } from 'node:path';
import { request } from '../control/request.js';
import { DaemonUnavailableError, OmnishError } from '../common/errors.js';
import { daemonPidPath, socketPath, stateDir } from '../common/paths.js';
import { pidAlive } from '../common/process.js';
import { ConnectError } from '../transport/index.js';
import type { CommandIo } from './io.js';
import type { CommandSpec } from './registry.js';
import { statusCommand } from './status.js';

/** How long `stop` waits for omnishd to flush its sessions and exit (ms). */
export const STOP_DEADLINE_MS = 5000;

/** Exit status for "omnishd is not running" (systemctl's "program is not running"). */
export const EXIT_NOT_RUNNING = 3;

/**
 * True when a /proc/PID/cmdline (argv, NUL-separated) is omnishd's: `node [node flags] .../omnishd.js`
 * as clients start it, or `node .../omnishd` through the npm bin link as systemd starts it.
 */
export function isOmnishdCmdline(cmdline: string): boolean {
  const argv = cmdline.split('\0').filter((a) => a !== '');
  const isDaemon = (arg: string | undefined): boolean => arg !== undefined && /^omnishd(\.js)?$/.test(basename(arg));
  if (isDaemon(argv[0])) return true;
  if (!/^node/.test(basename(argv[0] ?? ''))) return false;
  return isDaemon(argv.slice(1).find((a) => !a.startsWith('-')));
}

/** argv of a process, NUL-separated, or undefined when it is gone. */
function cmdlineOf(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1');
  } catch {
    return undefined;
  }
}

/**
 * True once the process is gone. A zombie counts as gone: it has exited and released everything
 * (the socket, the single-instance lock), and kill(pid, 0) would still find it until it is reaped.
 */
function exited(pid: number): boolean {
  if (!pidAlive(pid)) return true;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

/** The pid in the pid file, or undefined when there is no usable one. */
function pidFromFile(): number | undefined {
  try {
    const pid = Number(readFileSync(daemonPidPath(), 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Finds the running daemon: the pid file first, verified through /proc; without a live pid in it,
 * the daemon's own answer to `status` (a daemon whose pid file was deleted still answers).
 * @returns its pid, or undefined when no omnishd runs for this socket
 * @throws OmnishError when the pid file names a live process that is not omnishd, or the socket
 *   is held by something that does not answer properly
 */
export async function findDaemon(): Promise<number | undefined> {
  const path = daemonPidPath();
  const pid = pidFromFile();
  if (pid !== undefined && !exited(pid)) {
    const cmdline = cmdlineOf(pid);
    if (cmdline !== undefined && isOmnishdCmdline(cmdline)) return pid;
    // A stale pid file whose pid now belongs to another program: signalling it would hit a stranger.
    const what = cmdline ? `'${cmdline.split('\0').filter(Boolean).join(' ').slice(0, 80)}'` : 'unknown';
    throw new OmnishError(`pid file ${path} names pid ${pid}, which is not omnishd (it runs ${what}); not touching it. If omnishd is not running, delete ${path}`);
  }
  try {
    const answered = (await request('status')).daemon.pid;
    if (isOmnishdCmdline(cmdlineOf(answered) ?? '')) return answered;
    throw new OmnishError(`omnishd answers on ${socketPath()} as pid ${answered}, but that process is not omnishd`);
  } catch (err) {
    const cause = (err as { cause?: unknown }).cause;
    if (cause instanceof ConnectError && (cause.code === 'ENOENT' || cause.code === 'ECONNREFUSED')) return undefined;
    throw err;
  }
}

/** Inode of the socket file, or undefined when there is none. */
function socketInode(path: string): number | undefined {
  try {
    return lstatSync(path).ino;
  } catch {
    return undefined;
  }
}

/**
 * Sends SIGTERM and waits until the process has exited and its socket is gone.
 * @throws OmnishError when it has not exited after STOP_DEADLINE_MS
 */
export async function stopDaemon(pid: number): Promise<void> {
  const socket = socketPath();
  const inode = socketInode(socket);
  try {
    process.kill(pid, 'SIGTERM');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return;
    throw new OmnishError(`cannot signal omnishd (pid ${pid}): ${(err as Error).message}`, { cause: err });
  }
  const deadline = Date.now() + STOP_DEADLINE_MS;
  // The exit, not only the socket: shutdown removes the socket first, but a restart must wait until
  // the process has released its single-instance lock too, or the new daemon would lose it.
  while (!exited(pid)) {
    if (Date.now() > deadline) {
      throw new OmnishError(`omnishd (pid ${pid}) did not stop within ${STOP_DEADLINE_MS / 1000} s (its log is in ${stateDir()}); to force it: kill -KILL ${pid}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  // A socket may be there again already: a running omnish shell that lost its daemon starts a new
  // one (another inode). Only the old daemon's own socket, left if its shutdown failed, is removed.
  if (inode !== undefined && socketInode(socket) === inode) rmSync(socket, { force: true });
}

/** Starts omnishd unless it runs, and returns its pid as the daemon itself reports it. */
export async function startDaemon(): Promise<number> {
  const { startDetached } = await import('../control/autostart.js');
  await startDetached();
  // The pid file can lag behind the socket by a moment, or be a dead daemon's: ask the daemon.
  const pid = (await request('status')).daemon.pid;
  if (!pid) throw new DaemonUnavailableError('omnishd started but did not report its pid');
  return pid;
}

async function start(io: CommandIo): Promise<void> {
  io.out(`omnishd running (pid ${await startDaemon()})\n`);
}

async function stop(io: CommandIo): Promise<void> {
  const pid = await findDaemon();
  if (pid === undefined) {
    io.err('omnishd is not running\n');
    io.setExitCode(EXIT_NOT_RUNNING);
    return;
  }
  await stopDaemon(pid);
  io.out('omnishd stopped\n');
}

async function restart(io: CommandIo): Promise<void> {
  const pid = await findDaemon();
  if (pid !== undefined) {
    await stopDaemon(pid);
    io.out('omnishd stopped\n');
  }
  await start(io);
}

const EXIT_HELP = `
Exit status: 0 done; 3 omnishd is not running (stop, status); 1 it did not start, did not stop
within ${STOP_DEADLINE_MS / 1000} s, or its pid file names another program.
Running omnish shells start omnishd again when they reconnect, unless [daemon] autostart = false.
`;

export const daemonCommand: CommandSpec = {
  name: 'daemon',
  summary: 'start, stop, restart omnishd or show its status',
  usage: {
    after: EXIT_HELP,
    subcommands: [
      { name: 'start', summary: 'start omnishd in the background unless it runs', usage: {}, run: start },
      { name: 'stop', summary: `stop omnishd (SIGTERM; it saves every session) and wait up to ${STOP_DEADLINE_MS / 1000} s`, usage: {}, run: stop },
      { name: 'restart', summary: 'stop omnishd if it runs, then start it (with this shell\'s environment)', usage: {}, run: restart },
      statusCommand,
    ],
  },
};
