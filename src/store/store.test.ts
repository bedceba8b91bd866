import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StoreError, UsageError } from '../common/errors.js';
import { RecordKind } from './format.js';
import type { NewSessionMeta } from './meta.js';
import { readStream } from './reader.js';
import { SessionStore, sessionDirName } from './store.js';

let tmp: string;
let store: SessionStore;
beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), 'omnish-store-'));
  store = new SessionStore(join(tmp, 'sessions'));
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

function newMeta(id: string, startedAt = '2026-11-21T13:53:03.123Z'): NewSessionMeta {
  return { id, hostname: 'box', pid: 10, clientPid: 9, tty: '/dev/pts/1', shell: '/bin/bash', cwd: '/', term: 'xterm',
    cols: 80, rows: 24, startedAt };
}

/** Creates an ended session; returns its dir. */
function session(id: string, startedAt: string): string {
  const h = store.create(newMeta(id, startedAt));
  h.end(0, null, 'exit');
  return h.dir;
}

function expectUsage(fn: () => unknown, message: string | RegExp): void {
  expect(fn).toThrow(UsageError);
  expect(fn).toThrow(message);
}

describe('SessionStore.create', () => {
  it('makes <ISO basic UTC>_<id>/ with private meta.json, stream.bin and events.jsonl', () => {
    const h = store.create(newMeta('a1b2c3d4e5f6'));
    expect(h.dir).toBe(join(tmp, 'sessions', '20261121T135303Z_a1b2c3d4e5f6'));
    expect(sessionDirName('a1b2c3d4e5f6', '2026-11-21T13:53:03.999Z')).toBe('20261121T135303Z_a1b2c3d4e5f6');
    expect(readdirSync(h.dir).sort()).toEqual(['events.jsonl', 'meta.json', 'stream.bin']);
    expect(statSync(join(tmp, 'sessions')).mode & 0o777).toBe(0o700);
    expect(statSync(h.dir).mode & 0o777).toBe(0o700);
    for (const f of readdirSync(h.dir)) expect(statSync(join(h.dir, f)).mode & 0o777).toBe(0o600);
    expect(h.meta).toMatchObject({ id: 'a1b2c3d4e5f6', active: true, endedAt: null, endReason: null, formatVersion: 1 });
    const local = store.create(newMeta('0123456789ab', '2026-11-21T14:53:03+01:00'));
    expect(local.meta.startedAt).toBe('2026-11-21T13:53:03.000Z');
    expect(local.dir).toMatch(/20261121T135303Z_0123456789ab$/);
    local.end(null, null, 'client-lost');
    h.end(null, null, 'daemon-shutdown');
  });

  it('refuses a bad id or a duplicate, leaving nothing behind', () => {
    expect(() => store.create(newMeta('A1B2C3'))).toThrow(StoreError);
    expect(() => store.create(newMeta('a1b'))).toThrow(/invalid session id/);
    expect(() => store.create(newMeta('../../etc'))).toThrow(StoreError);
    session('a1b2c3', '2026-01-01T00:00:00Z');
    expect(() => store.create(newMeta('a1b2c3', '2026-01-02T00:00:00Z'))).toThrow(/already exists/);
    expect(readdirSync(join(tmp, 'sessions'))).toHaveLength(1);
  });
});

describe('SessionHandle.end', () => {
  it('on exit: writes the exit record after the data and marks meta ended', () => {
    const h = store.create(newMeta('abcdef'));
    h.stream.output(5, Buffer.from('bye\r\n'));
    h.appendEvent({ type: 'event', kind: 'nonzero-exit', seq: 1, exitCode: 3, tUs: 5 });
    const meta = h.end(3, null, 'exit', 7);
    expect(meta).toMatchObject({ active: false, exitCode: 3, signal: null, endReason: 'exit' });
    expect(store.resolve('abcdef')).toMatchObject({ active: false, exitCode: 3 });
    expect([...readStream(join(h.dir, 'stream.bin'))]).toEqual([
      { kind: RecordKind.Output, tUs: 5, data: Buffer.from('bye\r\n') },
      { kind: RecordKind.Exit, tUs: 7, exitCode: 3, signal: null },
    ]);
    expect(h.end(0, null, 'exit')).toBe(meta); // a second end changes nothing
  });

  it('on daemon shutdown: no exit record, and the session can be resumed', () => {
    const h = store.create(newMeta('abcdef'));
    h.stream.output(1, Buffer.from('one '));
    h.end(null, null, 'daemon-shutdown');
    expect(store.list()[0]).toMatchObject({ active: false, endReason: 'daemon-shutdown' });

    const resumed = store.openExisting('abcdef');
    expect(resumed.meta).toMatchObject({ active: true, endReason: null, endedAt: null });
    resumed.stream.output(2, Buffer.from('two'));
    resumed.end(0, null, 'exit', 3);
    const records = [...readStream(join(h.dir, 'stream.bin'))];
    expect(records.map((r) => r.kind)).toEqual([RecordKind.Output, RecordKind.Output, RecordKind.Exit]);
    expect(() => store.openExisting('abcdef')).toThrow(/has exited/);
    expect(() => store.openExisting('abcdef00')).toThrow(/no session with id/);
  });
});

describe('SessionStore.list', () => {
  it('lists newest first and skips directories it cannot read', () => {
    expect(store.list()).toEqual([]); // no sessions directory yet
    session('aaaaaa', '2026-03-01T10:00:00Z');
    session('cccccc', '2026-05-01T10:00:00Z');
    session('bbbbbb', '2026-04-01T10:00:00Z');
    mkdirSync(join(tmp, 'sessions', '20260601T000000Z_dddddd')); // crashed during create: no meta
    mkdirSync(join(tmp, 'sessions', '20260601T000000Z_eeeeee'));
    writeFileSync(join(tmp, 'sessions', '20260601T000000Z_eeeeee', 'meta.json'), '{garbage');
    mkdirSync(join(tmp, 'sessions', 'not-a-session'));
    writeFileSync(join(tmp, 'sessions', 'README'), 'hi');
    const listed = store.list();
    expect(listed.map((s) => s.id)).toEqual(['cccccc', 'bbbbbb', 'aaaaaa']);
    expect(listed[0]?.dir).toBe(join(tmp, 'sessions', '20260501T100000Z_cccccc'));
  });
});

describe('SessionStore.resolve', () => {
  beforeEach(() => {
    session('a1b2c3d4e5f6', '2026-11-21T13:53:03Z');
    session('a1ff00112233', '2026-11-22T08:00:00Z');
    session('b2c3d4', '2026-11-20T00:00:00Z');
    session('b2c3d4e5f6a7', '2026-11-19T00:00:00Z');
  });

  it('finds a session by a unique prefix, any case', () => {
    expect(store.resolve('a1b').id).toBe('a1b2c3d4e5f6');
    expect(store.resolve('A1F').id).toBe('a1ff00112233');
    expect(store.resolve('a1b').dir).toBe(join(tmp, 'sessions', '20261121T135303Z_a1b2c3d4e5f6'));
  });

  it('finds a full id even when it is also the prefix of a longer one', () => {
    expect(store.resolve('a1b2c3d4e5f6').id).toBe('a1b2c3d4e5f6');
    expect(store.resolve('b2c3d4').id).toBe('b2c3d4');
    expect(store.resolve('b2c3d4e').id).toBe('b2c3d4e5f6a7');
  });

  it('names the candidates of an ambiguous prefix, newest first', () => {
    expectUsage(() => store.resolve('a1'),
      "'a1' is ambiguous: a1ff00112233 (started 2026-11-22 08:00:00 UTC), a1b2c3d4e5f6 (started 2026-11-21 13:53:03 UTC)");
  });

  it('says "and N more" past five candidates', () => {
    for (let i = 0; i < 6; i++) session(`c0${i}000`, `2026-01-0${i + 1}T00:00:00Z`);
    expectUsage(() => store.resolve('c0'), /^'c0' is ambiguous: c05000 .*c01000 \(started 2026-01-02 00:00:00 UTC\), and 1 more$/);
  });

  it('rejects no match, an empty prefix and non-hex input with one clear line', () => {
    expectUsage(() => store.resolve('ff'), "no session matches 'ff'");
    expectUsage(() => store.resolve(''), 'no session id given');
    expectUsage(() => store.resolve('zz'), "'zz' is not a session id (ids are hex: 0-9, a-f)");
    expectUsage(() => store.resolve('a1\x1b[2J'), "'a1\\u{1b}[2J' is not a session id");
  });
});
