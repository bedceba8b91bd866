/**
 * Random ids and secrets for the start of a session, without node:crypto: loading it compiles
 * some twenty of Node's internal modules (12 M instructions, ~1.5 ms on the first prompt's path,
 * docs/benchmarks.md "Start-up"), and the session id and the nonce need only random bytes.
 * /dev/urandom is the kernel's CSPRNG, as crypto.randomBytes is (both read getrandom(2)'s pool).
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';

/**
 * `bytes` random bytes as lowercase hex (2 × bytes characters), from /dev/urandom, or from
 * node:crypto where that cannot be read.
 */
export function randomHex(bytes: number): string {
  const buf = Buffer.alloc(bytes);
  try {
    const fd = openSync('/dev/urandom', 'r');
    try {
      let got = 0;
      while (got < bytes) {
        const n = readSync(fd, buf, got, bytes - got, null);
        if (n <= 0) throw new Error('short read from /dev/urandom');
        got += n;
      }
    } finally {
      closeSync(fd);
    }
    return buf.toString('hex');
  } catch {
    const { randomBytes } = createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto');
    return randomBytes(bytes).toString('hex');
  }
}
