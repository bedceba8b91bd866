/**
 * A wrapped session: the shell started with integration in a new pty, the relay between it and the
 * terminal, the prompt tracker and `::` interception on top, and the recorder streaming a copy to
 * omnishd. Any failure before the shell is up ends in the plain shell (never a lockout). Once it is
 * up, nothing that rides on the relay may end the session or start another shell: a failure of the
 * recording or of the integration turns that off with one line, and the relay goes on.
 */
import { randomHex } from '../common/random.js';
import { basename } from 'node:path';
import type { SessionControl } from '../commands/io.js';
import type { OmnishConfig } from '../config/config.js';
import { handOverNonce, integrationFor, type Integration, type NonceHandoff } from '../shell/launch.js';
import { execShell, markShellStarted } from './exec.js';
import { Interceptor } from './intercept.js';
import { Notices } from './notices.js';
import { SESSION_ENV, type Invocation } from './invocation.js';
import { PromptTracker } from './prompt.js';
import { runPromptCommand } from './prompt-commands.js';
import { isUtf8Locale, spawnShellPty, type Pty } from './pty.js';
import type { Recorder } from './recorder.js';
import { DeferredSink, exitCodeOf, microsSince, runRelay, type RelayFault, type RelayIo } from './relay.js';
import {
  FAULT_LABEL,
  integrationLabel,
  reasonOf,
  relayLabel,
  startRecorder,
  wrappedArgs,
  type ExitControl,
  type RelayChoice,
} from './session-parts.js';
import { RECORDER_DRAIN_MS, RECORDER_STALL_MS } from './record-limits.js';
import { saveTermiosAndEnterRaw, type ProcessTerminal } from './terminal.js';

/** How long omnish waits at exit for terminal writes still queued in process.stdout (ms). */
const STDOUT_FLUSH_MS = 2000;

/**
 * Runs the shell under omnish on the JavaScript (node-pty) relay until it exits, then exits the
 * process with its status. The native relay's session is native-start.ts.
 * @param choice why the native relay is not used (shown by `omnish status`)
 * @param onReady called once the terminal is raw and the shell runs (installs the exit paths)
 */
export async function runWrapped(
  choice: RelayChoice & { kind: 'js' },
  shellPath: string,
  invocation: Invocation,
  config: OmnishConfig,
  onReady: (control: ExitControl) => void,
): Promise<void> {
  const relay = relayLabel(choice);
  const sessionId = randomHex(6);
  const nonce = randomHex(16);
  let terminal: ProcessTerminal | undefined;
  let pty: Pty;
  let integration: Integration;
  let nonceFile: NonceHandoff | undefined;
  try {
    terminal = saveTermiosAndEnterRaw();
    const { cols, rows } = terminal.size();
    integration = integrationFor(shellPath, wrappedArgs(invocation), process.env);
    // Never the nonce itself in the environment: programs can read the shell's /proc/PID/environ.
    nonceFile = integration.integration ? handOverNonce(nonce) : undefined;
    const env = { ...process.env, [SESSION_ENV]: sessionId, ...integration.env, ...nonceFile?.env } as Record<string, string>;
    pty = await spawnShellPty({
      shell: integration.file,
      args: integration.args,
      termios: terminal.saved,
      utf8: isUtf8Locale(process.env),
      cols,
      rows,
      cwd: process.cwd(),
      env,
    });
  } catch (err) {
    nonceFile?.remove();
    terminal?.restore();
    process.stderr.write(`omnish: ${(err as Error).message}; starting the plain shell\n`);
    execShell(shellPath, invocation.shellArgs, invocation.login);
    return;
  }
  markShellStarted();
  onReady({
    restore: () => terminal.restore(),
    enterRaw: () => terminal.enterRaw(),
    resize: () => {
      const { cols, rows } = terminal.size();
      pty.resize(cols, rows);
    },
    hangUp: () => pty.kill('SIGHUP'),
  });
  await relaySession({ sessionId, nonce, shellPath, config, terminal, pty, integration, relay });
}

/** The pieces of a wrapped session once its shell runs. */
interface RunningShell {
  sessionId: string;
  nonce: string;
  shellPath: string;
  config: OmnishConfig;
  terminal: ProcessTerminal;
  pty: Pty;
  integration: Integration;
  /** The relay's label for `omnish status`. */
  relay: string;
}

/** Relays until the shell has exited and its output has ended, then exits the process with its status. */
async function relaySession(s: RunningShell): Promise<void> {
  const { sessionId, nonce, shellPath, config, terminal, pty, integration, relay: relayName } = s;
  // `::` commands run in this process and find their session here (`omnish commands` defaults to it).
  process.env[SESSION_ENV] = sessionId;
  const sink = new DeferredSink();
  const control = { recorder: undefined as Recorder | undefined };
  const off = (what: RelayFault, err: unknown): void => {
    if (what === 'recording') {
      sink.discard();
      control.recorder?.close();
      control.recorder = undefined;
    }
    terminal.write(Buffer.from(`omnish: ${FAULT_LABEL[what]} off: ${reasonOf(err)}\r\n`));
  };
  const io: RelayIo = { pty, terminal, sinks: [sink], onFault: off };
  const sessionControl: SessionControl = {
    id: sessionId,
    integration: integrationLabel(integration),
    shellPid: pty.pid,
    get paused() {
      return control.recorder?.isPaused ?? false;
    },
    pause: () => control.recorder?.pause(microsSince(originMs)) ?? false,
    resume: () => control.recorder?.resume() ?? false,
  };
  const originMs = performance.now();
  io.originMs = originMs;
  let prompt: { tracker: PromptTracker; notices: Notices } | undefined;
  try {
    prompt = integration.integration ? attachPrompt(io, nonce, shellPath, config, sessionControl) : undefined;
  } catch (err) {
    io.inputFilter = io.outputFilter = undefined;
    off('integration', err);
  }
  const startedAtMs = Date.now();
  // The size at the start: a resize while the recorder loads reaches it as a Resize through the sink.
  const startSize = terminal.size();
  const relay = runRelay(io);
  try {
    const recorder = await startRecorder(config, prompt?.notices, (info) => {
      const base = { ...info(sessionId, shellPath, pty.pid, startSize), startedAtMs };
      // Input recording needs the native relay: only its thread reads the pty's echo state as each key arrives.
      const inputRecording = config.session.recordInput ? 'off (needs the native relay)' : 'off';
      const withIntegration = { ...base, integration: integrationLabel(integration), relay: relayName, inputRecording };
      return integration.integration ? { ...withIntegration, nonce } : withIntegration;
    });
    sink.attach(recorder);
    control.recorder = recorder;
  } catch (err) {
    // Loaded only now, after the shell is spawned: a missing dependency shows up here.
    off('recording', err);
  }
  const status = await relay;
  try {
    if (prompt) terminal.write(prompt.tracker.flush());
  } catch {
    // The integration failed on the way; what it held back is not worth the exit status.
  }
  terminal.restore();
  terminal.close();
  // Give the daemon a moment to take the rest of the session; never hold the user's exit long.
  await Promise.all([control.recorder?.drain(RECORDER_STALL_MS, RECORDER_DRAIN_MS).catch(() => false), stdoutFlushed(STDOUT_FLUSH_MS)]);
  process.exit(exitCodeOf(status));
}

/**
 * Resolves once process.stdout holds no queued bytes, or after `timeoutMs`. Terminal writes are
 * synchronous, unless fd 1 turned out non-blocking (then the stream queues them) and exiting would
 * drop the tail of the output.
 */
function stdoutFlushed(timeoutMs: number): Promise<void> {
  if (process.stdout.writableLength === 0) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    process.stdout.once('drain', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** Adds prompt tracking and `::` interception to the relay. */
function attachPrompt(
  io: RelayIo,
  nonce: string,
  shellPath: string,
  config: OmnishConfig,
  session: SessionControl,
): { tracker: PromptTracker; notices: Notices } {
  const { pty, terminal } = io;
  const tracker = new PromptTracker(nonce, config.shell.stripMarks);
  const shellName = basename(shellPath);
  const interceptor = new Interceptor(
    {
      // The foreground check guards against a program that left marks half-done (and costs a
      // syscall only when the user types the prefix's first character at an empty prompt).
      atPrompt: () => tracker.phase === 'input' && !tracker.altScreen && isShell(pty.foreground(), shellName),
      show: (bytes) => terminal.write(typeof bytes === 'string' ? Buffer.from(bytes) : bytes),
      redrawPrompt: () => terminal.write(tracker.redrawBytes()),
      run: (line, keys) => runPromptCommand(line, (b) => terminal.write(typeof b === 'string' ? Buffer.from(b) : b), keys, session),
      forward: (bytes) => pty.write(bytes),
    },
    config.shell.commandPrefix,
  );
  const notices = new Notices({
    idle: () => interceptor.idleAtEmptyPrompt(),
    show: (text) => terminal.write(Buffer.from(text)),
    redrawPrompt: () => terminal.write(tracker.redrawBytes()),
  });
  tracker.onPromptReady(() => {
    interceptor.promptReady();
    // After the shell's own prompt is out: the notice then lands above it.
    setImmediate(() => notices.flush());
  });
  io.outputFilter = (data) => tracker.output(data);
  io.inputFilter = (data) => interceptor.filter(data);
  return { tracker, notices };
}

/** True when the foreground process name is the shell (or unknown, which must not block `::`). */
function isShell(foreground: string, shellName: string): boolean {
  return foreground === '' || basename(foreground).replace(/^-/, '') === shellName;
}
