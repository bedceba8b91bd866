import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { acquireLock, lockHolderPid, lockName } from './lock.js';

/** A socket path no other test uses: the lock is machine-wide (abstract namespace). */
const path = (): string => `/nonexistent/omnish-lock-test-${process.pid}-${Math.random()}/omnish.sock`;
const closers: Array<() => void> = [];
afterEach(() => closers.splice(0).forEach((close) => close()));

describe('the single-instance lock', () => {
  it('is held once: a second acquire gets null, and the holder answers its pid', async () => {
    const p = path();
    const lock = await acquireLock(p);
    expect(lock).not.toBeNull();
    closers.push(() => lock!.close());
    expect(await acquireLock(p)).toBeNull();
    expect(await lockHolderPid(p)).toBe(process.pid);
    expect(await lockHolderPid(p)).toBe(process.pid); // every asker gets the answer
  });

  it('is free again once closed, and then nobody answers', async () => {
    const p = path();
    const lock = (await acquireLock(p))!;
    await new Promise((r) => lock.close(r));
    expect(await lockHolderPid(p)).toBeUndefined();
    const again = await acquireLock(p);
    expect(again).not.toBeNull();
    again!.close();
  });

  it('takes nothing but a pid for an answer (an older omnishd says nothing; another program anything)', async () => {
    for (const answer of ['', 'hello\n', '123', '0\n', `${'9'.repeat(40)}\n`]) {
      const p = path();
      const impostor = createServer((c) => c.end(answer));
      await new Promise<void>((r) => impostor.listen(lockName(p), r));
      closers.push(() => impostor.close());
      expect(await lockHolderPid(p), JSON.stringify(answer)).toBeUndefined();
    }
  });

  it('gives up on a holder that never answers', async () => {
    const p = path();
    const silent = createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(lockName(p), r));
    closers.push(() => silent.close());
    expect(await lockHolderPid(p, 100)).toBeUndefined();
  });
});
