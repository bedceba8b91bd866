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

/** What broke while the relay ran: the copy for the sinks, or the prompt tracking and `::` filters. */
export type RelayFault = 'recording' | 'integration';

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
  /**
   * Told once per kind when a sink or a filter throws. The relay has already dropped the sinks (or
   * both filters) and goes on relaying: the shell must outlive any failure of what rides on it.
   */
  onFault?: (what: RelayFault, err: unknown) => void;
}

/** How long the relay waits for the exit status after the end of output, and the other way round (ms). */
export const END_WAIT_MS = 2000;
/** The status reported when output ended and the shell did not exit within END_WAIT_MS: hung up. */
const HUNG_UP: ExitStatus = { exitCode: 1, signal: 1 };

/** Monotonic clock in µs relative to `origin` (from performance.now, ms with fractions). */
export function microsSince(originMs: number): number {
  return Math.round((performance.now() - originMs) * 1000);
}

/**
 * Runs the relay until the shell has exited and its output has ended (every byte the pty had is on
 * the terminal and with the sinks); each waits at most END_WAIT_MS for the other. Then the sinks get
 * end(). Output that ends while the shell runs on without its terminal is a hang-up: the shell gets
 * SIGHUP, as from a closed terminal.
 * @returns the shell's exit status; the caller turns it into omnish's own exit code.
 */
export function runRelay(io: RelayIo): Promise<ExitStatus> {
  const { pty, terminal } = io;
  const origin = io.originMs ?? performance.now();
  let sinks = io.sinks;
  const faulted = new Set<RelayFault>();
  const fault = (what: RelayFault, err: unknown): void => {
    if (what === 'recording') sinks = [];
    else io.inputFilter = io.outputFilter = undefined;
    if (faulted.has(what)) return;
    faulted.add(what);
    io.onFault?.(what, err);
  };

  pty.onData((data) => {
    terminal.write(showable(io, data, fault));
    if (sinks.length > 0) {
      const t = microsSince(origin);
      try {
        for (const sink of sinks) sink.output(data, t);
      } catch (err) {
        fault('recording', err);
      }
    }
  });

  terminal.onInput((data) => {
    let forwarded: Buffer | null = data;
    try {
      if (io.inputFilter) forwarded = io.inputFilter(data);
    } catch (err) {
      fault('integration', err);
    }
    if (forwarded && forwarded.length > 0) pty.write(forwarded);
  });

  terminal.onResize(({ cols, rows }) => {
    pty.resize(cols, rows);
    const t = microsSince(origin);
    try {
      for (const sink of sinks) sink.resize(cols, rows, t);
    } catch (err) {
      fault('recording', err);
    }
  });

  return new Promise((resolve) => {
    // A pty with no end-of-output event: the exit alone ends the session.
    const end = shellEnd(
      () => pty.kill('SIGHUP'),
      (final) => {
        const t = microsSince(origin);
        try {
          for (const sink of sinks) sink.end(final, t);
        } catch (err) {
          fault('recording', err);
        }
        resolve(final);
      },
      pty.onEnd === undefined,
    );
    pty.onExit((s) => end.exited(s));
    pty.onEnd?.(() => end.outputEnded());
  });
}

/** What {@link shellEnd} is told: the shell exited, or its output ended. */
export interface ShellEnd {
  exited(status: ExitStatus): void;
  outputEnded(): void;
}

/**
 * The end of a session, whichever relay runs it: once the shell has exited and its output has
 * ended, `finish` gets the status (once). Each waits at most END_WAIT_MS for the other: an exit
 * whose output does not end (a background job holds the pty) finishes after it; output that ends
 * while the shell runs on is a hang-up: `hangUp()` (SIGHUP for the shell), then HUNG_UP.
 * @param exitAlone true when there is no end-of-output to wait for: the exit finishes at once
 */
export function shellEnd(hangUp: () => void, finish: (status: ExitStatus) => void, exitAlone = false): ShellEnd {
  let status: ExitStatus | undefined;
  let ended = exitAlone;
  let timer: NodeJS.Timeout | undefined;
  let done = false;
  const end = (final: ExitStatus): void => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    finish(final);
  };
  return {
    exited(s) {
      status = s;
      if (ended) end(s);
      else timer ??= setTimeout(() => end(s), END_WAIT_MS);
    },
    outputEnded() {
      ended = true;
      if (status) return end(status);
      clearTimeout(timer);
      timer = setTimeout(() => {
        hangUp();
        end(HUNG_UP);
      }, END_WAIT_MS);
    },
  };
}

/** What the terminal shows for `data`: the output filter's result, or `data` itself once the filter failed. */
function showable(io: RelayIo, data: Buffer, fault: (what: RelayFault, err: unknown) => void): Buffer {
  if (!io.outputFilter) return data;
  try {
    return io.outputFilter(data);
  } catch (err) {
    fault('integration', err);
    return data;
  }
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

  /** Forgets what is held and drops everything from now on (the real sink could not be made). */
  discard(): void {
    this.held = [];
    this.target = { output() {}, resize() {}, end() {} };
  }

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
