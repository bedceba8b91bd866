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
  /** Optional hook between the user's keystrokes and the shell (`::` interception); returns the bytes to forward. */
  inputFilter?: (data: Buffer) => Buffer | null;
  /** performance.now() of the session's start (ms); defaults to when runRelay is called. Timestamps count from it. */
  originMs?: number;
  /** Optional hook between the shell's output and the terminal (prompt tracking, mark stripping); returns what to show. Sinks get the original. */
  outputFilter?: (data: Buffer) => Buffer;
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
  const origin = io.originMs ?? performance.now();
  const hasSinks = sinks.length > 0;

  const outputFilter = io.outputFilter;
  pty.onData((data) => {
    terminal.write(outputFilter ? outputFilter(data) : data);
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

/**
 * A sink that holds what it gets until the real one is attached: the relay starts at once, while
 * the recorder's code is still loading, and nothing produced meanwhile is missed.
 */
export class DeferredSink implements OutputSink {
  private target: OutputSink | undefined;
  private held: Array<(sink: OutputSink) => void> = [];

  /** Hands everything held so far to `sink`, then forwards directly. */
  attach(sink: OutputSink): void {
    for (const call of this.held) call(sink);
    this.held = [];
    this.target = sink;
  }

  output(data: Buffer, tUs: number): void {
    if (this.target) this.target.output(data, tUs);
    else this.held.push((s) => s.output(data, tUs));
  }

  resize(cols: number, rows: number, tUs: number): void {
    if (this.target) this.target.resize(cols, rows, tUs);
    else this.held.push((s) => s.resize(cols, rows, tUs));
  }

  end(status: ExitStatus, tUs: number): void {
    if (this.target) this.target.end(status, tUs);
    else this.held.push((s) => s.end(status, tUs));
  }
}
