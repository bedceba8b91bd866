/**
 * The index module on the binding this Node has (better-sqlite3 on Node 20, node:sqlite on 24):
 * adding, searching with every filter, removing, the store → index path, and damaged files.
 */
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SessionStore } from '../store/store.js';
import { IndexCorruptError, SearchIndex, type IndexedCommand } from './db.js';
import { parseExit, parseWhen } from './filters.js';
import { sessionCommands } from './from-store.js';
import { queryTerms, runSearch } from './search.js';
import { flattenOutput, INDEX_HEAD_BYTES, INDEX_TAIL_BYTES, indexedText } from './text.js';

let tmp: string;
let index: SearchIndex;
beforeEach(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'omnish-search-'));
  index = await SearchIndex.open(join(tmp, 'search.db'));
});
afterEach(() => {
  index.close();
  rmSync(tmp, { recursive: true, force: true });
});

const T0 = Date.parse('2026-11-20T10:00:00Z');
function cmd(over: Partial<IndexedCommand>): IndexedCommand {
  return {
    session: 'aaaa00000001', seq: 1, host: 'box', shell: '/bin/bash', cwd: '/home/me/src', command: 'make',
    exitCode: 0, startedAtMs: T0, endedAtMs: T0 + 1000, outputBytes: 10, omittedBytes: 0, altScreen: false, text: '', ...over,
  };
}

function seqs(q: Parameters<typeof runSearch>[1]): string[] {
  return runSearch(index, q).hits.map((h) => `${h.session.slice(-1)}:${h.seq}`);
}

describe('search', () => {
  beforeEach(() => {
    index.add([
      cmd({ seq: 1, command: 'make -j4', text: 'cc -c main.c\nsrc/x.c:12:5: error: expected \';\'', exitCode: 2, endedAtMs: T0 + 1000 }),
      cmd({ seq: 2, command: 'ls -la', text: 'total 12\ndrwxr-xr-x main.c README.md', endedAtMs: T0 + 2000, cwd: '/home/me/src/lib' }),
      cmd({ seq: 3, command: 'npm test', text: 'FAIL test/a.test.ts\nTypeError: Cannot read properties of undefined', exitCode: 1, endedAtMs: T0 + 3000, cwd: '/home/me/other' }),
      cmd({ session: 'bbbb00000002', host: 'other', seq: 1, command: 'grep error log.txt', text: 'no errors today', endedAtMs: T0 + 86_400_000 }),
    ]);
  });

  it('finds commands by words of their output, newest first', () => {
    expect(seqs({ query: 'main' })).toEqual(['1:2', '1:1']);
    expect(seqs({ query: 'typeerror' })).toEqual(['1:3']);
    expect(seqs({ query: '"expected"' })).toEqual(['1:1']);
  });

  it('speaks FTS5: phrases, prefixes, OR, NOT, and quotes what is not valid syntax', () => {
    expect(seqs({ query: '"cannot read properties"' })).toEqual(['1:3']);
    expect(seqs({ query: 'err*' })).toEqual(['2:1', '1:1']);
    expect(seqs({ query: 'typeerror OR readme' })).toEqual(['1:3', '1:2']);
    expect(seqs({ query: 'main NOT drwxr' })).toEqual(['1:1']);
    expect(seqs({ query: 'src/x.c:12' })).toEqual(['1:1']);
    expect(() => runSearch(index, { query: '"unterminated' })).not.toThrow();
  });

  it('filters by exit, cwd (and below), here, host, session, time, column', () => {
    expect(seqs({ exit: 'nonzero' })).toEqual(['1:3', '1:1']);
    expect(seqs({ exit: 2 })).toEqual(['1:1']);
    expect(seqs({ query: 'main', cwd: '/home/me/src' })).toEqual(['1:2', '1:1']);
    expect(seqs({ cwd: '/home/me/src/lib' })).toEqual(['1:2']);
    expect(seqs({ cwd: '/home/me/sr' })).toEqual([]);
    expect(seqs({ cwdExact: '/home/me/src' })).toEqual(['2:1', '1:1']);
    expect(seqs({ host: 'other' })).toEqual(['2:1']);
    expect(seqs({ session: 'bbbb' })).toEqual(['2:1']);
    expect(seqs({ sinceMs: T0 + 2000 })).toEqual(['2:1', '1:3', '1:2']);
    expect(seqs({ untilMs: T0 + 2000 })).toEqual(['1:1']);
    expect(seqs({ query: 'error', in: 'command' })).toEqual(['2:1']);
    expect(seqs({ query: 'error', in: 'output' })).toEqual(['1:1']);
    expect(seqs({ limit: 2 })).toEqual(['2:1', '1:3']);
  });

  it('keeps commands that end within one rowid slot apart, in order, with exact time filters', () => {
    // 40 commands within 100 ms: the 1/16 s slots overflow into the next ones (db.ts rowidSlot).
    const burst = Array.from({ length: 40 }, (_, i) => cmd({ session: 'cccc00000003', seq: i + 1, text: `burst ${i}`, endedAtMs: T0 + 5000 + i * 2.5 }));
    index.add(burst);
    const hits = runSearch(index, { query: 'burst', limit: 100 }).hits;
    expect(hits.map((h) => h.seq)).toEqual(burst.map((c) => c.seq).reverse());
    // The bumped rows are still found by their own end times, to the ms.
    expect(runSearch(index, { query: 'burst', sinceMs: T0 + 5000 + 30 * 2.5, limit: 100 }).hits.map((h) => h.seq)).toEqual([40, 39, 38, 37, 36, 35, 34, 33, 32, 31]);
    expect(runSearch(index, { query: 'burst', untilMs: T0 + 5000 + 3 * 2.5, limit: 100 }).hits.map((h) => h.seq)).toEqual([3, 2, 1]);
  });

  it('gives the space of removed sessions back to the file system', () => {
    const big = Array.from({ length: 200 }, (_, i) => cmd({ session: 'dddd00000004', seq: i + 1, text: `${'lorem ipsum dolor '.repeat(200)} ${i}`, endedAtMs: T0 + 10_000 + i * 1000 }));
    index.add(big);
    const path = join(tmp, 'search.db');
    const size = (): number => {
      index.db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
      return statSync(path).size;
    };
    const full = size();
    index.removeSessions(['dddd00000004']);
    expect(index.compact({ merge: true })).toBeGreaterThan(0);
    expect(size()).toBeLessThan(full / 2);
    expect(seqs({ query: 'lorem' })).toEqual([]);
    expect(seqs({ query: 'main' })).toEqual(['1:2', '1:1']);
  });

  it('orders by rank on request, the command line weighing more', () => {
    expect(seqs({ query: 'error', order: 'rank' })[0]).toBe('2:1');
  });

  it('gives a one-line snippet with the matches marked, and where the command line matched', () => {
    const [hit] = runSearch(index, { query: 'expected' }).hits;
    expect(hit?.snippet).toBe("src/x.c:12:5: error: expected ';'");
    expect(hit?.matches.map(([a, b]) => hit.snippet.slice(a, b))).toEqual(['expected']);
    const [g] = runSearch(index, { query: 'grep' }).hits;
    expect(g?.commandMatches).toEqual([[0, 4]]);
    expect(g?.snippet).toBe('no errors today');
  });

  it('replaces a command indexed again, and removes sessions', () => {
    index.add([cmd({ seq: 2, command: 'ls', text: 'nothing here', endedAtMs: T0 + 2000 })]);
    expect(seqs({ query: 'readme' })).toEqual([]);
    expect(seqs({ query: 'nothing' })).toEqual(['1:2']);
    expect(index.removeSessions(['aaaa00000001'])).toBe(3);
    expect(seqs({})).toEqual(['2:1']);
    expect(seqs({ query: 'typeerror' })).toEqual([]);
    expect(index.indexedSeqs()).toEqual(new Map([['bbbb00000002', 1]]));
  });
});

describe('the file', () => {
  it('is owner-only', () => {
    expect(statSync(index.path).mode & 0o777).toBe(0o600);
  });

  it('read-only opening refuses a missing file, and a damaged one is IndexCorruptError', async () => {
    await expect(SearchIndex.open(join(tmp, 'none.db'), { readOnly: true })).rejects.toThrow();
    const bad = join(tmp, 'bad.db');
    writeFileSync(bad, 'this is not a database, just text long enough to be a header '.repeat(100));
    await expect(SearchIndex.open(bad)).rejects.toBeInstanceOf(IndexCorruptError);
    await expect(SearchIndex.open(bad, { readOnly: true })).rejects.toBeInstanceOf(IndexCorruptError);
  });
});

describe('text', () => {
  it('removes escape sequences and applies \\r and backspace per line', () => {
    expect(flattenOutput(Buffer.from('\x1b[31merror\x1b[0m: x\r\n 10%\r 50%\r100%\r\nab\bc\n\n'))).toBe('error: x\n100%\nac');
    expect(flattenOutput(Buffer.from('\x1b]0;title\x07hi'))).toBe('hi');
  });

  it('keeps the head and the tail of a large output and says what it left out', () => {
    const head = Buffer.alloc(INDEX_HEAD_BYTES, 'h');
    const tail = Buffer.alloc(INDEX_TAIL_BYTES, 't');
    const r = indexedText(head, tail, INDEX_HEAD_BYTES + INDEX_TAIL_BYTES + 5000);
    expect(r.omittedBytes).toBe(5000);
    expect(r.text).toContain('[… 5000 bytes not indexed …]');
  });

  it('query terms leave operators, columns and NEAR distances out', () => {
    expect(queryTerms('{command} : make AND "no such file" NOT err* NEAR(a b, 5)')).toEqual([
      { words: ['make'], prefix: false }, { words: ['no', 'such', 'file'], prefix: false }, { words: ['err'], prefix: true },
      { words: ['a'], prefix: false }, { words: ['b'], prefix: false },
    ]);
  });

  it('parses times and exit filters', () => {
    const now = Date.parse('2026-11-21T12:00:00Z');
    expect(parseWhen('2h', now)).toBe(now - 7_200_000);
    expect(parseWhen('3d', now)).toBe(now - 3 * 86_400_000);
    expect(parseWhen('2026-11-21')).toBe(new Date(2026, 10, 21).getTime());
    expect(parseWhen('2026-11-21', now, true)).toBe(new Date(2026, 10, 22).getTime());
    expect(() => parseWhen('yesterday')).toThrow(/not a time/);
    expect(parseExit('nonzero')).toBe('nonzero');
    expect(parseExit('127')).toBe(127);
    expect(() => parseExit('x')).toThrow();
  });
});

describe('from the store', () => {
  it('indexes a session\'s commands from events.jsonl and stream.bin', () => {
    const store = new SessionStore(join(tmp, 'sessions'));
    const h = store.create({ id: 'cccc00000003', hostname: 'box', pid: 1, clientPid: 1, tty: '/dev/pts/1', shell: '/bin/zsh', cwd: '/', term: 'xterm', cols: 80, rows: 24, startedAt: '2026-11-20T10:00:00.000Z' });
    h.stream.output(1000, Buffer.from('$ echo\r\nhello \x1b[1mworld\x1b[0m\r\n$ '));
    h.stream.output(2000, Buffer.alloc(300_000, 'x'));
    h.stream.output(3000, Buffer.from('\r\nthe end\r\n'));
    h.appendEvent({ type: 'command', seq: 1, command: 'echo hello world', cwd: '/tmp', startedAtUs: 1000, endedAtUs: 1500, exitCode: 0, outputStart: 8, outputEnd: 27, altScreen: false });
    h.appendEvent({ type: 'command', seq: 2, command: 'big', cwd: '/tmp', startedAtUs: 2000, endedAtUs: 3000, exitCode: 0, outputStart: 31, outputEnd: 31 + 300_000 + 11, altScreen: false });
    h.end(0, null, 'exit', 4000);
    const [session] = store.list();
    const rows = sessionCommands(session!);
    expect(rows.map((r) => [r.seq, r.text.slice(0, 20), r.endedAtMs])).toEqual([
      [1, 'hello world', T0 + 1.5], [2, 'x'.repeat(20), T0 + 3],
    ]);
    expect(rows[1]?.omittedBytes).toBe(300_011 - INDEX_HEAD_BYTES - INDEX_TAIL_BYTES);
    expect(rows[1]?.text.endsWith('the end')).toBe(true);
    expect(sessionCommands(session!, 1).map((r) => r.seq)).toEqual([2]);
  });
});
