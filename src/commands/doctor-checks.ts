/**
 * The checks of `omnish doctor` that need nothing but this machine: Node, node-pty, the config file,
 * file permissions, the shell, stty, writable directories. Each takes its inputs as parameters (paths,
 * versions) so that tests can point it at a temporary directory. The checks that talk to the daemon
 * are in doctor.ts. Every problem comes with the command or edit that fixes it.
 */
import { accessSync, constants, existsSync, lstatSync, realpathSync, statSync, type Stats } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveShell, which } from '../shell/resolve.js';
import type { OmnishConfig } from '../config/config.js';
import { problemMessage, readConfigFile, type ConfigFileProblem } from '../config/file.js';
import { integrationFor, scriptPath } from '../shell/launch.js';

/** Outcome of one check, as `omnish doctor --json` prints it. */
export interface CheckResult {
  /** Short name of what was checked ('node', 'config', 'llm claude', ...). */
  name: string;
  /** 'ok'; 'warn' = works, but something is missing or unusual; 'fail' = broken, doctor exits 1. */
  status: 'ok' | 'warn' | 'fail';
  /** What was found (for 'ok') or what is wrong. One line. */
  detail: string;
  /** How to fix it: a command or an edit. Absent for 'ok'. */
  fix?: string;
}

/** The minimum Node.js major version (package.json `engines`). */
export const MIN_NODE = '20.0.0';

/** The documented config template shipped with omnish (every key with its default). */
export const CONFIG_TEMPLATE = fileURLToPath(new URL('../../config/default.toml', import.meta.url));

const ok = (name: string, detail: string): CheckResult => ({ name, status: 'ok', detail });
const warn = (name: string, detail: string, fix?: string): CheckResult => ({ name, status: 'warn', detail, ...(fix ? { fix } : {}) });
const fail = (name: string, detail: string, fix: string): CheckResult => ({ name, status: 'fail', detail, fix });

/**
 * Compares dotted versions numerically ("20.9.0" < "20.10.0"); a leading "v" and any pre-release
 * suffix are ignored, missing parts count as 0.
 * @returns negative, 0 or positive as `a` is older than, equal to or newer than `b`
 */
export function compareVersions(a: string, b: string): number {
  const parts = (v: string): number[] => (v.replace(/^v/, '').split(/[-+]/)[0] ?? '').split('.').map((x) => Number.parseInt(x, 10) || 0);
  const pa = parts(a);
  const pb = parts(b);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** Node.js is new enough. */
export function checkNode(version: string = process.versions.node): CheckResult {
  if (compareVersions(version, MIN_NODE) >= 0) return ok('node', `v${version.replace(/^v/, '')} (${process.execPath})`);
  return fail('node', `v${version.replace(/^v/, '')} is too old: omnish needs Node.js 20 or newer`, 'install Node.js 20 or newer (https://nodejs.org, or your package manager) and reinstall omnish with it');
}

/** node-pty's native module loads, and can run a program in a new pty (the relay's first step). */
export async function checkNodePty(): Promise<CheckResult> {
  const fix = "reinstall omnish, so that npm installs @lydell/node-pty's prebuilt binary for this platform (" + process.platform + '-' + process.arch + ')';
  let pty: typeof import('@lydell/node-pty');
  try {
    pty = await import('@lydell/node-pty');
  } catch (err) {
    return fail('node-pty', `does not load: ${(err as Error).message.split('\n')[0]}`, fix);
  }
  try {
    const child = pty.spawn('/bin/true', [], { name: 'xterm', cols: 80, rows: 24, cwd: '/', env: process.env as Record<string, string> });
    const { exitCode } = await new Promise<{ exitCode: number }>((resolve) => child.onExit(resolve));
    if (exitCode !== 0) return fail('node-pty', `/bin/true exited with status ${exitCode} in a pty`, fix);
    return ok('node-pty', 'loads; ran /bin/true in a pty');
  } catch (err) {
    return fail('node-pty', `cannot spawn in a pty: ${(err as Error).message.split('\n')[0]}`, 'check that /dev/ptmx and /dev/pts are usable (in a container: mount devpts); then ' + fix);
  }
}

/** Which relay a new session runs: the native addon, or node-pty (and why). */
export async function checkRelay(env: Record<string, string | undefined> = process.env): Promise<CheckResult> {
  if (env.OMNISH_RELAY === 'js') return ok('relay', 'the JavaScript relay (node-pty): OMNISH_RELAY=js');
  const { loadNativeAddon } = await import('../client/native/addon.js');
  const { addon, error } = loadNativeAddon();
  if (addon && typeof addon.startRelay === 'function') return ok('relay', 'native (the C relay loads)');
  return warn(
    'relay',
    `the slower JavaScript relay (node-pty) runs: the native addon does not load (${error ?? 'it has no relay'})`,
    `reinstall omnish for ${process.platform}-${process.arch}, or build the addon from a checkout with a C compiler: npm run build`,
  );
}

/** What to do about a config file that does not load, by what is wrong where. */
export function configFix(p: ConfigFileProblem): string {
  if (p.line === undefined) return `make ${p.file} a file you can read (chmod 600 ${p.file}), or remove it to use the defaults`;
  if (p.key === undefined) return `correct the TOML syntax on line ${p.line} of ${p.file}`;
  if (/^unknown (?:key|section) /.test(p.error)) return `remove or correct ${p.key} on line ${p.line} of ${p.file} (${CONFIG_TEMPLATE} lists every key)`;
  return `correct ${p.key} on line ${p.line} of ${p.file} (${CONFIG_TEMPLATE} documents every key)`;
}

/**
 * The config file parses and validates; a problem is located as `omnish config check` does (file,
 * line, column, key).
 * @returns the result and the config (undefined when it is broken: other checks then use defaults)
 */
export function checkConfig(path: string): { result: CheckResult; config?: OmnishConfig } {
  const read = readConfigFile(path);
  if (!read.ok) return { result: fail('config', problemMessage(read.problem), configFix(read.problem)) };
  return { result: ok('config', read.text !== null ? path : `${path} (no file: defaults apply)`), config: read.config };
}

/** Group/other permission bits as words: "group-writable, world-readable". */
function loose(mode: number, mask: number): string {
  const words: string[] = [];
  if (mode & mask & 0o070) words.push(`group-${mode & 0o020 ? 'writable' : 'readable'}`);
  if (mode & mask & 0o007) words.push(`world-${mode & 0o002 ? 'writable' : 'readable'}`);
  return words.join(', ');
}

const octal = (mode: number): string => `0${(mode & 0o777).toString(8)}`;
const uid = (): number | undefined => (typeof process.getuid === 'function' ? process.getuid() : undefined);

/**
 * The runtime directory (socket, token, pid file) is a directory of ours with mode 0700. Writable
 * by others is a failure: omnishd refuses such a directory, and another user could replace the
 * socket. Readable by others is a warning: nobody can plant anything, but nothing needs to look.
 */
export function checkSocketDir(dir: string): CheckResult {
  const name = 'socket directory';
  let st: Stats;
  try {
    st = statSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return ok(name, `${dir} (not created yet; omnishd creates it with mode 0700)`);
    return fail(name, `cannot inspect ${dir}: ${(err as Error).message}`, `check the permissions of ${dirname(dir)}`);
  }
  if (!st.isDirectory()) return fail(name, `${dir} is not a directory`, `move ${dir} away; omnishd creates the directory`);
  const me = uid();
  if (me !== undefined && st.uid !== me) {
    return fail(name, `${dir} belongs to uid ${st.uid}, not to you (uid ${me})`, `remove it (as its owner or root) or set OMNISH_SOCKET to a path in a directory of yours`);
  }
  if (st.mode & 0o022) return fail(name, `${dir} is ${loose(st.mode, 0o022)} (mode ${octal(st.mode)}): omnishd will not use it`, `chmod 700 ${dir}`);
  if (st.mode & 0o077) return warn(name, `${dir} is ${loose(st.mode, 0o077)} (mode ${octal(st.mode)}); it should be 0700`, `chmod 700 ${dir}`);
  return ok(name, `${dir} (mode 0700, yours)`);
}

/**
 * A private file of the runtime directory (the socket, the token) is ours, of the right type, and
 * accessible by nobody else. A file that does not exist yet is fine: omnishd creates it.
 * @param restart how to get a fresh file when the existing one cannot be trusted
 */
export function checkPrivateFile(name: string, path: string, kind: 'socket' | 'file', restart: string): CheckResult {
  let st: Stats;
  try {
    st = lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return ok(name, `${path} (none yet; omnishd creates it with mode 0600)`);
    return fail(name, `cannot inspect ${path}: ${(err as Error).message}`, `check the permissions of ${dirname(path)}`);
  }
  const what = kind === 'socket' ? 'a socket' : 'a regular file';
  if (kind === 'socket' ? !st.isSocket() : !st.isFile()) return fail(name, `${path} is not ${what}`, `rm ${path} && ${restart}`);
  const me = uid();
  if (me !== undefined && st.uid !== me) return fail(name, `${path} belongs to uid ${st.uid}, not to you`, `rm ${path} && ${restart}`);
  if (st.mode & 0o077) {
    // A token others could read may have been read: replace it rather than only chmod it.
    const fix = kind === 'socket' ? `chmod 600 ${path} (or ${restart})` : `rm ${path} && ${restart} (a new token; the old one may have been read)`;
    return fail(name, `${path} is ${loose(st.mode, 0o077)} (mode ${octal(st.mode)}); it must be 0600`, fix);
  }
  return ok(name, `${path} (mode ${octal(st.mode)})`);
}

/**
 * A directory omnish writes to is writable, or can be created: the nearest existing ancestor is.
 * Nothing is created: doctor only looks.
 */
export function checkWritableDir(name: string, dir: string, override: string): CheckResult {
  let existing = dir;
  while (!existsSync(existing) && dirname(existing) !== existing) existing = dirname(existing);
  const fix = `make ${existing} writable for you (or point ${override} at a directory of yours)`;
  try {
    if (!statSync(existing).isDirectory()) return fail(name, `${existing} is not a directory`, `move ${existing} away or set ${override}`);
    accessSync(existing, constants.W_OK | constants.X_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return fail(name, `${existing} is not writable${code === 'EROFS' ? ' (read-only file system)' : ''}`, fix);
  }
  return ok(name, existing === dir ? dir : `${dir} (created on first use)`);
}

/** The real paths of the omnish launcher (bin/omnish.js), so `$SHELL=omnish` is seen as omnish, as the client does. */
function selfPaths(): string[] {
  const launcher = fileURLToPath(new URL('../../bin/omnish.js', import.meta.url));
  try {
    return [launcher, realpathSync(launcher)];
  } catch {
    return [launcher];
  }
}

/** Which shell omnish would wrap (resolved as the client does) and whether it gets shell integration. */
export function checkShellIntegration(config: OmnishConfig | undefined, env: Record<string, string | undefined> = process.env): CheckResult {
  const name = 'shell integration';
  const shell = resolveShell(config?.shell.command, selfPaths(), env);
  const from = shell.source === 'default' ? 'no other shell found' : `from ${shell.source === 'config' ? '[shell] command' : `$${shell.source}`}`;
  const integration = integrationFor(shell.path, [], env);
  if (integration.integration === null) {
    return warn(
      name,
      `off for ${shell.path} (${from}): ${integration.off}; sessions are recorded, but commands are not told apart`,
      'omnish marks commands in bash, zsh and fish: set [shell] command = "/bin/bash" in the config, or OMNISH_SHELL',
    );
  }
  const script = scriptPath(integration.integration);
  if (!existsSync(script)) return fail(name, `${script} is missing`, 'reinstall omnish (the shell scripts ship in src/shell/)');
  return ok(name, `${integration.integration} (${shell.path}, ${from})`);
}

/** stty is on PATH: the client sets the terminal's modes with it. */
export function checkStty(env: Record<string, string | undefined> = process.env): CheckResult {
  const path = which('stty', env);
  if (path) return ok('stty', path);
  return fail('stty', 'stty is not on PATH: omnish cannot put the terminal in raw mode and runs the plain shell', 'install coreutils (or busybox) so that stty is on PATH');
}
