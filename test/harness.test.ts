/**
 * The test harness itself: a wait that times out says what the terminal showed by then, so a
 * failing e2e test can be read from its message alone.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Term } from './helpers/term.js';

const terms: Term[] = [];
afterEach(async () => {
  for (const t of terms.splice(0)) {
    t.kill();
    await t.waitExit();
  }
});

describe('Term', () => {
  it('shows the output that arrived during the wait when waitFor times out', async () => {
    // Nothing has arrived when the wait starts (the pty answers later): the tail must be taken at the timeout.
    const t = new Term('/bin/sh', ['-c', 'printf "hello from the pty"; exec sleep 30']);
    terms.push(t);
    const waited = t.waitFor('never printed', { timeoutMs: 1500 });
    await expect(waited).rejects.toThrow(/timed out after 1500 ms waiting for never printed in terminal output; got tail "hello from the pty"/);
  });

  it('shows the output so far when waitExit times out', async () => {
    const t = new Term('/bin/sh', ['-c', 'printf "still running"; exec sleep 30']);
    terms.push(t);
    await expect(t.waitExit(1500)).rejects.toThrow(/tail "still running"/);
  });
});
