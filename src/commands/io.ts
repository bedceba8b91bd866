/**
 * Where a command's output goes. On the command line that is stdout/stderr; at a shell prompt
 * (`::name`) the terminal is in raw mode, so text lines need CR LF and keys arrive through the
 * relay. A command gets its CommandIo as an argument (CommandSpec.run) and writes only through it.
 */

/** Output and keyboard of one command run. */
export interface CommandIo {
  /** Writes text for the user (LF line ends; converted where the terminal needs CR LF). */
  out(text: string): void;
  /** Writes an error or notice line (same conversion). */
  err(text: string): void;
  /** Writes bytes exactly as they are (replayed terminal output). */
  raw(bytes: Buffer): void;
  /** True when output goes to a terminal (timing, colours, key controls make sense). */
  readonly isTTY: boolean;
  /** True when running as `::name` inside an omnish session (the terminal is already raw). */
  readonly atPrompt: boolean;
  /**
   * Subscribes to keys typed while the command runs (only where a terminal can send them); the
   * listener returns false for keys it does not use (they are typed ahead for the shell). Returns
   * the unsubscribe function. Undefined when there is no keyboard.
   */
  onKey?: (listener: (key: Buffer) => boolean | void) => () => void;
  /**
   * On the command line with a terminal on stdin and stdout: puts the terminal in raw mode (keys
   * arrive one by one, output is not altered) and sends the keys to `listener` until the returned
   * function restores it. Undefined without such a terminal, and at a prompt (use onKey there).
   */
  rawKeys?: (listener: (key: Buffer) => void) => () => void;
  /**
   * At a prompt only: once the command has ended and the prompt is back, `text` is on the shell's
   * command line as if the user had typed it, not run (Enter is theirs to press). The caller
   * passes printable text on one line: control characters would be keys to the line editor.
   */
  typeAhead?: (text: string) => void;
  /** Sets the exit status the command reports (default 0). */
  setExitCode(code: number): void;
  /** The omnish session the command runs in, when it runs as `::name` at its prompt. */
  readonly session?: SessionControl;
}

/** What a `::` command can do to the session it was typed in. */
export interface SessionControl {
  /** Session id. */
  readonly id: string;
  /** Shell integration state: 'bash', 'zsh', 'fish' or 'off: reason'. */
  readonly integration: string;
  /** Process id of the wrapped shell (its /proc/PID/cwd is the directory the user is in). */
  readonly shellPid?: number;
  /** True while recording is paused. */
  readonly paused: boolean;
  /** Stops recording; false when already paused. */
  pause(): boolean;
  /** Records again (a gap marks what was left out); false when not paused. */
  resume(): boolean;
}

/**
 * A reader that went away (`omnish sessions | head`) ends the command quietly, as in cat or ls:
 * no stack trace for EPIPE, exit status 141 (128 + SIGPIPE, what a shell reports for them).
 */
function quietOnEpipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    if (stream.listenerCount('error') > 0) continue;
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(141);
      throw err;
    });
  }
}

/** The CommandIo of the command line: stdout, stderr, exit status in process.exitCode (no keyboard). */
export function processIo(): CommandIo {
  quietOnEpipe();
  return {
    out: (text) => void process.stdout.write(text),
    err: (text) => void process.stderr.write(text),
    raw: (bytes) => void process.stdout.write(bytes),
    isTTY: process.stdout.isTTY === true,
    atPrompt: false,
    setExitCode: (code) => {
      process.exitCode = code;
    },
  };
}
