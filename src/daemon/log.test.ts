import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { logPath, openLog } from './log.js';

let tmp: string;
beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), 'omnish-log-'));
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

it('rotates the log past maxBytes, so it never takes more than twice that', async () => {
  const env = { OMNISH_DATA_DIR: tmp };
  const path = logPath(env);
  // Synchronous, so each line is its own write (asynchronous writes batch up to 16 KiB).
  const { log, flush } = openLog(env, { maxBytes: 4096, sync: true });
  for (let i = 0; i < 2000; i++) log.info({ i, filler: 'x'.repeat(50) }, 'line');
  flush();
  await until(() => existsSync(`${path}.1`), 'omnishd.log.1');
  const line = readFileSync(path, 'utf8').split('\n')[0] ?? '';
  // One line may go past the limit before the rotation happens.
  expect(statSync(path).size).toBeLessThan(4096 + 4 * line.length + 200);
  expect(statSync(`${path}.1`).size).toBeLessThan(4096 + 4 * line.length + 200);
  expect(JSON.parse(readFileSync(path, 'utf8').trim().split('\n').pop() ?? '{}')).toMatchObject({ i: 1999, msg: 'line' });
});
