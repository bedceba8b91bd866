/**
 * The user's terminal: its termios (saved, put in raw mode, restored) and its I/O.
 *
 * Node cannot call tcsetattr(3), and `setRawMode(true)` leaves output post-processing (OPOST/ONLCR)
 * on, which would turn a raw-mode program's bare LF into CR LF. So termios goes through stty(1) run
 * against our stdin: `stty -g` saves it, `stty raw -echo ...` makes it as raw as cfmakeraw(3), and the
 * saved string restores it on every exit path.
 */
import { spawnSync } from 'node:child_process';
import { writeSync } from 'node:fs';

/** cfmakeraw(3) in stty's words: no input/output processing, no signals, no echo, 8-bit chars. */
const RAW_SETTINGS = ['raw', '-echo', '-echonl', '-iexten', '-icrnl', '-opost', 'cs8', '-parenb', 'min', '1', 'time', '0'];

function stty(args: string[]): string {
  const result = spawnSync('stty', args, { stdio: [0, 'pipe', 'pipe'], encoding: 'utf8' });
  if (result.error) throw result.error;
  if (result.status !== 0) throw new Error(`stty ${args.join(' ')}: ${result.stderr.trim() || `exit ${result.status}`}`);
  return result.stdout.trim();
}

/** The user's terminal as the relay sees it. Tests and headless runs pass stand-ins. */
export interface Terminal {
  /** Current size in character cells. */
  size(): { cols: number; rows: number };
  /** Writes bytes to the terminal as they are. */
  write(data: Buffer): void;
  /** Subscribes to bytes the user types. */
  onInput(listener: (data: Buffer) => void): void;
  /** Subscribes to window-size changes (SIGWINCH). */
  onResize(listener: (size: { cols: number; rows: number }) => void): void;
  /** Puts the terminal in raw mode (idempotent). */
  enterRaw(): void;
  /** Restores the settings saved at start (idempotent; never throws). */
  restore(): void;
  /** Stops reading input so the process can exit. */
  close(): void;
}

/**
 * Captures the terminal's current settings as an opaque `stty -g` string.
 * @throws Error when stdin is not a terminal or stty is missing.
 */
export function saveTermios(): string {
  return stty(['-g']);
}

/**
 * Saves the terminal's settings and puts it in raw mode with one stty process instead of two
 * (each spawn costs a few ms of start-up).
 * @throws Error when stdin is not a terminal or stty fails
 */
export function saveTermiosAndEnterRaw(): ProcessTerminal {
  const script = `stty -g && stty ${RAW_SETTINGS.join(' ')}`;
  const result = spawnSync('/bin/sh', ['-c', script], { stdio: [0, 'pipe', 'pipe'], encoding: 'utf8' });
  if (result.error) throw result.error;
  if (result.status !== 0) throw new Error(`stty: ${result.stderr.trim() || `exit ${result.status}`}`);
  const terminal = new ProcessTerminal(result.stdout.trim());
  terminal.markRaw();
  return terminal;
}

/** The real terminal on fds 0 and 1. */
export class ProcessTerminal implements Terminal {
  private raw = false;
  /** Set once a write found fd 1 non-blocking: process.stdout takes over, in order. */
  private viaStream = false;

  /** @param saved settings from saveTermios(), restored by restore(). */
  constructor(readonly saved: string) {}

  size(): { cols: number; rows: number } {
    return { cols: process.stdout.columns || 80, rows: process.stdout.rows || 24 };
  }

  // A blocking write(2) on fd 1: a slow terminal blocks us, and while we are blocked we do not read
  // the pty, so the shell is throttled exactly as without omnish. writeSync skips the stream
  // machinery of process.stdout, which was most of the relay's own CPU time (docs/benchmarks.md).
  write(data: Buffer): void {
    if (this.viaStream) {
      process.stdout.write(data);
      return;
    }
    let offset = 0;
    while (offset < data.length) {
      try {
        offset += writeSync(1, data, offset, data.length - offset);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EIO' || code === 'EPIPE') return; // the terminal is gone; SIGHUP follows
        if (code !== 'EAGAIN') throw err;
        // fd 1 is non-blocking after all: from now on the stream writes (and keeps the order).
        this.viaStream = true;
        process.stdout.write(data.subarray(offset));
        return;
      }
    }
  }

  onInput(listener: (data: Buffer) => void): void {
    process.stdin.on('data', listener);
  }

  onResize(listener: (size: { cols: number; rows: number }) => void): void {
    process.stdout.on('resize', () => listener(this.size()));
  }

  enterRaw(): void {
    stty(RAW_SETTINGS);
    this.raw = true;
  }

  /** Records that the terminal is raw already (see saveTermiosAndEnterRaw). */
  markRaw(): void {
    this.raw = true;
  }

  restore(): void {
    if (!this.raw) return;
    this.raw = false;
    try {
      stty([this.saved]);
    } catch {
      // The terminal may be gone (hangup); there is nothing left to restore.
    }
  }

  close(): void {
    process.stdin.pause();
    process.stdin.destroy();
  }
}
