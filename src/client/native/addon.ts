/**
 * The native addon (src/client/native/*.c, Node-API, built by node-gyp): its JavaScript shape and
 * its loader. A source build (build/Release) wins over the prebuilt binaries shipped in
 * prebuilds/<platform>-<arch>/ (node-gyp-build's layout); where neither loads, callers fall back
 * to the node-pty relay.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A mark as the C parser reports it (marks.h); `payload` is the OSC payload, latin1, absent for alt marks. */
export interface NativeMark {
  kind: 'A' | 'B' | 'C' | 'D' | 'E' | 'P' | 'alt-on' | 'alt-off';
  start: number;
  offset: number;
  payload?: string;
}

/** The C port of src/shell/marks.ts MarkParser (held to it by test/native-marks.test.ts). */
export interface NativeMarkParser {
  push(chunk: Buffer): NativeMark[];
  pushAndStrip(chunk: Buffer): { events: NativeMark[]; output: Buffer };
  takeHeld(): Buffer;
  readonly altScreen: boolean;
}

/** Options of startRelay (relay.c). */
export interface NativeRelayOptions {
  /** Program to run in the new pty, its argv (argv[0] included) and environment ("K=V"). */
  file: string;
  argv: string[];
  env: string[];
  cwd: string;
  /** Add IUTF8 to the user's termios on the new pty. */
  utf8: boolean;
  /** The session's nonce: prompt tracking and `::` interception on; absent without shell integration. */
  nonce?: string;
  stripMarks: boolean;
  commandPrefix: string;
  /** Record at all; bytes held for the daemon before output is dropped; batch size (bytes) and age (ms). */
  record: boolean;
  capBytes: number;
  batchBytes: number;
  batchMs: number;
  /** Gap reasons: output over the cap, output while paused. */
  capReason: string;
  pauseReason: string;
  /**
   * Record keystrokes too, those the pty would show only: read while it echoes, or at the shell's
   * prompt (up to the first line end). Keys read with echo off anywhere else are never copied; each
   * such stretch gets one Gap of 0 bytes with `hiddenReason` (required with `recordInput`).
   */
  recordInput?: boolean;
  hiddenReason?: string;
}

/** What the relay thread tells JavaScript, in order; a handful per command, never per output chunk. */
export type NativeRelayEvent =
  | { type: 'mark'; kind: NativeMark['kind']; start: number; offset: number; payload?: string; prompt?: Buffer }
  | { type: 'input'; data: Buffer }
  | { type: 'outputEnd' }
  | { type: 'exit'; exitCode: number; signal: number }
  | { type: 'outletClosed'; message: string }
  | { type: 'terminalGone' }
  | { type: 'fault'; message: string };

/** The running relay (loop.c): the shell in its pty, the thread, the queue for omnishd. */
export interface NativeRelay {
  /** pid of the shell. */
  readonly pid: number;
  /** µs since the relay started: the session's clock. */
  nowUs(): number;
  /** Queues an encoded frame after the output read so far. */
  send(frame: Buffer): void;
  /** Bytes for the shell (keys given back by the interceptor). */
  forward(data: Buffer): void;
  /** Writes to the terminal, ordered with the relay's output. */
  writeTerminal(data: Buffer): void;
  /** The daemon connection's fd (duplicated), or -1 for none: frames wait, bounded. */
  setOutlet(fd: number): void;
  /** Keys go straight to the shell again, once JavaScript has seen `seenInputEvents` diverted chunks. */
  resumeInput(seenInputEvents: number, lineEmpty: boolean): void;
  pauseRecording(): void;
  resumeRecording(): void;
  discardRecording(): void;
  /** Stops relaying terminal I/O (the shell has ended); queued frames still go out. */
  finish(): void;
  size(): { cols: number; rows: number };
  /** Gives the pty the terminal's current size and, if it changed, records a Resize (in order with the output); returns it. */
  resize(): { cols: number; rows: number };
  enterRaw(): void;
  restore(): void;
  promptState(): { phase: 'unknown' | 'prompt' | 'input' | 'running'; altScreen: boolean; lineEmpty: boolean; shellInForeground: boolean };
  /** True while the pty echoes input (off at password prompts: `read -s`, sudo, ssh): for input recording. */
  ptyEchoOn(): boolean;
  kill(signal: number): void;
  /** Bytes held for the daemon, frames handed over included. */
  queuedBytes(): number;
  /** inputBytes: every key read; inputRecordedBytes: those queued as input records; sentBytes: see NativeRecordBuffer.sentBytes. */
  stats(): { outputBytes: number; inputBytes: number; inputRecordedBytes: number; lostBytes: number; frames: number; queuedBytes: number; sentBytes: number };
  /** Stops the thread and closes the pty (SIGHUP for what still runs on it). */
  close(): void;
}

/** What the addon exports. */
export interface NativeAddon {
  MarkParser: new (nonce: string) => NativeMarkParser;
  /**
   * Saves the terminal's termios, spawns the shell in a new pty with them, enters raw mode and starts the loop.
   * @throws Error (one line) when the terminal or the pty cannot be set up or the shell cannot run
   */
  startRelay(options: NativeRelayOptions, onEvent: (event: NativeRelayEvent) => void): NativeRelay;
  /** The C encoders of frames.c, for the golden tests. */
  /** `dir`: IoDir (0 output, the default; 1 input). */
  encodeIoData(tUs: number, data: Buffer, dir?: 0 | 1): Buffer;
  encodeGap(tUs: number, lostBytes: number, reason: string): Buffer;
  encodeResize(tUs: number, cols: number, rows: number): Buffer;
}

/** Package root: dist/client/native/addon.js and src/client/native/addon.ts are three levels down. */
const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** The outcome of loading the addon; `path` is the binary loaded (build/Release/... or prebuilds/...). */
export interface NativeAddonLoad {
  addon?: NativeAddon;
  path?: string;
  error?: string;
}

let loaded: NativeAddonLoad | undefined;

/**
 * Loads the addon once.
 * @returns the addon and the file it came from, or the reason it cannot load (one line: no build
 *   for this platform, a broken binary, a glibc too old, ...). Never throws.
 */
export function loadNativeAddon(): NativeAddonLoad {
  if (loaded) return loaded;
  try {
    const require = createRequire(import.meta.url);
    // node-gyp-build's choice, resolved first so callers (status, doctor, tests) can say which binary.
    const nodeGypBuild = require('node-gyp-build') as { path(dir: string): string };
    const path = nodeGypBuild.path(PACKAGE_ROOT);
    loaded = { addon: require(path) as NativeAddon, path };
  } catch (err) {
    loaded = { error: ((err as Error).message ?? String(err)).split('\n')[0] };
  }
  return loaded;
}
