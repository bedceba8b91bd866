/**
 * The relay: bytes from the pty go to the terminal, bytes from the terminal go to the pty, unchanged
 * and in order. A copy of the output goes to zero or more sinks (the daemon stream, later).
 *
 * The kernel hands a pty reader about 4 KiB per read, so everything done per chunk here is paid
 * thousands of times a second under load: the hot path is one terminal write and, only when there
 * are sinks, one timestamp and one call per sink. Sinks must not block or throw.
 */
import type { ExitStatus, Pty } from './pty.js';
import type { Terminal } from './terminal.js';

/** Receives a copy of the session. Implementations buffer and must return at once. */
export interface OutputSink {
  /** Output bytes from the shell; `tUs` is µs since the session started. Do not keep `data` past the call unless copying. */
  output(data: Buffer, tUs: number): void;
  /** The window was resized to cols × rows at `tUs`. */
  resize(cols: number, rows: number, tUs: number): void;
  /** The shell ended. */
  end(status: ExitStatus, tUs: number): void;
}

/** Everything the relay runs on. */
export interface RelayIo {
  pty: Pty;
  terminal: Terminal;
  sinks: OutputSink[];
  /** Optional hook between the user's keystrokes and the shell (`::` interception later); return the bytes to forward. */
  inputFilter?: (data: Buffer) => Buffer | null;
}

/** Monotonic clock in µs relative to `origin` (from performance.now, ms with fractions). */
export function microsSince(originMs: number): number {
  return Math.round((performance.now() - originMs) * 1000);
}

/**
 * Runs the relay until the shell exits.
 * @returns the shell's exit status; the caller turns it into omnish's own exit code.
 */
export function runRelay(io: RelayIo): Promise<ExitStatus> {
  const { pty, terminal, sinks } = io;
  const origin = performance.now();
  const hasSinks = sinks.length > 0;

  pty.onData((data) => {
    terminal.write(data);
    if (hasSinks) {
      const t = microsSince(origin);
      for (const sink of sinks) sink.output(data, t);
    }
  });

  terminal.onInput((data) => {
    const forwarded = io.inputFilter ? io.inputFilter(data) : data;
    if (forwarded && forwarded.length > 0) pty.write(forwarded);
  });

  terminal.onResize(({ cols, rows }) => {
    pty.resize(cols, rows);
    const t = microsSince(origin);
    for (const sink of sinks) sink.resize(cols, rows, t);
  });

  return new Promise((resolve) => {
    pty.onExit((status) => {
      const t = microsSince(origin);
      for (const sink of sinks) sink.end(status, t);
      resolve(status);
    });
  });
}

/** Maps a shell's end to a process exit code the way shells do: 128 + signal number when killed. */
export function exitCodeOf(status: ExitStatus): number {
  return status.signal ? 128 + status.signal : status.exitCode;
}
