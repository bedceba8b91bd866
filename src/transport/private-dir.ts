/**
 * The runtime directory holds the daemon's socket and auth token, so it must be private: owned by
 * the user and writable by nobody else. Otherwise another local user could replace the socket (and
 * read what omnish sends) or plant a token.
 */
import { statSync } from 'node:fs';
import { makeDirs } from '../common/fs.js';
import { InsecurePathError } from './errors.js';

/** The current uid, or undefined where the platform has none (Windows). */
export function currentUid(): number | undefined {
  return typeof process.getuid === 'function' ? process.getuid() : undefined;
}

/** "0755"-style octal of a mode's permission bits. */
export function octalMode(mode: number): string {
  return `0${(mode & 0o777).toString(8)}`;
}

/**
 * Creates `dir` (and missing parents) with mode 0700 if missing, then checks it is safe to use.
 * An existing directory is not chmod-ed: changing the user's permissions behind their back could
 * hide a real problem; the error says what to run instead.
 * @param dir - absolute path of the directory
 * @throws InsecurePathError if it is not a directory, not owned by the current uid, or group/other-writable
 * @throws the fs error (e.g. EACCES, or ENOENT under /proc) if it cannot be created or inspected
 */
export function ensurePrivateDir(dir: string): void {
  makeDirs(dir, 0o700);
  // stat, not lstat: a symlinked runtime directory is fine as long as its target is private.
  const st = statSync(dir);
  if (!st.isDirectory()) throw new InsecurePathError(`${dir} is not a directory`, dir);
  const uid = currentUid();
  if (uid !== undefined && st.uid !== uid) {
    throw new InsecurePathError(`${dir} belongs to uid ${st.uid}, not to you (uid ${uid}): omnish will not use it`, dir);
  }
  if ((st.mode & 0o022) !== 0) {
    const who = (st.mode & 0o020 ? ['group'] : []).concat(st.mode & 0o002 ? ['others'] : []).join(' and ');
    throw new InsecurePathError(
      `${dir} is writable by ${who} (mode ${octalMode(st.mode)}): omnish will not use it; run: chmod 700 ${dir}`,
      dir,
    );
  }
}
