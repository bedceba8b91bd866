/**
 * Running the real shell in place of omnish, for every use omnish must not wrap (`-c`, scripts,
 * stdin not a terminal, nested) and as the safety net when anything fails before the wrapped shell
 * is up. Node 20 has no execve(2), so the shell runs as our child with the terminal and stdio
 * inherited; we mirror its exit status (or re-raise its fatal signal) and print nothing of our own.
 */
import { spawn } from 'node:child_process';
import { basename } from 'node:path';

/** Signals a shell's parent ignores while the child runs, as system(3) does; the tty delivers them to the child. */
const IGNORED_WHILE_WAITING = ['SIGINT', 'SIGQUIT'] as const;
/** Signals we pass on to the child (a service manager or a closing terminal telling us to stop). */
const FORWARDED = ['SIGTERM', 'SIGHUP', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'] as const;

/**
 * Runs `shell args...` with argv[0] `-name` for a login shell, inherits stdio, and exits this
 * process with the shell's status. Never returns.
 */
export function execShell(shell: string, args: string[], login: boolean, env: NodeJS.ProcessEnv = process.env): void {
  const argv0 = login ? `-${basename(shell)}` : shell;
  for (const sig of IGNORED_WHILE_WAITING) process.on(sig, () => {});
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
