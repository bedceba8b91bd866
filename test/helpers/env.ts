/** An isolated place and environment for one test (or one bench run): nothing of the user's is read or written. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A private temporary directory, removed (with retries, for files still being closed) by the returned cleanup. */
export function tempDir(prefix = 'omnish-test-'): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 }) };
}

/**
 * An isolated environment: no user config, data and socket in `dir`, a fixed prompt, bash as the
 * real shell unless overridden by `extra`. The one thing passed through is the relay switch
 * (`OMNISH_RELAY=js|native`), so a whole test run can be pointed at either relay (.ci/run does).
 */
export function testEnv(dir = tmpdir(), extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: dir,
    TERM: 'xterm-256color',
    LANG: 'C.UTF-8',
    PS1: 'PROMPT$ ',
    LESSHISTFILE: '-',
    // Shells killed at the end of a test write their history late; keep it out of the temp dir being removed.
    HISTFILE: '/dev/null',
    OMNISH_SHELL: '/bin/bash',
    OMNISH_CONFIG: join(dir, 'config.toml'),
    OMNISH_DATA_DIR: join(dir, 'data'),
    OMNISH_SOCKET: join(dir, 'run', 'omnish.sock'),
    ...(process.env.OMNISH_RELAY ? { OMNISH_RELAY: process.env.OMNISH_RELAY } : {}),
    ...extra,
  };
}
