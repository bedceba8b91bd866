/** Where the checkout under test is, and its two programs (shared by the tests and the bench). */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The checkout's root: the nearest directory above `from` holding package.json and bin/omnish.js.
 * Searched rather than fixed because this module also runs compiled, from .bench/js/test/helpers/.
 * @throws Error when there is none
 */
function findRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'bin', 'omnish.js'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no omnish checkout (bin/omnish.js) above ${from}`);
  }
}

export const ROOT = findRoot(import.meta.dirname);
export const OMNISH = join(ROOT, 'bin', 'omnish.js');
export const OMNISHD = join(ROOT, 'bin', 'omnishd.js');
