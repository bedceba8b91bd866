import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultConfig, type EventsConfig } from '../config/config.js';
import type { IoData, Message, SessionStart } from '../protocol/index.js';
import { readEvents, readOutputRange, SessionStore, STREAM_FILE, type SessionHandle } from '../store/index.js';
import type { Connection } from '../transport/index.js';
import { SessionManager, type LiveSession } from './sessions.js';

const NONCE = 'f00dcafe';
const ID = 'a1b2c3d4e5f6';
const mark = (body: string, nonce = NONCE): string => `\x1b]${body};omnish=${nonce}\x07`;
/** A prompt, then the command `cmd` with output `out` and exit status `exit`, as the bash integration prints it. */
const command = (cmd: string, out: string, exit: number, cwd = '/home/u'): string =>
  `${mark('133;A')}$ ${mark('133;B')}${cmd}\r\n${mark(`633;E;${cmd.replace(/;/g, '\\x3b')}`)}${mark(`633;P;Cwd=${cwd}`)}` +
  `${mark('133;C')}${out}${mark(`133;D;${exit}`)}`;

let tmp: string;
let store: SessionStore;
beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), 'omnish-commands-'));
  store = new SessionStore(join(tmp, 'sessions'));
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

/** A connection that keeps what the daemon sends. */
function fakeConn(): Connection & { sent: Message[] } {
  const sent: Message[] = [];
  const none = { dispose: () => undefined };
  return {
    sent, bufferedBytes: 0, closed: false,
    send: (m: Message) => sent.push(m) > 0, onMessage: () => none, onClose: () => none, onDrain: () => none,
    close: () => undefined, destroy: () => undefined,
  };
}

type Stored = LiveSession & { handle: SessionHandle; conn: { sent: Message[] } };

function start(manager: SessionManager, over: Partial<SessionStart> = {}): Stored {
  const msg: SessionStart = {
    type: 'SessionStart', sessionId: ID, resume: false, startedAtMs: Date.parse('2026-11-21T13:53:03Z'), shell: '/bin/bash',
    shellPid: 2, clientPid: process.pid, tty: '/dev/pts/1', cwd: '/home/u', term: 'xterm', cols: 80, rows: 24,
    hostname: 'box', nonce: NONCE, ...over,
  };
  const session = manager.start(fakeConn(), msg);
  if (!session.handle) throw new Error('the session has no files');
  return session as Stored;
}

const out = (tUs: number, text: string): IoData => ({ type: 'IoData', dir: 0, tUs, data: Buffer.from(text, 'utf8') });
const manager = (events: Partial<EventsConfig> = {}) =>
  new SessionManager(store, pino({ level: 'silent' }), { ...defaultConfig().events, ...events });
const records = (s: Stored, type = 'command') => readEvents(s.handle.dir).filter((e) => e.type === type);

describe('command records', () => {
  it('stores command line, cwd, exit status, times and output offsets', () => {
    const m = manager();
    const s = start(m);
    m.record(s, out(100, 'welcome\r\n'));
    m.record(s, { type: 'Resize', tUs: 150, cols: 100, rows: 30 });
    m.record(s, out(200, command('echo a; ls', 'a\r\nfile\r\n', 0, '/tmp/x')));
    m.record(s, out(300, command('false', '', 1)));
    m.end(s, { type: 'SessionEnd', tUs: 400, exitCode: 0, signal: null });
    const [first, second] = records(s);
    expect(first).toEqual({
      type: 'command', seq: 1, command: 'echo a; ls', cwd: '/tmp/x', startedAtUs: 200, endedAtUs: 200, exitCode: 0,
      outputStart: expect.any(Number), outputEnd: expect.any(Number), altScreen: false,
    });
    expect(second).toMatchObject({ seq: 2, command: 'false', cwd: '/home/u', exitCode: 1, startedAtUs: 300 });
    const bytes = (r: Record<string, unknown>) =>
      readOutputRange(join(s.handle.dir, STREAM_FILE), r.outputStart as number, r.outputEnd as number, s.handle.meta).data.toString();
    expect(bytes(first ?? {})).toBe('a\r\nfile\r\n');
    // meta.json keeps the size at the start; the resize record gives the command's size.
    expect(s.handle.meta).toMatchObject({ cols: 80, rows: 24 });
    const range = readOutputRange(join(s.handle.dir, STREAM_FILE), first?.outputStart as number, first?.outputEnd as number, s.handle.meta);
    expect(range).toMatchObject({ cols: 100, rows: 30 });
    expect(bytes(second ?? {})).toBe('');
  });

  it('finds marks split across chunks and times a command by the chunks holding C and D', () => {
    const m = manager();
    const s = start(m);
    const text = command('make', 'building\r\n', 2);
    const cut = [5, text.indexOf('133;C') + 2, text.indexOf('133;D') + 3];
    m.record(s, out(10, text.slice(0, cut[0])));
    m.record(s, out(20, text.slice(cut[0], cut[1])));
    m.record(s, out(30, text.slice(cut[1], cut[2])));
    m.record(s, out(40, text.slice(cut[2])));
    expect(records(s)).toEqual([expect.objectContaining({ command: 'make', exitCode: 2, startedAtUs: 30, endedAtUs: 40 })]);
  });

  it('ignores marks without the nonce, and everything without a nonce in SessionStart', () => {
    const m = manager();
    const s = start(m);
    m.record(s, out(1, command('ls', 'x', 0).replace(new RegExp(NONCE, 'g'), 'forged00')));
    m.record(s, out(2, `\x1b]133;C\x07fish\x1b]133;D;1\x07`));
    expect(records(s)).toEqual([]);
    m.end(s, { type: 'SessionEnd', tUs: 3, exitCode: 0, signal: null });
    store = new SessionStore(join(tmp, 'other'));
    const m2 = manager();
    const plain = start(m2, { nonce: undefined });
    expect(plain.commands).toBeNull();
    m2.record(plain, out(1, command('ls', 'x', 0)));
    expect(records(plain)).toEqual([]);
  });

  it('writes a command still running at the end of the session with exit status null', () => {
    const m = manager();
    const s = start(m);
    m.record(s, out(10, `${mark('633;E;exit')}${mark('133;C')}logout\r\n`));
    m.end(s, { type: 'SessionEnd', tUs: 99, exitCode: 0, signal: null });
    expect(records(s)).toEqual([expect.objectContaining({ seq: 1, command: 'exit', exitCode: null, endedAtUs: 99 })]);
  });

  it('ends a command at the next prompt when no D came, and marks alternate-screen use', () => {
    const m = manager();
    const s = start(m);
    m.record(s, out(10, `${mark('633;E;vim')}${mark('133;C')}\x1b[?1049h~\x1b[?1049l${mark('133;A')}$ `));
    expect(records(s)).toEqual([expect.objectContaining({ command: 'vim', exitCode: null, altScreen: true })]);
  });

  it('continues seq and output offsets when a session is resumed by a new daemon', () => {
    const m = manager();
    const s = start(m);
    m.record(s, out(10, command('one', '1\r\n', 0)));
    m.detach(s, 'daemon-shutdown');
    const m2 = manager();
    const r = start(m2, { resume: true });
    m2.record(r, out(20, command('two', '2\r\n', 0)));
    m2.flushAll();
    const [one, two] = records(r);
    expect(one).toMatchObject({ seq: 1, command: 'one' });
    expect(two).toMatchObject({ seq: 2, command: 'two' });
    const data = readOutputRange(join(r.handle.dir, STREAM_FILE), two?.outputStart as number, two?.outputEnd as number, r.handle.meta).data;
    expect(data.toString()).toBe('2\r\n');
  });
});

describe('events', () => {
  it('records and sends a nonzero-exit event, not for ignored statuses or commands', () => {
    const m = manager();
    const s = start(m);
    m.record(s, out(10, command('make', 'cc -o x\r\n', 2)));
    m.record(s, out(20, command('sleep 9', '^C\r\n', 130)));
    m.record(s, out(30, command('yes | head -1', 'y\r\n', 141)));
    m.record(s, out(40, command('grep -r needle .', '', 1)));
    m.record(s, out(50, command('make 2>&1 | grep warn', '', 1)));
    m.record(s, out(60, command('FOO=1 sudo -E /usr/bin/test -f x', '', 1)));
    expect(records(s, 'event')).toEqual([{ type: 'event', kind: 'nonzero-exit', seq: 1, exitCode: 2, tUs: 10 }]);
    expect(s.conn.sent).toEqual([
      { type: 'Event', sessionId: ID, kind: 'nonzero-exit', data: { seq: 1, exitCode: 2, tUs: 10, command: 'make' } },
    ]);
  });

  it('finds output patterns in coloured output, as whole words, once per command', () => {
    const m = manager({ ignoreExitCodes: [], ignoreCommands: ['grep'] });
    const s = start(m);
    m.record(s, out(10, command('cc x.c', 'x.c:1:1: \x1b[1;31merror:\x1b[0m expected ;\r\nx.c:2: error: again\r\n', 0)));
    m.record(s, out(20, command('make', 'Compiled, 0 errors, -Werror on\r\n', 0)));
    m.record(s, out(30, command('grep -r error .', 'src/a.ts: error here\r\n', 0)));
    m.record(s, out(40, command('./run', `ok\r\n${'x'.repeat(300)} Segmentation   fault ${'y'.repeat(300)}\r\n`, 139)));
    const events = records(s, 'event');
    expect(events[0]).toEqual({ type: 'event', kind: 'output-pattern', seq: 1, pattern: 'error', match: 'x.c:1:1: error: expected ;', exitCode: 0, tUs: 10 });
    expect(events.slice(1).map((e) => [e.kind, e.seq])).toEqual([['nonzero-exit', 4], ['output-pattern', 4]]);
    expect(events[2]?.pattern).toBe('segmentation fault');
    expect((events[2]?.match as string).length).toBeLessThanOrEqual(200);
    expect(events[2]?.match).toContain('Segmentation   fault');
  });

  it('applies user rules with command and exit-status conditions, even to ignored commands', () => {
    const m = manager({
      outputPatterns: [],
      rules: [
        { name: 'oom', pattern: 'out of memory' },
        { name: 'make failed', pattern: '^make: \\*\\*\\*', command: '^make\\b', exitCodes: [2] },
      ],
    });
    const s = start(m);
    m.record(s, out(10, command('make', 'make: *** [all] Error 1\r\n', 2)));
    m.record(s, out(20, command('make', 'make: *** [all] Error 1\r\n', 1)));
    m.record(s, out(30, command('grep x log', 'java: Out Of Memory\r\n', 1)));
    const rules = records(s, 'event').filter((e) => e.kind === 'rule');
    expect(rules).toEqual([
      { type: 'event', kind: 'rule', seq: 1, name: 'make failed', pattern: '^make: \\*\\*\\*', match: 'make: *** [all] Error 1', exitCode: 2, tUs: 10 },
      expect.objectContaining({ seq: 3, name: 'oom', match: 'java: Out Of Memory' }),
    ]);
  });

  it('judges nothing a full-screen program did', () => {
    const m = manager();
    const s = start(m);
    m.record(s, out(10, command('vim x', '\x1b[?1049hE492: Not an editor command: error\x1b[?1049l', 1)));
    expect(records(s)).toHaveLength(1);
    expect(records(s, 'event')).toEqual([]);
    expect(s.conn.sent).toEqual([]);
  });
});

describe('CommandTracker heads (the search index keeps a command\'s head and tail)', () => {
  it('gives each command its first INDEX_HEAD_BYTES, whether C and D share a chunk or not', async () => {
    const { CommandTracker } = await import('./commands.js');
    const { INDEX_HEAD_BYTES } = await import('../search/text.js');
    const t = new CommandTracker(NONCE);
    const [small] = t.output(1, Buffer.from(command('echo hi', 'hi\r\n', 0)));
    expect(small?.head.toString()).toBe('hi\r\n');
    const big = 'x'.repeat(INDEX_HEAD_BYTES + 5000);
    expect(t.output(2, Buffer.from(`${command('cat big', '', 0).split(mark('133;C'))[0]}${mark('133;C')}ab`))).toEqual([]);
    const [done] = t.output(3, Buffer.from(`${big}${mark('133;D;0')}`));
    expect(done?.head.length).toBe(INDEX_HEAD_BYTES);
    expect(done?.head.subarray(0, 4).toString()).toBe('abxx');
    expect(done?.output.subarray(-4).toString()).toBe('xxxx');
  });
});
