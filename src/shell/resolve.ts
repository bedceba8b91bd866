/**
 * Which real shell omnish wraps: `OMNISH_SHELL`, else `[shell] command` in the config, else `$SHELL`
 * unless that is omnish itself, else the passwd entry (same exception), else `/bin/sh`.
 */
import { accessSync, constants, realpathSync } from 'node:fs';
import { userInfo } from 'node:os';
import { basename, delimiter, isAbsolute, join } from 'node:path';

/** A resolved shell: absolute path and where the choice came from (for `omnish status` and logs). */
export interface ResolvedShell {
  path: string;
  source: 'OMNISH_SHELL' | 'config' | 'SHELL' | 'passwd' | 'default';
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Resolves a command name against PATH (absolute paths are checked as they are). */
export function which(cmd: string, env: Record<string, string | undefined> = process.env): string | undefined {
  if (cmd.includes('/')) return isAbsolute(cmd) && isExecutable(cmd) ? cmd : undefined;
  for (const dir of (env.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(delimiter)) {
    const candidate = join(dir || '.', cmd);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/** True when `path` is omnish itself (by real path, or by name): wrapping it would loop. */
export function isOmnish(path: string, selfPaths: string[]): boolean {
  const name = basename(path);
  if (name === 'omnish' || name === 'omnish.js') return true;
  let real = path;
  try {
    real = realpathSync(path);
  } catch {
    // A shell that does not exist is not omnish; the caller will skip it as not executable.
  }
  return selfPaths.some((self) => self === real || self === path);
}

/**
 * Picks the real shell.
 * @param configured `[shell] command` from the config, if any.
 * @param selfPaths real paths of the running omnish launcher (to avoid wrapping ourselves).
 * @returns the first candidate that exists, is executable and is not omnish; `/bin/sh` otherwise.
 */
export function resolveShell(
  configured: string | undefined,
  selfPaths: string[],
  env: Record<string, string | undefined> = process.env,
): ResolvedShell {
  let passwdShell: string | undefined;
  try {
    passwdShell = userInfo().shell ?? undefined;
  } catch {
    passwdShell = undefined;
  }
  const candidates: Array<[string | undefined, ResolvedShell['source']]> = [
    [env.OMNISH_SHELL, 'OMNISH_SHELL'],
    [configured, 'config'],
    [env.SHELL, 'SHELL'],
    [passwdShell, 'passwd'],
  ];
  for (const [cmd, source] of candidates) {
    if (!cmd) continue;
    const path = which(cmd, env);
    if (path && !isOmnish(path, selfPaths)) return { path, source };
  }
  return { path: '/bin/sh', source: 'default' };
}
