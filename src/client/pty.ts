/**
 * The shell's pty, on node-pty. Binary safe (`encoding: null`: Buffers both ways) and without
 * node-pty's flow control, which would swallow Ctrl-S/Ctrl-Q.
 *
 * node-pty gives the new pty a fixed termios of its own (no IUTF8, its own erase character), not
 * the user's. So the shell starts through a tiny launcher that first applies the user's saved
 * settings inside the new pty: `/bin/sh -c 'stty "$saved"; exec "$shell" ...'`.
 */
import type { IPty } from '@lydell/node-pty';

/** The pty as the relay sees it. Tests pass stand-ins. */
export interface Pty {
  /** pid of the process in the pty (the shell, once the launcher has exec'd it). */
  readonly pid: number;
  /** Subscribes to bytes the pty produces (the shell's output, in order). */
  onData(listener: (data: Buffer) => void): void;
  /** Subscribes to the end of the shell: exit status, or the signal that killed it. */
  onExit(listener: (status: ExitStatus) => void): void;
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
  return {
    pid: pty.pid,
    onData: (listener) => {
      // With encoding null node-pty hands out Buffers; its typings still say string.
      pty.onData(listener as unknown as (data: string) => void);
    },
    onExit: (listener) => {
      pty.onExit(({ exitCode, signal }) => listener(signal ? { exitCode, signal } : { exitCode }));
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

/** True when the locale (LC_ALL, else LC_CTYPE, else LANG) names UTF-8. */
export function isUtf8Locale(env: Record<string, string | undefined>): boolean {
  const locale = env.LC_ALL || env.LC_CTYPE || env.LANG || '';
  return /utf-?8/i.test(locale);
}
