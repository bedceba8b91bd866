/**
 * The auth token that every Hello carries: 32 random bytes, hex, in `<runtime dir>/token` (mode
 * 0600). The socket's 0700 directory already keeps other users out; the token also keeps out
 * anything that can reach the socket without being able to read the user's files (e.g. a socket
 * forwarded into a container or over ssh).
 */
import { randomBytes } from 'node:crypto';
import { closeSync, constants, fstatSync, linkSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InsecurePathError } from './errors.js';
import { currentUid, ensurePrivateDir, octalMode } from './private-dir.js';

/** Name of the token file inside the runtime directory. */
export const TOKEN_FILE = 'token';

const TOKEN_RE = /^[0-9a-f]{64}$/;

/**
 * Reads the token file, or returns undefined if there is none.
 * @throws InsecurePathError if the file is a symlink, not ours, accessible by group or others, or
 *   does not hold a token
 */
export function readToken(path: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ELOOP') throw new InsecurePathError(`token file ${path} is a symlink: delete it`, path);
    throw err;
  }
  try {
    const st = fstatSync(fd);
    const uid = currentUid();
    if (uid !== undefined && st.uid !== uid) {
      throw new InsecurePathError(`token file ${path} belongs to uid ${st.uid}, not to you: delete it`, path);
    }
    if ((st.mode & 0o077) !== 0) {
      throw new InsecurePathError(
        `token file ${path} is accessible by others (mode ${octalMode(st.mode)}): delete it and restart omnishd`,
        path,
      );
    }
    const token = readFileSync(fd, 'utf8').trim();
    if (!TOKEN_RE.test(token)) {
      throw new InsecurePathError(`token file ${path} does not hold a token (64 hex characters): delete it`, path);
    }
    return token;
  } finally {
    closeSync(fd);
  }
}

/**
 * Creates the token file with a new token unless one exists, and returns the token in the file.
 * The file is written completely under a temporary name, then hard-linked to its final name:
 * link() never replaces an existing file, so when several processes race, the first link wins and
 * the others read and adopt its token. (rename() would let the last writer win after the first
 * had already handed out its token.)
 * @internal exported for tests; use loadOrCreateToken
 */
export function createToken(dir: string): string {
  const path = join(dir, TOKEN_FILE);
  const token = randomBytes(32).toString('hex');
  const tmp = join(dir, `.${TOKEN_FILE}.${process.pid}.${randomBytes(6).toString('hex')}`);
  writeFileSync(tmp, `${token}\n`, { mode: 0o600, flag: 'wx' });
  try {
    linkSync(tmp, path);
    return token;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const theirs = readToken(path);
    if (theirs === undefined) throw err; // created and deleted again in between: give up loudly
    return theirs;
  } finally {
    rmSync(tmp, { force: true });
  }
}

/**
 * Returns the auth token of `dir` (the runtime directory), creating the directory (0700) and the
 * token file (0600) if missing. Safe to call from several processes at once: all get the same token.
 * @returns 64 lowercase hex characters
 * @throws InsecurePathError if the directory is not private (see ensurePrivateDir) or the token
 *   file is unsafe or corrupt (see readToken)
 */
export function loadOrCreateToken(dir: string): string {
  ensurePrivateDir(dir);
  return readToken(join(dir, TOKEN_FILE)) ?? createToken(dir);
}
