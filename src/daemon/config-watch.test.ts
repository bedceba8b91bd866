/** The config watch on a real file system: what editors do to a file, and what only the poll sees. */
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { waitUntil } from '../../test/helpers/wait.js';
import { watchConfig, type ConfigWatch } from './config-watch.js';

let dir: string;
const watches: ConfigWatch[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'omnish-watch-'));
});
afterEach(() => {
  for (const w of watches.splice(0)) w.close();
  rmSync(dir, { recursive: true, force: true });
});

/**
 * Watches `file`, counting the callbacks after the first one (the look a watch takes when it
 * starts), and waits for that one: the poll has its first stat of the file by then. A poll of an
 * hour leaves only the directory watch, unless `pollMs` is given.
 */
async function counted(file: string, pollMs = 3_600_000): Promise<{ calls: () => number }> {
  let n = -1;
  watches.push(watchConfig(file, () => n++, { debounceMs: 30, pollMs }));
  await waitUntil(() => n === 0, 'the first look');
  return { calls: () => n };
}

/** What an editor (and `omnish config set --save`) does: write a temporary file, rename it over the old one. */
function replace(file: string, text: string): void {
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

describe('watchConfig', () => {
  it('sees a file replaced by rename, again and again (a watch on the file itself would lose it)', async () => {
    const file = join(dir, 'config.toml');
    writeFileSync(file, 'a = 1\n');
    const w = await counted(file);
    replace(file, 'a = 2\n');
    await waitUntil(() => w.calls() >= 1, 'the first replace to be seen');
    replace(file, 'a = 3\n');
    await waitUntil(() => w.calls() >= 2, 'the second replace to be seen');
    writeFileSync(file, 'a = 4\n'); // written in place
    await waitUntil(() => w.calls() >= 3, 'a write in place to be seen');
    rmSync(file);
    await waitUntil(() => w.calls() >= 4, 'the removal to be seen');
    // Each burst of events (temporary file, rename) gave one callback.
    expect(w.calls()).toBe(4);
  });

  it('a file in a directory created later is seen by the poll', async () => {
    const file = join(dir, 'later', 'config.toml');
    const w = await counted(file, 50);
    mkdirSync(join(dir, 'later'));
    writeFileSync(file, 'a = 1\n');
    await waitUntil(() => w.calls() >= 1, 'the new file to be seen');
    // And from then on the directory is watched: a rename is seen without waiting for a poll.
    const before = w.calls();
    replace(file, 'a = 2\n');
    await waitUntil(() => w.calls() > before, 'the replace to be seen');
  });

  it('the target of a symlinked config, changed in its own directory, is seen by the poll', async () => {
    mkdirSync(join(dir, 'dotfiles'));
    mkdirSync(join(dir, 'conf'));
    const target = join(dir, 'dotfiles', 'omnish.toml');
    writeFileSync(target, 'a = 1\n');
    const file = join(dir, 'conf', 'config.toml');
    symlinkSync(target, file);
    const w = await counted(file, 50);
    replace(target, 'a = 22\n');
    await waitUntil(() => w.calls() >= 1, 'the change of the target to be seen');
  });

  it('no callback after close', async () => {
    const file = join(dir, 'config.toml');
    writeFileSync(file, 'a = 1\n');
    let n = 0;
    const w = watchConfig(file, () => n++, { debounceMs: 30, pollMs: 50 });
    w.close(); // before even its first look
    const other = await counted(file, 50);
    replace(file, 'a = 2\n');
    await waitUntil(() => other.calls() >= 1, 'the other watch to see the change');
    expect(n).toBe(0);
  });
});
