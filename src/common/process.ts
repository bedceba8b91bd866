/** Process helpers shared by the client and the daemon. */

/** True when a process with this pid exists (EPERM: it exists but belongs to someone else). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * omnishd's exit status when another omnishd holds the lock for its socket (sysexits' EX_TEMPFAIL).
 * Distinct from 1 (cannot serve): a client that started it waits for the winner to answer instead
 * of reporting a failure, since the winner may still be loading its store.
 */
export const EXIT_ALREADY_RUNNING = 75;
