/**
 * Starting omnishd in the background: a detached `omnishd --foreground` with no terminal and no
 * stdio, so nothing it does can reach a user's terminal, and it outlives the client that started it.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { daemonPidPath, socketPath } from '../common/paths.js';
import { DaemonUnavailableError } from '../common/errors.js';
import { connectUnix } from '../transport/index.js';

/** Absolute path of the omnishd launcher. */
export const OMNISHD_BIN = fileURLToPath(new URL('../../bin/omnishd.js', import.meta.url));

/** Spawns a detached daemon and returns at once. Several racing callers start one daemon: the rest lose the lock and exit. */
export function spawnDaemon(env: NodeJS.ProcessEnv = process.env): void {
  const child = spawn(process.execPath, [OMNISHD_BIN, '--foreground'], { detached: true, stdio: 'ignore', env });
  child.unref();
}

/**
 * Starts the daemon unless one answers, and waits until it does.
 * @returns the daemon's pid (from its pid file)
 * @throws DaemonUnavailableError when it does not answer within `timeoutMs`
 */
export async function startDetached(timeoutMs = 5000, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const path = socketPath(env);
  const deadline = Date.now() + timeoutMs;
  let spawned = false;
  for (;;) {
    try {
      const conn = await connectUnix(path, { connectTimeoutMs: 1000 });
      conn.destroy();
      return readPid(env);
    } catch {
      if (!spawned) {
        spawnDaemon(env);
        spawned = true;
      }
    }
    if (Date.now() > deadline) throw new DaemonUnavailableError(`omnishd did not start within ${timeoutMs / 1000} s (see its log)`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function readPid(env: NodeJS.ProcessEnv): number {
  try {
    return Number(readFileSync(daemonPidPath(env), 'utf8').trim()) || 0;
  } catch {
    return 0;
  }
}
