/**
 * A wrapped session on the native relay, once its shell runs (native-start.ts starts it) (src/client/native/): C owns the hot path (every output
 * chunk and keystroke, the copy for omnishd, prompt tracking from the marks); JavaScript gets a
 * handful of events per command and runs what it always ran: `::` commands, notices, the
 * recorder's connection (handshake, SessionStart, reconnect, autostart). Same guarantees as
 * session.ts: any failure before the shell is up ends in the plain shell; after that, a failure of
 * the recording or the integration turns that off with one line and the relay goes on.
 */
import type { SessionControl } from '../commands/io.js';
import type { OmnishConfig } from '../config/config.js';
import type { Integration } from '../shell/launch.js';
import { MarkParser } from '../shell/marks.js';
import { Interceptor } from './intercept.js';
import { SESSION_ENV } from './invocation.js';
import type { NativeRelay } from './native/addon.js';
import type { EventRouter } from './native-start.js';
import { Notices } from './notices.js';
import { runPromptCommand } from './prompt-commands.js';
import type { ExitStatus } from './pty.js';
import type { Recorder } from './recorder.js';
import { DeferredSink, exitCodeOf, shellEnd, type RelayFault } from './relay.js';
import { RECORDER_DRAIN_MS, RECORDER_STALL_MS } from './record-limits.js';
import { FAULT_LABEL, integrationLabel, reasonOf, startRecorder } from './session-parts.js';


/** A session whose shell runs under the native relay (native-start.ts). */
export interface RunningShell {
  sessionId: string;
  nonce: string;
  shellPath: string;
  config: OmnishConfig;
  relay: NativeRelay;
  integration: Integration;
  events: EventRouter;
}

/** The JavaScript side of prompt interception and notices on the native relay. */
interface PromptSide {
  onPromptReady(prompt: Buffer): void;
  onInput(data: Buffer): void;
  notices: Notices;
}

/** Relays the session until the shell exits, then exits the process with its status. */
export async function relaySession(s: RunningShell): Promise<void> {
  const { sessionId, nonce, shellPath, config, relay, integration, events } = s;
  process.env[SESSION_ENV] = sessionId;
  const write = (b: Buffer | string): void => relay.writeTerminal(typeof b === 'string' ? Buffer.from(b) : b);
  const sink = new DeferredSink();
  const control = { recorder: undefined as Recorder | undefined };
  const faulted = new Set<RelayFault>();
  let prompt: PromptSide | undefined;
  const off = (what: RelayFault, err: unknown): void => {
    if (faulted.has(what)) return;
    faulted.add(what);
    if (what === 'recording') {
      relay.discardRecording();
      sink.discard();
      control.recorder?.close();
      control.recorder = undefined;
    } else prompt = undefined;
    write(`omnish: ${FAULT_LABEL[what]} off: ${reasonOf(err)}\r\n`);
  };
  const sessionControl: SessionControl = {
    id: sessionId,
    integration: integrationLabel(integration),
    get shellPid() {
      return relay.pid;
    },
    get paused() {
      return control.recorder?.isPaused ?? false;
    },
    pause: () => control.recorder?.pause(relay.nowUs()) ?? false,
    resume: () => control.recorder?.resume() ?? false,
  };
  try {
    prompt = integration.integration ? attachPrompt(relay, nonce, config, sessionControl, write) : undefined;
  } catch (err) {
    off('integration', err);
  }
  const startedAtMs = Date.now();
  const startSize = relay.size();
  // The thread records the Resize itself, in order with the output (it may have seen the new size first).
  process.on('SIGWINCH', () => void relay.resize());
  const ended = waitForEnd(relay, events, {
    prompt: () => prompt,
    fault: off,
  });
  try {
    const { NativeRecordBuffer } = await import('./native-record.js');
    const recorder = await startRecorder(
      config,
      prompt?.notices,
      (info) => {
        const base = { ...info(sessionId, shellPath, relay.pid, startSize), startedAtMs };
        const withIntegration = {
          ...base,
          integration: integrationLabel(integration),
          relay: 'native',
          inputRecording: config.session.recordInput ? 'on' : 'off',
        };
        return integration.integration ? { ...withIntegration, nonce } : withIntegration;
      },
      () => new NativeRecordBuffer(relay),
    );
    sink.attach(recorder);
    control.recorder = recorder;
  } catch (err) {
    off('recording', err);
  }
  const status = await ended;
  relay.finish();
  sink.end(status, relay.nowUs());
  relay.restore();
  await control.recorder?.drain(RECORDER_STALL_MS, RECORDER_DRAIN_MS).catch(() => false);
  relay.close();
  process.exit(exitCodeOf(status));
}

/**
 * Resolves once the shell has exited and its output has ended; each waits at most END_WAIT_MS
 * for the other (as runRelay does). Output that ends while the shell runs on is a hang-up.
 */
function waitForEnd(
  relay: NativeRelay,
  events: EventRouter,
  side: { prompt: () => PromptSide | undefined; fault: (what: RelayFault, err: unknown) => void },
): Promise<ExitStatus> {
  return new Promise((resolve) => {
    const end = shellEnd(() => relay.kill(1), resolve);
    events.listen((ev) => {
      try {
        switch (ev.type) {
          case 'mark':
            if (ev.kind === 'B') side.prompt()?.onPromptReady(ev.prompt ?? Buffer.alloc(0));
            return;
          case 'input': {
            const p = side.prompt();
            if (p) p.onInput(ev.data);
            else relay.forward(ev.data);
            return;
          }
          case 'fault':
            side.fault('recording', new Error(ev.message));
            return;
          case 'exit':
            end.exited(ev.signal ? { exitCode: ev.exitCode, signal: ev.signal } : { exitCode: ev.exitCode });
            return;
          case 'outputEnd':
            end.outputEnded();
            return;
          default:
            return; // outletClosed: the socket's own close starts the reconnect; terminalGone: SIGHUP follows
        }
      } catch (err) {
        side.fault('integration', err);
        if (ev.type === 'input') relay.forward(ev.data);
      }
    });
  });
}

/** `::` interception and notices on top of the C thread's prompt tracking. */
function attachPrompt(
  relay: NativeRelay,
  nonce: string,
  config: OmnishConfig,
  session: SessionControl,
  write: (b: Buffer | string) => void,
): PromptSide {
  let lastPrompt: Buffer = Buffer.alloc(0);
  const redraw = (): void =>
    write(config.shell.stripMarks ? new MarkParser(nonce).pushAndStrip(lastPrompt).output : lastPrompt);
  const atPrompt = (): boolean => {
    const st = relay.promptState();
    return st.phase === 'input' && !st.altScreen && st.shellInForeground;
  };
  let seen = 0;
  const interceptor = new Interceptor(
    {
      atPrompt,
      show: write,
      redrawPrompt: redraw,
      run: (line, keys) => runPromptCommand(line, write, keys, session),
      forward: (bytes) => relay.forward(bytes),
      settled: () => handBack(),
    },
    config.shell.commandPrefix,
  );
  // Keys go straight to the shell again once the interceptor passes them and has seen every diverted chunk.
  const handBack = (): void => {
    if (interceptor.passing) relay.resumeInput(seen, interceptor.lineIsEmpty);
  };
  const notices = new Notices({
    idle: () => interceptor.passing && atPrompt() && relay.promptState().lineEmpty,
    show: (text) => write(text),
    redrawPrompt: redraw,
  });
  return {
    notices,
    onPromptReady: (bytes) => {
      lastPrompt = bytes;
      interceptor.promptReady();
      setImmediate(() => notices.flush());
    },
    onInput: (data) => {
      seen++;
      const forward = interceptor.filter(data);
      if (forward && forward.length > 0) relay.forward(forward);
      handBack();
    },
  };
}
