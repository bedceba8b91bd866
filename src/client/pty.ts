/**
 * The shell's pty, on node-pty. Binary safe (`encoding: null`: Buffers both ways) and without
 * node-pty's flow control, which would swallow Ctrl-S/Ctrl-Q.
 *
 * The end of output needs care. node-pty reads the master through a libuv stream, and libuv takes
 * POLLHUP after a short read for end of file: when the shell exits, the kernel still holds the last
 * few KB it wrote (3-14 KB after a burst such as `cat big; exit`), and node-pty closes the master
 * with them unread. So just before node-pty's socket is destroyed (on that false EOF, on EIO, or on
 * node-pty's own timeout after the exit) we read what is left with read(2) until EIO, and only then
 * report the end of output.
 *
 * node-pty gives the new pty a fixed termios of its own (no IUTF8, its own erase character), not
 * the user's. So the shell starts through a tiny launcher that first applies the user's saved
 * settings inside the new pty: `/bin/sh -c 'stty "$saved"; exec "$shell" ...'`.
 */
import { readSync } from 'node:fs';
import type { IPty } from '@lydell/node-pty';

/** The pty as the relay sees it. Tests pass stand-ins. */
export interface Pty {
  /** pid of the process in the pty (the shell, once the launcher has exec'd it). */
  readonly pid: number;
  /** Subscribes to bytes the pty produces (the shell's output, in order). */
  onData(listener: (data: Buffer) => void): void;
  /** Subscribes to the end of the shell: exit status, or the signal that killed it. */
  onExit(listener: (status: ExitStatus) => void): void;
  /**
   * Subscribes to the end of output: no onData after it. Stand-ins without it promise that onExit
   * comes after their last onData.
   */
  onEnd?(listener: () => void): void;
  /** Writes bytes to the shell's input as they are. */
  write(data: Buffer): void;
  /** Sets the window size in character cells (the kernel sends SIGWINCH to the foreground group). */
  resize(cols: number, rows: number): void;
  /** Name of the pty's foreground process (from tcgetpgrp), e.g. 'bash' or 'vim'; '' if unknown. */
  foreground(): string;
  /** Sends a signal to the shell (default SIGHUP, as a closing terminal would). */
  kill(signal?: NodeJS.Signals): void;
}

/** How the shell ended: `exitCode` when it exited, `signal` (number) when a signal killed it. */
export interface ExitStatus {
  exitCode: number;
  signal?: number;
}

/** What spawnShellPty needs. */
export interface ShellSpawn {
  /** Absolute path of the real shell. */
  shell: string;
  /** Arguments for the shell (without argv[0]). */
  args: string[];
  /** Saved `stty -g` settings of the user's terminal, applied inside the new pty. */
  termios: string;
  /** Add IUTF8 (the user's locale is UTF-8, so the line editor must erase whole characters). */
  utf8: boolean;
  cols: number;
  rows: number;
  cwd: string;
  env: Record<string, string>;
}

/** Inside the new pty: apply the user's termios, then become the shell. `$0` is a label for ps. */
const LAUNCHER = 'stty "$1" $2 2>/dev/null; shift 2; exec "$@"';

/**
 * Spawns the shell in a new pty.
 * @throws Error when node-pty's native module cannot load or the pty cannot be opened.
 */
export async function spawnShellPty(opts: ShellSpawn): Promise<Pty> {
  const nodePty = await import('@lydell/node-pty');
  const spawn = nodePty.spawn ?? (nodePty as unknown as { default: typeof nodePty }).default.spawn;
  const pty: IPty = spawn(
    '/bin/sh',
    ['-c', LAUNCHER, 'omnish-launch', opts.termios, opts.utf8 ? 'iutf8' : '', opts.shell, ...opts.args],
    {
      name: opts.env.TERM || 'xterm-256color',
      cols: opts.cols,
      rows: opts.rows,
      cwd: opts.cwd,
      env: opts.env,
      encoding: null,
      handleFlowControl: false,
    },
  );
  const dataListeners: Array<(data: Buffer) => void> = [];
  const endListeners: Array<() => void> = [];
  const emit = (data: Buffer): void => {
    for (const listener of dataListeners) listener(data);
  };
  // With encoding null node-pty hands out Buffers; its typings still say string.
  pty.onData(emit as unknown as (data: string) => void);
  let ended = false;
  const end = (): void => {
    if (ended) return;
    ended = true;
    for (const listener of endListeners) listener();
  };
  if (!drainBeforeClose(pty, emit, end)) pty.onExit(end);
  return {
    pid: pty.pid,
    onData: (listener) => {
      dataListeners.push(listener);
    },
    onExit: (listener) => {
      pty.onExit(({ exitCode, signal }) => listener(signal ? { exitCode, signal } : { exitCode }));
    },
    onEnd: (listener) => {
      endListeners.push(listener);
    },
    // node-pty writes Buffers as they are; its typings say string only.
    write: (data) => pty.write(data as unknown as string),
    resize: (cols, rows) => pty.resize(Math.max(1, cols), Math.max(1, rows)),
    kill: (signal = 'SIGHUP') => pty.kill(signal),
    foreground: () => {
      try {
        return pty.process ?? '';
      } catch {
        return '';
      }
    },
  };
}

/** node-pty internals the drain relies on (node-pty 1.x UnixTerminal); checked before use. */
interface UnixTerminalInternals {
  _fd?: unknown;
  _socket?: { destroy?: unknown };
}

/** Most bytes read in the final drain (bytes): bounds it when a background job keeps writing to the pty. */
const DRAIN_LIMIT_BYTES = 4 << 20;
/** Bytes per read(2) in the final drain; the kernel hands out at most ~4 KiB per read of a pty anyway. */
const DRAIN_CHUNK_BYTES = 64 << 10;

/**
 * Makes node-pty read the master to its end before it closes it: every way node-pty's socket ends
 * goes through its destroy(), which we wrap. `emit` gets the rest of the output, then `end` is called.
 * @returns false when node-pty's internals are not as expected (then the end is taken from the exit).
 */
function drainBeforeClose(pty: IPty, emit: (data: Buffer) => void, end: () => void): boolean {
  const internals = pty as unknown as UnixTerminalInternals;
  const socket = internals._socket;
  const fd = internals._fd;
  if (!socket || typeof socket.destroy !== 'function' || typeof fd !== 'number') return false;
  const destroy = socket.destroy.bind(socket) as (err?: Error) => unknown;
  let drained = false;
  socket.destroy = (err?: Error) => {
    // Only once: after the first destroy the fd is closed, and its number may already be reused.
    if (!drained) {
      drained = true;
      drainSync(fd, emit);
      end();
    }
    return destroy(err);
  };
  return true;
}

/**
 * Reads the master fd (non-blocking) until EIO (the shell's side is closed and empty), EAGAIN (a
 * background job still holds the pty open) or DRAIN_LIMIT_BYTES. Never throws.
 */
function drainSync(fd: number, emit: (data: Buffer) => void): void {
  let total = 0;
  while (total < DRAIN_LIMIT_BYTES) {
    const buf = Buffer.allocUnsafe(DRAIN_CHUNK_BYTES);
    let n: number;
    try {
      n = readSync(fd, buf, 0, buf.length, null);
    } catch {
      return;
    }
    if (n <= 0) return;
    total += n;
    emit(buf.subarray(0, n));
  }
}

/** True when the locale (LC_ALL, else LC_CTYPE, else LANG) names UTF-8. */
export function isUtf8Locale(env: Record<string, string | undefined>): boolean {
  const locale = env.LC_ALL || env.LC_CTYPE || env.LANG || '';
  return /utf-?8/i.test(locale);
}
