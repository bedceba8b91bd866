/**
 * The user's terminal: its termios (saved, put in raw mode, restored) and its I/O.
 *
 * Node cannot call tcsetattr(3), and `setRawMode(true)` leaves output post-processing (OPOST/ONLCR)
 * on, which would turn a raw-mode program's bare LF into CR LF. So termios goes through stty(1) run
 * against our stdin: `stty -g` saves it, `stty raw -echo ...` makes it as raw as cfmakeraw(3), and the
 * saved string restores it on every exit path.
 */
import { spawnSync } from 'node:child_process';

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

/** The real terminal on fds 0 and 1. */
export class ProcessTerminal implements Terminal {
  private raw = false;

  /** @param saved settings from saveTermios(), restored by restore(). */
  constructor(readonly saved: string) {}

  size(): { cols: number; rows: number } {
    return { cols: process.stdout.columns || 80, rows: process.stdout.rows || 24 };
  }

  // process.stdout on a tty writes synchronously on POSIX: a slow terminal blocks us, and while we
  // are blocked we do not read the pty, so the shell is throttled exactly as without omnish.
  write(data: Buffer): void {
    process.stdout.write(data);
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
