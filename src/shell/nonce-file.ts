/**
 * How the session's nonce reaches the shell integration without ever sitting in an environment or
 * an argv: any program in the session can read /proc/PID/environ and /proc/PID/cmdline of the
 * shell (unsetting a variable does not change what /proc shows: it keeps the environment the
 * process started with), and with the nonce it could print marks that omnish trusts.
 *
 * So the nonce goes into a 0600 file in a fresh 0700 directory, and only the file's PATH goes into
 * the shell's environment (`OMNISH_NONCE_FILE`). The integration reads the file as its very first
 * step and deletes it at once (bash: the first lines of bash/init.bash, which bash reads before any
 * rc file; zsh: the first lines of zsh/.zshenv, read before the user's files; fish: the top of
 * omnish.fish, which fish runs after its config files). node-pty cannot hand a child an extra file
 * descriptor, which would otherwise be the tighter channel.
 *
 * The file must not outlive a shell that never reads it (a broken rc file, a config.fish that
 * `exec`s another program): omnish removes the directory after a deadline and when it exits.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Environment variable naming the file the integration reads the nonce from (and removes). */
export const NONCE_FILE_ENV = 'OMNISH_NONCE_FILE';

/** Prefix of the private directories holding a nonce file (for tests and clean-up tools). */
export const NONCE_DIR_PREFIX = 'omnish-nonce-';

/** How long the nonce file may wait for the shell to read it before omnish removes it (ms). */
export const NONCE_FILE_DEADLINE_MS = 10_000;

/** A nonce waiting in its file for the shell. */
export interface NonceHandoff {
  /** Path of the file (0600, in a 0700 directory of its own). */
  readonly path: string;
  /** What to add to the shell's environment: only the file's path, never the nonce. */
  readonly env: Record<string, string>;
  /** Removes the file and its directory (idempotent; the shell normally removed the file already). */
  remove(): void;
}

export interface HandoffOptions {
  /** Directory to create the private directory in (default: $XDG_RUNTIME_DIR, else the temp dir). */
  parent?: string;
  /** Remove the file after this many ms even if the shell never read it (default NONCE_FILE_DEADLINE_MS). */
  deadlineMs?: number;
}

/** A fresh directory only this user can enter: $XDG_RUNTIME_DIR (a per-user tmpfs) when usable, else the temp dir. */
function privateDir(parent: string | undefined): string {
  const candidates = parent !== undefined ? [parent] : [process.env.XDG_RUNTIME_DIR, tmpdir()];
  let lastError: unknown;
  for (const base of candidates) {
    if (!base) continue;
    try {
      // mkdtemp creates the directory with mode 0700 and a name nobody could have guessed.
      return mkdtempSync(join(base, NONCE_DIR_PREFIX));
    } catch (err) {
      lastError = err;
    }
  }
  throw lastError ?? new Error('no directory for the nonce file');
}

/**
 * Writes `nonce` to a new private file for the shell to read once.
 * @param nonce the session's secret ([A-Za-z0-9_-], as the scripts accept it)
 * @throws the fs error when no private directory or file can be created (the caller starts the shell without integration or plainly)
 */
export function handOverNonce(nonce: string, opts: HandoffOptions = {}): NonceHandoff {
  const dir = privateDir(opts.parent);
  const path = join(dir, 'nonce');
  try {
    // 'wx': a new file, never one that appeared meanwhile; 0600 on top of the 0700 directory.
    writeFileSync(path, `${nonce}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  let removed = false;
  const remove = (): void => {
    if (removed) return;
    removed = true;
    clearTimeout(timer);
    process.off('exit', remove);
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // Nothing to do: the deadline or the exit tried its best; the directory is private anyway.
    }
  };
  const timer = setTimeout(remove, opts.deadlineMs ?? NONCE_FILE_DEADLINE_MS);
  // Neither the deadline nor the file may keep omnish alive; every way out of omnish runs 'exit'
  // handlers except SIGKILL.
  timer.unref();
  process.once('exit', remove);
  return { path, env: { [NONCE_FILE_ENV]: path }, remove };
}
