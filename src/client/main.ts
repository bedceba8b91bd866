/**
 * omnish's entry point as a shell. Decides between wrapping the real shell under the relay and
 * running it directly, and makes sure that any failure before the wrapped shell is up still ends in
 * the real shell: a user whose login shell is omnish must never be locked out.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isUserFacing } from '../common/errors.js';
import { runtimeDir, socketPath } from '../common/paths.js';
import { spawnDaemon } from '../transport/autostart.js';
import { readToken, TOKEN_FILE, UnixTransport } from '../transport/index.js';
import { loadConfig, type OmnishConfig } from '../config/config.js';
import { execShell } from './exec.js';
import { classifyInvocation, isLoginProgram, SESSION_ENV, type Invocation } from './invocation.js';
import { isUtf8Locale, spawnShellPty, type Pty } from './pty.js';
import { Recorder, sessionInfo } from './recorder.js';
import { exitCodeOf, runRelay } from './relay.js';
import { resolveShell } from './shell.js';
import { ProcessTerminal, saveTermios } from './terminal.js';

/** What the launcher knows about how it was started. */
export interface LaunchInfo {
  /** argv[0] as passed by the kernel. */
  argv0: string;
  /** Arguments after the program name. */
  args: string[];
  /** Real paths of the launcher, so that `$SHELL=omnish` is recognised and not wrapped. */
  selfPaths: string[];
}

function parentComm(): string {
  try {
    return readFileSync(`/proc/${process.ppid}/comm`, 'utf8');
  } catch {
    return '';
  }
}

/** Loads the config; on failure reports one line (in wrap mode only) and goes on with defaults. */
function configOrDefaults(report: boolean): OmnishConfig | undefined {
  try {
    return loadConfig();
  } catch (err) {
    if (report) process.stderr.write(`omnish: ${isUserFacing(err) ? err.message : String(err)}; starting the plain shell\n`);
    return undefined;
  }
}

/** Runs omnish as a shell. Resolves only by exiting the process. */
export async function runAsShell(launch: LaunchInfo): Promise<void> {
  const invocation = classifyInvocation({
    argv0: launch.argv0,
    args: launch.args,
    stdinIsTty: process.stdin.isTTY === true,
    stdoutIsTty: process.stdout.isTTY === true,
    env: process.env,
    parentIsLoginProgram: isLoginProgram(parentComm()),
  });
  const config = configOrDefaults(invocation.mode === 'wrap');
  const shell = resolveShell(config?.shell.command, launch.selfPaths);
  if (invocation.mode === 'direct' || !config) {
    execShell(shell.path, invocation.shellArgs, invocation.login);
    return;
  }
  await wrap(shell.path, invocation, config);
}

/** Arguments for the wrapped shell: node-pty cannot set argv[0], so a login shell gets `-l`. */
function wrappedArgs(invocation: Invocation): string[] {
  const args = invocation.shellArgs;
  const hasLoginFlag = args.some((a) => a === '--login' || /^-[a-zA-Z]*l[a-zA-Z]*$/.test(a));
  return invocation.login && !hasLoginFlag ? ['-l', ...args] : args;
}

async function wrap(shellPath: string, invocation: Invocation, config: OmnishConfig): Promise<void> {
  let terminal: ProcessTerminal | undefined;
  let pty: Pty;
  const sessionId = randomBytes(6).toString('hex');
  try {
    terminal = new ProcessTerminal(saveTermios());
    const { cols, rows } = terminal.size();
    const env = { ...process.env, [SESSION_ENV]: sessionId } as Record<string, string>;
    pty = await spawnShellPty({
      shell: shellPath,
      args: wrappedArgs(invocation),
      termios: terminal.saved,
      utf8: isUtf8Locale(process.env),
      cols,
      rows,
      cwd: process.cwd(),
      env,
    });
    terminal.enterRaw();
  } catch (err) {
    terminal?.restore();
    process.stderr.write(`omnish: ${(err as Error).message}; starting the plain shell\n`);
    execShell(shellPath, invocation.shellArgs, invocation.login);
    return;
  }
  installExitPaths(terminal, pty);
  const recorder = startRecorder(sessionId, shellPath, pty.pid, terminal.size(), config.daemon.autostart);
  const status = await runRelay({ pty, terminal, sinks: [recorder] });
  terminal.restore();
  terminal.close();
  // Give the daemon a moment to take the rest of the session; never hold the user's exit long.
  await recorder.drain(RECORDER_DRAIN_MS);
  process.exit(exitCodeOf(status));
}

/** How long omnish waits at exit for the daemon to take the end of the session (ms). */
const RECORDER_DRAIN_MS = 1000;

/** The copy of the session for omnishd; the daemon is started on demand. */
function startRecorder(sessionId: string, shell: string, shellPid: number, size: { cols: number; rows: number }, autostart: boolean): Recorder {
  const tokenPath = join(runtimeDir(), TOKEN_FILE);
  return new Recorder(new UnixTransport(socketPath(), { connectTimeoutMs: 1000 }), sessionInfo(sessionId, shell, shellPid, size), {
    token: () => readToken(tokenPath),
    startDaemon: autostart ? () => spawnDaemon() : undefined,
  });
}

/**
 * The terminal is restored on every way out: normal exit, signals, uncaught errors; and raw mode
 * comes back after omnish itself is stopped and continued (SIGTSTP/SIGCONT).
 */
function installExitPaths(terminal: ProcessTerminal, pty: Pty): void {
  process.on('exit', () => terminal.restore());
  const hangUp = (code: number) => () => {
    terminal.restore();
    pty.kill('SIGHUP');
    // The shell normally exits on SIGHUP and the relay exits with it; do not hang if it does not.
    setTimeout(() => process.exit(code), 2000).unref();
  };
  process.on('SIGHUP', hangUp(129));
  process.on('SIGTERM', hangUp(143));
  process.on('SIGTSTP', () => {
    terminal.restore();
    process.kill(process.pid, 'SIGSTOP');
  });
  process.on('SIGCONT', () => {
    terminal.enterRaw();
    const { cols, rows } = terminal.size();
    pty.resize(cols, rows);
  });
  process.on('uncaughtException', (err) => {
    terminal.restore();
    pty.kill('SIGHUP');
    process.stderr.write(`omnish: internal error (a bug): ${err.stack ?? err}\n`);
    process.exit(70);
  });
}
