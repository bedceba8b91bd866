/**
 * The daemon's indexer in this thread (the worker runs the same class): catch-up from the store at
 * start, live commands, retention, and a damaged file replaced. Waits poll with deadlines.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SessionStore, type SessionHandle } from '../store/index.js';
import { runSearch, SearchIndex } from '../search/index.js';
import { waitUntil } from '../../test/helpers/wait.js';
import { Indexer } from './indexer.js';

let tmp: string;
let store: SessionStore;
beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), 'omnish-indexer-'));
  store = new SessionStore(join(tmp, 'sessions'));
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

const silent = pino({ level: 'silent' });

function session(id: string, words: string[]): SessionHandle {
  const h = store.create({ id, hostname: 'box', pid: 1, clientPid: 1, tty: '/dev/pts/1', shell: '/bin/bash', cwd: '/', term: 'xterm', cols: 80, rows: 24 });
  let offset = 0;
  words.forEach((w, i) => {
    const out = Buffer.from(`${w}\r\n`);
    h.stream.output(1000 * (i + 1), out);
    h.appendEvent({ type: 'command', seq: i + 1, command: `echo ${w}`, cwd: '/', startedAtUs: 1000 * (i + 1), endedAtUs: 1000 * (i + 1) + 10, exitCode: 0, outputStart: offset, outputEnd: offset + out.length, altScreen: false });
    offset += out.length;
  });
  h.stream.flush();
  return h;
}

/** Waits until `query` finds `n` commands in the index at `path` (opened read-only, as omnish search does). */
async function found(path: string, query: string, n: number): Promise<void> {
  const index = await SearchIndex.open(path, { readOnly: true });
  try {
    await waitUntil(() => runSearch(index, { query }).hits.length === n, () => `${n} hits for ${query}, got ${runSearch(index, { query }).hits.length}`);
  } finally {
    index.close();
  }
}

describe('Indexer', () => {
  it('catches up from the store, adds live commands, follows retention', async () => {
    session('aaaa00000001', ['lynx', 'ocelot']).end(0, null, 'exit', 5000);
    const path = join(tmp, 'search.db');
    const indexer = new Indexer(path, store, silent);
    await indexer.start();
    await indexer.idle();
    expect(indexer.status()).toMatchObject({ state: 'ready', commands: 2, sessions: 1 });
    const live = session('bbbb00000002', []);
    const record = { type: 'command' as const, seq: 1, command: 'echo caracal', cwd: '/', startedAtUs: 1, endedAtUs: 2, exitCode: 0, outputStart: 0, outputEnd: 8, altScreen: false };
    indexer.add(live.meta, { record, head: Buffer.from('caracal\n'), output: Buffer.from('caracal\n') });
    await found(path, 'caracal', 1);
    // Retention deletes the directory, then tells the indexer.
    rmSync(store.resolve('aaaa00000001').dir, { recursive: true });
    indexer.retained({ freedBytes: 1, evicted: [{ id: 'aaaa00000001', reason: 'age', bytes: 1 }], trimmed: [], totalBytesBefore: 2, totalBytesAfter: 1, errors: [] });
    await found(path, 'lynx OR ocelot', 0);
    await indexer.close();
  });

  it('replaces a damaged file and rebuilds it from the store', async () => {
    session('cccc00000003', ['serval']).end(0, null, 'exit', 5000);
    const path = join(tmp, 'search.db');
    writeFileSync(path, Buffer.alloc(8192, 'not sqlite '));
    const indexer = new Indexer(path, store, silent);
    await indexer.start();
    await indexer.idle();
    await found(path, 'serval', 1);
    expect((await indexer.rebuild()).commands).toBe(1);
    await indexer.close();
  });
});
