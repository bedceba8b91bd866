/**
 * Single-instance lock for omnishd. Clients that start together may each spawn a daemon; exactly one
 * must win. The lock is a Linux abstract-namespace Unix socket named after the socket path: binding
 * it is atomic, and the kernel releases it when the process dies, so there is no stale lock file to
 * clean up after a crash (unlike a pid file, whose stale-removal races).
 */
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:net';

/** Abstract socket name for the daemon serving `socketPath`. */
export function lockName(socketPath: string): string {
  const hash = createHash('sha256').update(socketPath).digest('hex').slice(0, 16);
  return `\0omnishd-lock-${hash}`;
}

/**
 * Takes the single-instance lock.
 * @returns the held lock (release by closing it), or null when another daemon holds it.
 * @throws Error for failures other than "already held".
 */
export function acquireLock(socketPath: string): Promise<Server | null> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') resolve(null);
      else reject(err);
    });
    server.listen(lockName(socketPath), () => {
      server.unref();
      resolve(server);
    });
  });
}
