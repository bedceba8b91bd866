import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StoreError, UsageError } from '../common/errors.js';
import { THREAD_FORMAT_VERSION, ThreadStore, newThreadId, pruneThreads, type ThreadRecord } from './threads.js';

const NOW = Date.parse('2026-06-01T00:00:00Z');
const DAY = 86_400_000;

let tmp: string;
let store: ThreadStore;
beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), 'omnish-threads-'));
  store = new ThreadStore(join(tmp, 'data', 'threads'));
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

/** A thread of `session` last updated `daysAgo` days before NOW. */
function thread(id: string, session: string | null, daysAgo = 0, extra: Partial<ThreadRecord> = {}): ThreadRecord {
  const at = new Date(NOW - daysAgo * DAY).toISOString();
  return {
    formatVersion: THREAD_FORMAT_VERSION, id, session, kind: 'ask', createdAt: at, updatedAt: at, backend: 'claude', model: 'm',
    turns: [{ role: 'user', content: 'context\n\nQuestion: why?', question: 'why?', at }, { role: 'assistant', content: 'because', at, backend: 'claude', model: 'm' }],
    ...extra,
  };
}

describe('ThreadStore', () => {
  it('saves a thread 0600 in a 0700 directory it creates, and reads it back', () => {
    const t = thread(newThreadId(), 'abc123');
    store.save(t);
    expect(statSync(store.root).mode & 0o777).toBe(0o700);
    expect(statSync(store.path(t.id)).mode & 0o777).toBe(0o600);
    expect(store.get(t.id)).toEqual(t);
    expect(readdirSync(store.root)).toEqual([`${t.id}.json`]);
  });

  it('replaces a thread atomically: a write that fails leaves the old version and no debris', () => {
    const t = thread('0000000a', 's1');
    store.save(t);
    const before = readFileSync(store.path(t.id), 'utf8');
    // A value JSON cannot serialize makes the write throw after the temporary file was opened.
    const broken = { ...t, turns: [...t.turns, { role: 'user', content: 'x', at: 'now', big: 1n }] } as unknown as ThreadRecord;
    expect(() => store.save(broken)).toThrow(StoreError);
    expect(readFileSync(store.path(t.id), 'utf8')).toBe(before);
    expect(readdirSync(store.root)).toEqual([`${t.id}.json`]);
    // A new version replaces the file whole: the reader sees one or the other.
    store.save({ ...t, updatedAt: new Date(NOW + 1000).toISOString(), turns: [...t.turns, ...t.turns] });
    expect(store.get(t.id)?.turns).toHaveLength(4);
  });

  it('lists newest first, skipping files that are not threads', () => {
    store.save(thread('00000001', 's1', 3));
    store.save(thread('00000002', 's2', 1));
    store.save(thread('00000003', 's1', 2));
    writeFileSync(join(store.root, '0000000f.json'), '{"formatVersion": 1, "id": "broken"');
    writeFileSync(join(store.root, 'notes.txt'), 'hello');
    expect(store.list().map((t) => t.id)).toEqual(['00000002', '00000003', '00000001']);
    expect(store.latest('s1')?.id).toBe('00000003');
    expect(store.latest()?.id).toBe('00000002');
    expect(store.latest('nope')).toBeUndefined();
  });

  it('lists nothing before the directory exists', () => {
    expect(store.list()).toEqual([]);
    expect(store.latest()).toBeUndefined();
  });

  it('resolves an id or a unique prefix, with one-line errors otherwise', () => {
    store.save(thread('ab000001', 's1'));
    store.save(thread('ab000002', 's1'));
    store.save(thread('cd000003', 's1'));
    expect(store.resolve('CD').id).toBe('cd000003');
    expect(store.resolve('ab000002').id).toBe('ab000002');
    expect(() => store.resolve('ab')).toThrow(/ambiguous: ab000001, ab000002/);
    expect(() => store.resolve('ef')).toThrow(UsageError);
    expect(() => store.resolve('zz\x1b[2J')).toThrow(/is not a thread id/);
    expect(() => store.resolve('zz\x1b[2J')).not.toThrow(/\x1b/);
  });

  it('removes a thread; removing a missing one says so', () => {
    store.save(thread('00000001', 's1'));
    expect(store.remove('00000001')).toBe(true);
    expect(store.remove('00000001')).toBe(false);
    expect(store.list()).toEqual([]);
  });
});

describe('pruneThreads', () => {
  it('deletes threads of sessions that are gone and those older than max_age_days, and debris', () => {
    store.save(thread('00000001', 'live', 1));
    store.save(thread('00000002', 'gone', 1));
    store.save(thread('00000003', 'live', 41));
    store.save(thread('00000004', null, 40));
    store.save(thread('00000005', null, 1));
    store.save(thread('00000006', 'live', 50));
    writeFileSync(join(store.root, '.00000001.json.1.ab.tmp'), '{');
    const opts = { sessionIds: new Set(['live']), maxAgeDays: 30, now: () => NOW, busy: new Set(['00000006']) };
    const dry = pruneThreads(store, { ...opts, dryRun: true });
    expect(store.list()).toHaveLength(6);
    const done = pruneThreads(store, opts);
    expect(done).toEqual(dry);
    expect(done).toEqual([{ id: '00000003', reason: 'age' }, { id: '00000004', reason: 'age' }, { id: '00000002', reason: 'session' }]);
    expect(store.list().map((t) => t.id).sort()).toEqual(['00000001', '00000005', '00000006']);
    expect(readdirSync(store.root).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('keeps threads regardless of age when max_age_days is 0', () => {
    store.save(thread('00000001', 'live', 4000));
    expect(pruneThreads(store, { sessionIds: new Set(['live']), maxAgeDays: 0, now: () => NOW })).toEqual([]);
  });
});
