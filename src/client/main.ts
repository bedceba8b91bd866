/**
 * omnish's entry point as a shell. Decides between wrapping the real shell under the relay and
 * running it directly, and makes sure that any failure before the wrapped shell is up still ends in
 * the real shell: a user whose login shell is omnish must never be locked out.
 */
import { readFileSync } from 'node:fs';
import { isatty } from 'node:tty';
import { isUserFacing } from '../common/errors.js';
import { loadConfig, type OmnishConfig } from '../config/config.js';
import { execShell } from './exec.js';
import { classifyInvocation, isLoginProgram } from './invocation.js';
import { resolveShell } from '../shell/resolve.js';
import { chooseRelay, type ExitControl } from './session-parts.js';

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
    // isatty, not process.stdin/stdout: those streams would take fd 0 into libuv, and the native relay reads it itself.
    stdinIsTty: isatty(0),
    stdoutIsTty: isatty(1),
    env: process.env,
    parentIsLoginProgram: isLoginProgram(parentComm()),
  });
  const config = configOrDefaults(invocation.mode === 'wrap');
  const shell = resolveShell(config?.shell.command, launch.selfPaths);
  if (invocation.mode === 'direct' || !config) {
    execShell(shell.path, invocation.shellArgs, invocation.login);
    return;
  }
  // Each relay's session is loaded on its own: the native one starts the shell before loading the rest.
  const choice = await chooseRelay(process.env, (line) => process.stderr.write(line));
  if (choice.kind === 'native') {
    const { runNativeWrapped } = await import('./native-start.js');
    return runNativeWrapped(choice.addon, shell.path, invocation, config, installExitPaths);
  }
  const { runWrapped } = await import('./session.js');
  await runWrapped(choice, shell.path, invocation, config, installExitPaths);
}

/**
 * The terminal is restored on every way out: normal exit, signals, uncaught errors; and raw mode
 * comes back after omnish itself is stopped and continued (SIGTSTP/SIGCONT).
 */
function installExitPaths(terminal: ExitControl): void {
  process.on('exit', () => terminal.restore());
  const hangUp = (code: number) => () => {
    terminal.restore();
    terminal.hangUp();
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
    terminal.resize();
  });
  process.on('uncaughtException', (err) => {
    terminal.restore();
    terminal.hangUp();
    process.stderr.write(`omnish: internal error (a bug): ${err.stack ?? err}\n`);
    process.exit(70);
  });
}
