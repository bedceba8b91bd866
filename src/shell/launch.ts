/**
 * How each shell is started with omnish's integration, without editing any rc file.
 *
 * - bash: `bash --posix [user's flags] -i` with `ENV=src/shell/bash/init.bash`. In posix mode an
 *   interactive bash reads only `$ENV`, even as a login shell; init.bash leaves posix mode, reads
 *   the user's startup files as bash would have, then loads omnish.bash.
 * - zsh: `ZDOTDIR=src/shell/zsh`, whose `.zshenv` restores ZDOTDIR, reads the user's `.zshenv` and
 *   loads omnish.zsh, which installs its hooks at the first prompt, after `.zshrc`.
 * - fish: `fish --init-command 'source .../omnish.fish'`, which fish runs after its config files.
 *
 * The session's nonce goes separately, through a file only the shell reads (nonce-file.ts).
 *
 * The scripts live in `src/shell/` (shipped with the package). From `src/shell/launch.ts` (tests)
 * and from `dist/shell/launch.js` (built) alike, `../../src/shell/` is that directory.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The shells omnish integrates with. */
export type IntegratedShell = 'bash' | 'zsh' | 'fish';

/** An environment as process.env has it. */
export type Env = Record<string, string | undefined>;

/** The shell, started with integration. */
export interface IntegrationOn {
  integration: IntegratedShell;
  /** Program to run (the shell path as given). */
  file: string;
  /** Its arguments, without argv[0]. */
  args: string[];
  /** Variables to set on top of the environment the shell would get anyway. */
  env: Record<string, string>;
}

/** The shell, started as it is: integration is off, and `off` says why (for logs and `omnish status`). */
export interface IntegrationOff {
  integration: null;
  off: string;
  file: string;
  args: string[];
  /** Always empty: nothing is added. */
  env: Record<string, string>;
}

export type Integration = IntegrationOn | IntegrationOff;

export { handOverNonce, NONCE_FILE_ENV, type NonceHandoff } from './nonce-file.js';

/** Directory of the integration scripts. */
export const SHELL_DIR = fileURLToPath(new URL('../../src/shell/', import.meta.url));

/** Path of the integration script for `shell` (`src/shell/omnish.bash` etc.). */
export function scriptPath(shell: IntegratedShell): string {
  return `${SHELL_DIR}omnish.${shell}`;
}

/** Text of the integration script, for `omnish init bash|zsh|fish` (shells omnish did not start). */
export function initScript(shell: IntegratedShell): string {
  return readFileSync(scriptPath(shell), 'utf8');
}

/** Which integrated shell a path names, by basename: `bash`, `-bash` (login), `zsh-5.9`, `fish`. */
export function shellKind(shellPath: string): IntegratedShell | undefined {
  const m = /^-?(bash|zsh|fish)(?:-?\d[\d.]*)?$/.exec(basename(shellPath));
  return m ? (m[1] as IntegratedShell) : undefined;
}

/** True when a short-option cluster such as `-lc` holds the letter. */
function clusterHas(arg: string, letter: string): boolean {
  return /^-[a-zA-Z]+$/.test(arg) && arg.includes(letter);
}

/**
 * How to start `shellPath` with `args` so that it marks prompts and commands.
 * @param shellPath the real shell (absolute path); its basename decides.
 * @param args the shell's arguments as omnish will pass them (login flag included).
 * @param env the environment the shell would get; read only (ENV, ZDOTDIR...).
 *
 * The session's nonce is not part of this: it goes to the shell through a file whose path is added
 * to the environment (handOverNonce in nonce-file.ts), never through the environment itself.
 */
export function integrationFor(shellPath: string, args: string[], env: Env): Integration {
  const off = (reason: string): IntegrationOff => ({ integration: null, off: reason, file: shellPath, args, env: {} });
  const kind = shellKind(shellPath);
  if (!kind) return off(`unsupported shell '${basename(shellPath).replace(/^-/, '')}'`);
  if (args.some((a) => clusterHas(a, 'c') || a === '--command' || a.startsWith('--command='))) {
    return off(`${kind} runs a command (-c), not an interactive session`);
  }
  switch (kind) {
    case 'bash':
      return bashIntegration(shellPath, args, env);
    case 'zsh':
      if (args.some((a) => clusterHas(a, 'f') || a === '--no-rcs' || a === '--norcs')) {
        return off('zsh -f reads no startup files');
      }
      return {
        integration: 'zsh',
        file: shellPath,
        args,
        env: {
          ZDOTDIR: `${SHELL_DIR}zsh`,
          ...(env.ZDOTDIR !== undefined ? { OMNISH_ORIG_ZDOTDIR: env.ZDOTDIR } : {}),
        },
      };
    case 'fish':
      return {
        integration: 'fish',
        file: shellPath,
        args: [...args, '--init-command', `source ${fishQuote(scriptPath('fish'))}`],
        env: {},
      };
  }
}

/** A fish single-quoted word. */
function fishQuote(s: string): string {
  return `'${s.replace(/[\\']/g, (c) => `\\${c}`)}'`;
}

/** bash flags that do not combine with starting in posix mode: omnish takes them out of argv and init.bash honours them. */
const BASH_FLAG_WORDS: Record<string, string> = { '--norc': 'norc', '--noprofile': 'noprofile', '--posix': 'posix' };

/**
 * `bash --posix [long options] [short options] -i`. bash wants long options before short ones;
 * `--norc`, `--noprofile`, `--posix`, `--rcfile F`, `--init-file F` go to init.bash through the
 * environment instead (with `--posix` bash would ignore the first two and reject the rest).
 */
function bashIntegration(shellPath: string, args: string[], env: Env): IntegrationOn {
  const flags = new Set<string>();
  let rcfile: string | undefined;
  const long: string[] = [];
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg in BASH_FLAG_WORDS) flags.add(BASH_FLAG_WORDS[arg] as string);
    else if (arg === '--rcfile' || arg === '--init-file') rcfile = args[++i];
    else if (arg.startsWith('--') && arg !== '--') long.push(arg);
    else {
      if (arg === '-o' && args[i + 1] === 'posix') flags.add('posix');
      rest.push(arg);
    }
  }
  if (env.POSIXLY_CORRECT !== undefined) flags.add('posix');
  // What bash set differently because it started in posix mode (init.bash puts them back).
  if (env.HISTFILE === undefined) flags.add('default-histfile');
  if (env.MAILCHECK === undefined) flags.add('default-mailcheck');
  if (/(^|:)inherit_errexit(:|$)/.test(env.BASHOPTS ?? '')) flags.add('inherit-errexit');

  if (!rest.some((a) => clusterHas(a, 'i'))) {
    const end = rest.indexOf('--');
    rest.splice(end < 0 ? rest.length : end, 0, '-i');
  }
  return {
    integration: 'bash',
    file: shellPath,
    args: ['--posix', ...long, ...rest],
    env: {
      ENV: `${SHELL_DIR}bash/init.bash`,
      ...(env.ENV !== undefined ? { OMNISH_ORIG_ENV: env.ENV } : {}),
      OMNISH_BASH_FLAGS: [...flags].join(' '),
      ...(rcfile !== undefined ? { OMNISH_BASH_RCFILE: rcfile } : {}),
    },
  };
}
