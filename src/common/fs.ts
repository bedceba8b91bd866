/** File-system helpers shared by the client and the daemon. */
import { mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/**
 * Creates `dir` and its missing parents, like `mkdirSync(dir, { recursive: true })`, but fails
 * instead of spinning where a directory cannot be created.
 *
 * Why not Node's own: in Node 20 a recursive mkdir under a pseudo file system that answers ENOENT
 * for a child of an existing directory (`/proc/x`, `/sys/x`) retries forever, at ~10 000 mkdir
 * calls per second, and never returns (synchronously or not). Here each missing component gets one
 * plain mkdir, parents first.
 * @param dir - the directory to create (relative paths resolve against the cwd)
 * @param mode - permission bits of the directories created (default 0o700); existing ones are left as they are
 * @throws the fs error of the first mkdir that fails (e.g. ENOENT, EACCES, ENOTDIR), with a message
 *   naming the directory: `cannot create directory /proc/x: no such file or directory (ENOENT)`
 */
export function makeDirs(dir: string, mode = 0o700): void {
  const missing: string[] = [];
  for (let d = resolve(dir); ; d = dirname(d)) {
    try {
      statSync(d);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    missing.push(d);
    if (dirname(d) === d) break; // the root itself is missing: let mkdir say why
  }
  for (const d of missing.reverse()) {
    try {
      mkdirSync(d, { mode });
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code === 'EEXIST') continue; // another process created it meanwhile
      const why = e.code ? `${describeErrno(e)} (${e.code})` : e.message;
      throw Object.assign(new Error(`cannot create directory ${d}: ${why}`, { cause: err }), { code: e.code, path: d });
    }
  }
}

/** "no such file or directory" from "ENOENT: no such file or directory, mkdir '/x'". */
function describeErrno(err: NodeJS.ErrnoException): string {
  const m = /^[A-Z0-9]+: ([^,]+)/.exec(err.message);
  return m ? m[1]! : err.message;
}
