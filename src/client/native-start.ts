/**
 * The start of a wrapped session on the native relay: as little as the shell needs before it can
 * start (the integration's files, the nonce, the addon's spawn), so that the first prompt is not
 * held up by loading the interceptor, the recorder or MessagePack. The C thread relays from its
 * first byte; native-session.ts, loaded while the shell starts, takes over its events (held until
 * then by an EventRouter) and everything that is not per byte.
 */
import { randomHex } from '../common/random.js';
import type { OmnishConfig } from '../config/config.js';
import { INPUT_HIDDEN_REASON } from '../protocol/messages.js';
import { handOverNonce, integrationFor, type Integration, type NonceHandoff } from '../shell/launch.js';
import { execShell, markShellStarted } from './exec.js';
import { SESSION_ENV, type Invocation } from './invocation.js';
import type { NativeAddon, NativeRelay, NativeRelayEvent } from './native/addon.js';
import { isUtf8Locale } from './pty.js';
import { BATCH_BYTES, BATCH_MS, CAP_BYTES, CAP_REASON, PAUSE_REASON } from './record-limits.js';
import { wrappedArgs, type ExitControl } from './session-parts.js';

/** Delivers the relay's events to whoever listens; holds them until the session is wired up. */
export class EventRouter {
  private handler: ((ev: NativeRelayEvent) => void) | undefined;
  private held: NativeRelayEvent[] = [];

  dispatch = (ev: NativeRelayEvent): void => {
    if (this.handler) this.handler(ev);
    else this.held.push(ev);
  };

  listen(handler: (ev: NativeRelayEvent) => void): void {
    this.handler = handler;
    for (const ev of this.held.splice(0)) handler(ev);
  }
}

/**
 * Runs the shell under the native relay until it exits, then exits the process with its status.
 * @param onReady called once the terminal is raw and the shell runs (installs the exit paths)
 */
export async function runNativeWrapped(
  addon: NativeAddon,
  shellPath: string,
  invocation: Invocation,
  config: OmnishConfig,
  onReady: (control: ExitControl) => void,
): Promise<void> {
  const sessionId = randomHex(6);
  const nonce = randomHex(16);
  const events = new EventRouter();
  let relay: NativeRelay;
  let integration: Integration;
  let nonceFile: NonceHandoff | undefined;
  try {
    integration = integrationFor(shellPath, wrappedArgs(invocation), process.env);
    // Never the nonce itself in the environment: programs can read the shell's /proc/PID/environ.
    nonceFile = integration.integration ? handOverNonce(nonce) : undefined;
    const env = { ...process.env, [SESSION_ENV]: sessionId, ...integration.env, ...nonceFile?.env };
    relay = addon.startRelay(
      {
        file: integration.file,
        argv: [integration.file, ...integration.args],
        env: Object.entries(env).flatMap(([k, v]) => (v === undefined ? [] : [`${k}=${v}`])),
        cwd: process.cwd(),
        utf8: isUtf8Locale(process.env),
        nonce: integration.integration ? nonce : undefined,
        stripMarks: config.shell.stripMarks,
        commandPrefix: config.shell.commandPrefix,
        record: true,
        capBytes: CAP_BYTES,
        batchBytes: BATCH_BYTES,
        batchMs: BATCH_MS,
        capReason: CAP_REASON,
        pauseReason: PAUSE_REASON,
        recordInput: config.session.recordInput,
        hiddenReason: INPUT_HIDDEN_REASON,
      },
      events.dispatch,
    );
  } catch (err) {
    nonceFile?.remove();
    process.stderr.write(`omnish: ${(err as Error).message}; starting the plain shell\n`);
    execShell(shellPath, invocation.shellArgs, invocation.login);
    return;
  }
  markShellStarted();
  onReady({
    restore: () => relay.restore(),
    enterRaw: () => relay.enterRaw(),
    resize: () => void relay.resize(),
    hangUp: () => relay.kill(1),
  });
  const { relaySession } = await import('./native-session.js');
  await relaySession({ sessionId, nonce, shellPath, config, relay, integration, events });
}

