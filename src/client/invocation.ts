/**
 * How omnish was invoked. omnish stands in for the user's shell, so its argv is a shell's argv:
 * it must recognise login shells and non-interactive uses (`-c CMD`, a script operand, stdin not a
 * terminal) and hand those straight to the real shell. The environment marker `OMNISH_SESSION`
 * says we already run inside omnish, so a nested omnish never wraps again.
 */

/** Environment variable set inside every wrapped shell; its value is the session id. */
export const SESSION_ENV = 'OMNISH_SESSION';

/** What to do with this invocation. */
export interface Invocation {
  /** 'wrap': run the shell under the relay; 'direct': exec the real shell with `shellArgs`. */
  mode: 'wrap' | 'direct';
  /** Why direct (for logs and tests): 'command', 'script', 'not-a-tty', 'nested'. */
  reason?: string;
  /** True for a login shell: argv[0] starts with '-', or `-l` / `--login` was given. */
  login: boolean;
  /** Arguments for the real shell, as given (login flags included). */
  shellArgs: string[];
}

/** The facts about the process that decide the invocation. */
export interface InvocationInput {
  /** argv[0] as the kernel passed it (`process.argv0`). */
  argv0: string;
  /** Arguments after the program name. */
  args: string[];
  /** Whether stdin and stdout are terminals. */
  stdinIsTty: boolean;
  stdoutIsTty: boolean;
  env: Record<string, string | undefined>;
  /**
   * True when the parent is login(1) or sshd. Those always start a login shell with argv[0] '-name',
   * but the kernel drops argv[0] when it runs a `#!` script such as bin/omnish.js, so the parent is
   * the only evidence left.
   */
  parentIsLoginProgram: boolean;
}

/** Programs that always start the user's shell as a login shell. */
const LOGIN_PROGRAMS = new Set(['login', 'sshd', 'sshd-session']);

/** Whether the process name (as in /proc/PID/comm) is one of LOGIN_PROGRAMS. */
export function isLoginProgram(comm: string): boolean {
  return LOGIN_PROGRAMS.has(comm.trim());
}

/** True when a short-option cluster such as `-lc` contains the letter. */
function clusterHas(arg: string, letter: string): boolean {
  return /^-[a-zA-Z]+$/.test(arg) && arg.includes(letter);
}

/**
 * Classifies a shell-style invocation. Only options before the first operand count, as for sh(1):
 * `omnish -c 'cmd'` and `omnish script.sh` run directly; `omnish -l` and `omnish` wrap.
 */
export function classifyInvocation(input: InvocationInput): Invocation {
  const { args } = input;
  let login = input.argv0.startsWith('-') || input.parentIsLoginProgram;
  let command = false;
  let operand = false;
  for (const arg of args) {
    if (arg === '--') {
      operand = args.indexOf(arg) < args.length - 1;
      break;
    }
    if (arg === '--login' || clusterHas(arg, 'l')) login = true;
    if (clusterHas(arg, 'c')) command = true;
    if (!arg.startsWith('-') && !arg.startsWith('+')) {
      operand = true;
      break;
    }
  }
  const base = { login, shellArgs: args };
  if (command) return { ...base, mode: 'direct', reason: 'command' };
  if (input.env[SESSION_ENV]) return { ...base, mode: 'direct', reason: 'nested' };
  if (!input.stdinIsTty || !input.stdoutIsTty) return { ...base, mode: 'direct', reason: 'not-a-tty' };
  if (operand) return { ...base, mode: 'direct', reason: 'script' };
  return { ...base, mode: 'wrap' };
}
