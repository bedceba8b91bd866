/**
 * Single-instance lock for omnishd. Clients that start together may each spawn a daemon; exactly one
 * must win. The lock is a Linux abstract-namespace Unix socket named after the socket path: binding
 * it is atomic, and the kernel releases it when the process dies, so there is no stale lock file to
 * clean up after a crash (unlike a pid file, whose stale-removal races).
 *
 * The holder answers every connection to the lock with its pid (decimal, a newline) and closes it,
 * so a daemon that lost can say which one runs: the pid file is written only once the winner
 * listens, which can be seconds later (a big store), and a SIGKILLed daemon leaves a stale one.
 */
import { createHash } from 'node:crypto';
import { connect, createServer, type Server } from 'node:net';

/** Longest answer read from the lock (bytes): a pid and a newline, with room to spare. */
const MAX_ANSWER = 32;

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
    const server = createServer((conn) => {
      conn.on('error', () => undefined); // a peer that left first: nothing to tell it
      conn.end(`${process.pid}\n`);
    });
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

/**
 * Asks the holder of the lock for `socketPath` its pid.
 * @returns the pid, or undefined when nothing holds the lock, it does not answer within `timeoutMs`
 *   (ms), or its answer is not a pid (an omnishd from before the lock answered, or another program)
 */
export function lockHolderPid(socketPath: string, timeoutMs = 1000): Promise<number | undefined> {
  return new Promise((resolve) => {
    const socket = connect(lockName(socketPath));
    let answer = '';
    const done = (pid: number | undefined): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(pid);
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      answer += chunk;
      if (answer.length > MAX_ANSWER) done(undefined);
    });
    socket.on('end', () => {
      const m = /^([1-9]\d{0,9})\n$/.exec(answer);
      done(m ? Number(m[1]) : undefined);
    });
    socket.on('error', () => done(undefined));
  });
}
