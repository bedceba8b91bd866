/**
 * Per-test isolation for end-to-end tests: a private temporary directory (HOME, config, data,
 * socket), the terminals opened in it, and any omnishd started for it; all torn down after each
 * test, daemons first, so nothing writes into the directory while it is removed.
 */
import { afterEach, beforeEach } from 'vitest';
import { stopDaemons } from './daemon.js';
import { tempDir } from './env.js';
import { descendantPids, signalAll } from './procs.js';
import { startOmnish, Term } from './term.js';

export interface TestDir {
  /** The directory of the running test. */
  readonly path: string;
  /** Registers a terminal to be killed after the test. */
  track(t: Term): Term;
  /** Starts omnish in a new tracked terminal (see startOmnish). */
  omnish(opts?: Parameters<typeof startOmnish>[1]): Term;
}

/** Installs beforeEach/afterEach hooks and returns the handle of the current test's directory. */
export function useTestDir(): TestDir {
  let dir: { path: string; cleanup: () => void } | undefined;
  const terms: Term[] = [];
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(async () => {
    for (const t of terms.splice(0)) {
      // The whole tree: shells leave background jobs that would write into the directory
      // (fish generates completions in the background on its first start).
      const tree = descendantPids(t.pid, '');
      t.kill();
      signalAll(tree, 'SIGKILL');
      await t.waitExit();
    }
    if (!dir) return;
    await stopDaemons(dir.path, 'SIGKILL');
    dir.cleanup();
    dir = undefined;
  });
  const handle: TestDir = {
    get path() {
      if (!dir) throw new Error('useTestDir: no test is running');
      return dir.path;
    },
    track(t) {
      terms.push(t);
      return t;
    },
    omnish(opts) {
      return handle.track(startOmnish(handle.path, opts));
    },
  };
  return handle;
}
