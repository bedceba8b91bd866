/**
 * Running the real shell in place of omnish, for every use omnish must not wrap (`-c`, scripts,
 * stdin not a terminal, nested) and as the safety net when anything fails before the wrapped shell
 * is up. Where Node has execve(2) (`process.execve`, Node >= 22.15) the shell replaces this process.
 * Node 20 has none, so there the shell runs as our child with the terminal and stdio inherited; we
 * mirror its exit status (or re-raise its fatal signal) and print nothing of our own.
 *
 * bin/omnish.js has a plain-JS copy of this for when the built code cannot load; keep them alike.
 */
import { createRequire } from 'node:module';
import { basename } from 'node:path';

/** Signals a shell's parent ignores while the child runs, as system(3) does; the tty delivers them to the child. */
const IGNORED_WHILE_WAITING = ['SIGINT', 'SIGQUIT'] as const;
/** Signals we pass on to the child (a service manager or a closing terminal telling us to stop). */
const FORWARDED = ['SIGTERM', 'SIGHUP', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'] as const;
/**
 * Signals Node ignores. An ignored signal stays ignored across execve(2), and a shell cannot undo
 * that (`yes | head` would then see EPIPE instead of dying); a caught one is reset to the default.
 */
const NODE_IGNORES = ['SIGPIPE', 'SIGXFSZ'] as const;

/**
 * Set on globalThis once omnish has started a shell, wrapped or not. bin/omnish.js reads it: a
 * failure after that point must never start a second shell on the same terminal.
 */
export const SHELL_STARTED = Symbol.for('omnish.shellStarted');

/** Records that a shell runs on the user's terminal now (see SHELL_STARTED). */
export function markShellStarted(): void {
  (globalThis as Record<symbol, unknown>)[SHELL_STARTED] = true;
}

type Execve = (file: string, args: string[], env: NodeJS.ProcessEnv) => never;

/**
 * Runs `shell args...` with argv[0] `-name` for a login shell, inherits stdio, and exits this
 * process with the shell's status. Never returns.
 */
export function execShell(shell: string, args: string[], login: boolean, env: NodeJS.ProcessEnv = process.env): void {
  const argv0 = login ? `-${basename(shell)}` : shell;
  markShellStarted();
  const execve = (process as unknown as { execve?: Execve }).execve;
  if (typeof execve === 'function') {
    for (const sig of NODE_IGNORES) process.on(sig, () => {});
    try {
      execve.call(process, shell, [argv0, ...args], env);
    } catch {
      // execve(2) failed (ENOENT, ENOEXEC...): spawn reports the error below in the usual words.
    }
  }
  for (const sig of IGNORED_WHILE_WAITING) process.on(sig, () => {});
  // Loaded here, not at the top: a wrapped session's start (which imports this module) never needs it.
  const { spawn } = createRequire(import.meta.url)('node:child_process') as typeof import('node:child_process');
  const child = spawn(shell, args, { stdio: 'inherit', argv0, env });
  for (const sig of FORWARDED) process.on(sig, () => child.kill(sig));
  child.on('error', (err) => {
    process.stderr.write(`omnish: cannot run ${shell}: ${err.message}\n`);
    process.exit(127);
  });
  child.on('exit', (code, signal) => {
    if (signal) {
      for (const sig of [...IGNORED_WHILE_WAITING, ...FORWARDED]) process.removeAllListeners(sig);
      process.kill(process.pid, signal);
      return;
    }
    process.exit(code ?? 1);
  });
}
