/**
 * What both relays' sessions share (session.ts on node-pty, native-session.ts on the native
 * addon): the shell's arguments, the labels `omnish status` shows, the one-line fault report and
 * the recorder, loaded only after the shell is spawned.
 */
import { join } from 'node:path';
import { runtimeDir, socketPath } from '../common/paths.js';
import type { OmnishConfig } from '../config/config.js';
import type { Integration } from '../shell/launch.js';
import type { Invocation } from './invocation.js';
import type { Notices } from './notices.js';
import type { Recorder, RecordBuffer, SessionInfo } from './recorder.js';
import type { RelayFault } from './relay.js';

/** What the user reads when a part of omnish turns itself off. */
export const FAULT_LABEL: Record<RelayFault, string> = { recording: 'recording', integration: 'shell integration' };

/** First line of an error's message, for a one-line report. */
export function reasonOf(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n')[0] ?? text;
}

/** Arguments for the wrapped shell: a login shell gets `-l` (node-pty cannot set argv[0]; the native relay keeps it alike). */
export function wrappedArgs(invocation: Invocation): string[] {
  const args = invocation.shellArgs;
  const hasLoginFlag = args.some((a) => a === '--login' || /^-[a-zA-Z]*l[a-zA-Z]*$/.test(a));
  return invocation.login && !hasLoginFlag ? ['-l', ...args] : args;
}

/** The integration state as `omnish status` reports it: the shell's name, or `off: reason`. */
export function integrationLabel(integration: Integration): string {
  return integration.integration ?? `off: ${integration.off}`;
}

/**
 * Starts the copy of the session for omnishd. Loaded only now, after the shell is spawned, so the
 * shell's start-up does not wait for the protocol and transport code (and MessagePack) to load.
 * @param buffer the native relay's buffer; default: the recorder's own queue, fed by output()
 */
export async function startRecorder(
  config: OmnishConfig,
  notices: Notices | undefined,
  describe: (info: typeof import('./recorder.js').sessionInfo) => SessionInfo,
  buffer?: (onQueued: () => void) => RecordBuffer,
): Promise<Recorder> {
  const [{ Recorder, sessionInfo }, { readToken, TOKEN_FILE, UnixTransport }, { spawnDaemon }] = await Promise.all([
    import('./recorder.js'),
    import('../transport/index.js'),
    import('../control/autostart.js'),
  ]);
  return new Recorder(new UnixTransport(socketPath(), { connectTimeoutMs: 1000 }), describe(sessionInfo), {
    token: () => readToken(join(runtimeDir(), TOKEN_FILE)),
    startDaemon: config.daemon.autostart ? () => spawnDaemon() : undefined,
    buffer,
    onEvent: (ev) => {
      if (ev.kind === 'explanation' && notices) notices.add(ev.data.command, ev.data.text, ev.data.suggestion);
    },
  });
}

/** What the process's exit paths (main.ts) do to the terminal and the shell, whichever relay runs. */
export interface ExitControl {
  /** Restores the terminal's saved settings (idempotent; never throws). */
  restore(): void;
  /** Raw mode again (after SIGCONT). */
  enterRaw(): void;
  /** Gives the pty the terminal's current size. */
  resize(): void;
  /** SIGHUP for the shell, as from a closing terminal. */
  hangUp(): void;
}

/** Which relay runs a session: the native addon, or node-pty with the reason. */
export type RelayChoice = { kind: 'native'; addon: import('./native/addon.js').NativeAddon } | { kind: 'js'; why: string };

/**
 * `OMNISH_RELAY=js` forces the node-pty relay; otherwise the native one where its addon loads.
 * `OMNISH_RELAY=native` that cannot load says so in one line (and the session goes on with node-pty).
 */
export async function chooseRelay(env: Record<string, string | undefined>, report: (line: string) => void): Promise<RelayChoice> {
  const wanted = env.OMNISH_RELAY;
  if (wanted === 'js') return { kind: 'js', why: 'OMNISH_RELAY=js' };
  const { loadNativeAddon } = await import('./native/addon.js');
  const { addon, error } = loadNativeAddon();
  if (addon && typeof addon.startRelay === 'function') return { kind: 'native', addon };
  const why = error ?? 'the native addon has no relay';
  if (wanted === 'native') report(`omnish: native relay unavailable (${why}); using the JavaScript relay\r\n`);
  return { kind: 'js', why };
}

/** The relay as `omnish status` shows it: `native`, or `js (why)`. */
export function relayLabel(choice: RelayChoice): string {
  return choice.kind === 'native' ? 'native' : `js (${choice.why})`;
}
