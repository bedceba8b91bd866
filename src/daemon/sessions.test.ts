import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { IoData, Message, SessionStart } from '../protocol/index.js';
import { readStream, RecordKind, SessionStore, STREAM_FILE } from '../store/index.js';
import type { Connection } from '../transport/index.js';
import { OPEN_RETRY_MS, RECONNECT_REASON, SessionManager } from './sessions.js';
import { LOG_INTERVAL_MS, QUIET_MS, StoreHealth } from './store-health.js';

let tmp: string;
beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), 'omnish-sessions-'));
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

function fakeConn(closed = false): Connection & { destroyed: boolean; closed: boolean } {
  const none = { dispose: () => undefined };
  const conn = {
    bufferedBytes: 0, closed, destroyed: false,
    send: (_m: Message) => true, onMessage: () => none, onClose: () => none, onDrain: () => none,
    close: () => undefined, destroy: () => void (conn.destroyed = true),
  };
  return conn;
}

const hello = (over: Partial<SessionStart> = {}): SessionStart => ({
  type: 'SessionStart', sessionId: 'a1b2c3d4e5f6', resume: false, startedAtMs: Date.parse('2026-11-21T13:53:03Z'), shell: '/bin/bash',
  shellPid: 2, clientPid: 1000, tty: '/dev/pts/1', cwd: '/home/u', term: 'xterm', cols: 80, rows: 24, hostname: 'box', ...over,
});
const out = (tUs: number, text: string): IoData => ({ type: 'IoData', dir: 0, tUs, data: Buffer.from(text) });

/** A logger that keeps its lines. */
function memoryLog(): { log: pino.Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const log = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
  return { log, lines };
}

describe('SessionManager', () => {
  it('refuses a second connection for a live session, but not its own client coming back, nor after the first closed', () => {
    const m = new SessionManager(new SessionStore(join(tmp, 'sessions')), pino({ level: 'silent' }));
    const first = fakeConn();
    const live = m.start(first, hello());
    expect(m.refusal(hello({ resume: true, clientPid: 2000 }))).toBe('session a1b2c3d4e5f6 is live on another connection');
    expect(m.refusal(hello({ sessionId: 'b1b2c3d4e5f6', clientPid: 2000 }))).toBeUndefined();
    // Its own client whose old connection this daemon has not seen close yet: that one is taken over.
    expect(m.refusal(hello({ resume: true }))).toBeUndefined();
    const again = m.start(fakeConn(), hello({ resume: true }));
    expect(first.destroyed).toBe(true);
    m.record(live, out(1, 'late, from the dead connection')); // ignored, not an error
    m.record(again, out(2, 'kept'));
    m.end(again, { type: 'SessionEnd', tUs: 3, exitCode: 0, signal: null });
    const dir = new SessionStore(join(tmp, 'sessions')).resolve('a1b2').dir;
    const texts = [...readStream(join(dir, STREAM_FILE))].flatMap((r) => (r.kind === RecordKind.Output ? [r.data.toString()] : []));
    expect(texts).toEqual(['kept']);
    expect(m.refusal(hello({ resume: true, clientPid: 2000 }))).toBeUndefined(); // ended
    const closed = fakeConn();
    m.start(closed, hello({ sessionId: 'c1b2c3d4e5f6' }));
    closed.closed = true; // what a real connection says once it is closing
    expect(m.refusal(hello({ sessionId: 'c1b2c3d4e5f6', resume: true, clientPid: 2000 }))).toBeUndefined();
  });

  it('keeps a session whose directory cannot be created, counts what it gets, and stores it with a gap once it can', () => {
    const root = join(tmp, 'sessions');
    writeFileSync(root, 'not a directory'); // mkdir fails (ENOTDIR), as on a read-only or full disk
    const clock = { ms: 1_000_000 };
    const m = new SessionManager(new SessionStore(root), pino({ level: 'silent' }), undefined, () => clock.ms);
    const s = m.start(fakeConn(), hello());
    expect(s.handle).toBeNull();
    m.record(s, out(10, 'lost one '));
    m.record(s, { type: 'Resize', tUs: 11, cols: 100, rows: 30 });
    m.record(s, out(12, 'lost two'));
    expect(m.health.report().problem).toMatchObject({ lostBytes: 17, failures: 1, error: expect.stringMatching(/ENOTDIR/) });
    rmSync(root);
    m.flushAll(); // too early: the next try is OPEN_RETRY_MS after the last
    expect(s.handle).toBeNull();
    clock.ms += OPEN_RETRY_MS;
    m.flushAll();
    expect(s.handle).not.toBeNull();
    m.record(s, out(20, 'stored'));
    m.end(s, { type: 'SessionEnd', tUs: 21, exitCode: 0, signal: null });
    const records = [...readStream(join(s.handle?.dir ?? '', STREAM_FILE))];
    expect(records).toEqual([
      { kind: RecordKind.Gap, tUs: 12, lostBytes: 17, reason: 'store write failed' },
      { kind: RecordKind.Resize, tUs: 12, cols: 100, rows: 30 },
      { kind: RecordKind.Output, tUs: 20, data: Buffer.from('stored') },
      { kind: RecordKind.Exit, tUs: 21, exitCode: 0, signal: null },
    ]);
    clock.ms += QUIET_MS;
    expect(m.health.report()).toMatchObject({ problem: null, lastProblem: { lostBytes: 17, untilMs: clock.ms } });
  });
});

describe('a resumed session', () => {
  /** A session that recorded `before`, then lost its connection without a SessionEnd (a daemon restart). */
  function interrupted(m: SessionManager, before: string[]): void {
    const s = m.start(fakeConn(), hello());
    before.forEach((text, i) => m.record(s, out(i + 1, text)));
    m.record(s, { type: 'Gap', tUs: 9, lostBytes: 5, reason: 'client buffer full' });
    m.detach(s, 'daemon-shutdown');
  }
  const streamOf = (m: SessionManager): unknown[] => [...readStream(join(m.store.resolve('a1b2').dir, STREAM_FILE))];

  it('gets a gap where it was interrupted, counting what its client sent that the stream lacks', () => {
    const m = new SessionManager(new SessionStore(join(tmp, 'sessions')), pino({ level: 'silent' }));
    interrupted(m, ['abc', 'defg']);
    // Stored: 7 output bytes and a gap of 5. The client sent 12 + 30 that never arrived.
    const s = m.start(fakeConn(), hello({ resume: true, sentBytes: 12 + 30 }));
    m.record(s, out(20, 'later'));
    m.flushAll();
    expect(streamOf(m).slice(3)).toEqual([
      { kind: RecordKind.Gap, tUs: 9, lostBytes: 30, reason: RECONNECT_REASON },
      { kind: RecordKind.Output, tUs: 20, data: Buffer.from('later') },
    ]);
  });

  it('gets a gap of 0 bytes when nothing was lost, and none from a client that does not count', () => {
    const m = new SessionManager(new SessionStore(join(tmp, 'sessions')), pino({ level: 'silent' }));
    interrupted(m, ['abc']);
    m.detach(m.start(fakeConn(), hello({ resume: true, sentBytes: 8 })), 'client-lost');
    m.detach(m.start(fakeConn(), hello({ resume: true })), 'client-lost'); // an older client: no sentBytes
    expect(streamOf(m).slice(2)).toEqual([{ kind: RecordKind.Gap, tUs: 9, lostBytes: 0, reason: RECONNECT_REASON }]);
  });

  it('gets no such gap when it had to start over in a new directory', () => {
    const m = new SessionManager(new SessionStore(join(tmp, 'sessions')), pino({ level: 'silent' }));
    const s = m.start(fakeConn(), hello({ resume: true, sentBytes: 1000 })); // its directory is gone
    m.record(s, out(1, 'x'));
    m.flushAll();
    expect(streamOf(m)).toEqual([{ kind: RecordKind.Output, tUs: 1, data: Buffer.from('x') }]);
  });
});

describe('StoreHealth', () => {
  it('logs the first failure, a new error, one line per interval with a count, and the end', () => {
    const { log, lines } = memoryLog();
    const clock = { ms: 0 };
    const h = new StoreHealth(log, () => clock.ms);
    const enospc = Object.assign(new Error('cannot write x: ENOSPC: no space left on device'), { code: 'ENOSPC' });
    for (let i = 0; i < 1000; i++) {
      clock.ms += 100;
      h.failed('s1', enospc);
      h.lost('s1', 4096);
      h.tick();
    }
    expect(lines.map((l) => l.msg)).toEqual([
      'store write failed; recording goes on, with a gap for what is lost',
      'store writes still failing',
    ]);
    expect(lines[1]).toMatchObject({ repeats: LOG_INTERVAL_MS / 100, failures: LOG_INTERVAL_MS / 100 + 1 });
    h.failed('s1', Object.assign(new Error('cannot write x: EROFS: read-only file system'), { code: 'EROFS' }));
    expect(h.report().problem).toMatchObject({ error: 'EROFS: read-only file system', code: 'EROFS', sinceMs: 100, lostBytes: 4096_000 });
    h.written('s1');
    clock.ms += QUIET_MS - 1;
    h.tick();
    expect(h.report().problem).not.toBeNull(); // not quiet long enough yet
    clock.ms += 1;
    h.tick();
    expect(h.report()).toMatchObject({ problem: null, lastProblem: { error: 'EROFS: read-only file system', lostBytes: 4096_000, failures: 1001 } });
    expect(lines.map((l) => l.msg).slice(2)).toEqual(['store write failed with a new error', 'store writable again']);
  });
});
