import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { RetentionReport } from '../store/index.js';
import { gcCommand, renderGc } from './gc.js';
import { buildProgram } from './commander.js';
import type { CommandIo } from './io.js';

// The daemon is the edge here: the report it computes is tested in src/store/retention.test.ts,
// the whole path in test/retention.test.ts.
const request = vi.hoisted(() => vi.fn());
vi.mock('../control/request.js', () => ({ request }));

const MB = 1024 * 1024;
const REPORT: RetentionReport = {
  freedBytes: 123.4 * MB,
  evicted: [
    { id: 'aaaaaa111111', reason: 'age', bytes: 20 * MB },
    { id: 'bbbbbb222222', reason: 'age', bytes: 30 * MB },
    { id: 'cccccc333333', reason: 'total', bytes: 70 * MB },
  ],
  trimmed: [{ id: 'dddddd444444', bytes: 3.4 * MB }],
  totalBytesBefore: 1100 * MB,
  totalBytesAfter: 976.6 * MB,
  errors: [],
};

let out: string;
let err: string;
let code: number;
let testIo: CommandIo;
beforeEach(() => {
  out = '';
  err = '';
  code = 0;
  testIo = {
    out: (s) => void (out += s), err: (s) => void (err += s), raw: () => undefined, isTTY: false, atPrompt: false,
    setExitCode: (c) => void (code = c),
  };
});
afterEach(() => {
  request.mockReset();
});

async function gc(...args: string[]): Promise<void> {
  await buildProgram([gcCommand], testIo).parseAsync(['gc', ...args], { from: 'user' });
}

describe('omnish gc', () => {
  it('asks the daemon (starting it if needed) and says what was freed', async () => {
    request.mockResolvedValue(REPORT);
    await gc();
    expect(request).toHaveBeenCalledWith('gc', { dryRun: false }, expect.objectContaining({ autostart: true }));
    expect(out.split('\n')[0]).toBe('freed 123.4 MB: evicted 3 sessions (2 by age, 1 by size), trimmed 1');
    expect(out).toMatch(/evict {2}cccccc333333 +70\.0 MB {2}over max_total_mb/);
    expect(out).toMatch(/trim {3}dddddd444444 +3\.4 MB {2}over max_session_mb/);
    expect(out).toContain('store: 1100.0 MB -> 976.6 MB');
    expect(code).toBe(0);
  });

  it('--dry-run asks for a dry run and says "would"', async () => {
    request.mockResolvedValue(REPORT);
    await gc('--dry-run');
    expect(request).toHaveBeenCalledWith('gc', { dryRun: true }, expect.anything());
    expect(out.split('\n')[0]).toBe('would free 123.4 MB: would evict 3 sessions (2 by age, 1 by size), would trim 1');
  });

  it('--json prints the report as it came', async () => {
    request.mockResolvedValue(REPORT);
    await gc('--json', '--dry-run');
    expect(JSON.parse(out)).toEqual(REPORT);
  });

  it('reports sessions it could not free on stderr, with exit status 1', async () => {
    request.mockResolvedValue({ ...REPORT, errors: [{ id: 'eeeeee555555', message: 'cannot trim x: EACCES' }] });
    await gc();
    expect(err).toBe('omnish: gc: session eeeeee555555: cannot trim x: EACCES\n');
    expect(code).toBe(1);
  });
});

describe('renderGc', () => {
  it('counts the threads deleted, by why', () => {
    const threads = [{ id: '0000000a', reason: 'session' as const }, { id: '0000000b', reason: 'age' as const }, { id: '0000000c', reason: 'session' as const }];
    expect(renderGc({ ...REPORT, threads }, false).trimEnd().split('\n').pop()).toBe('deleted 3 threads (2 of deleted sessions, 1 older than max_age_days)');
    const empty: RetentionReport = { freedBytes: 0, evicted: [], trimmed: [], totalBytesBefore: 0, totalBytesAfter: 0, errors: [], threads: threads.slice(1, 2) };
    expect(renderGc(empty, true)).toMatch(/within the \[store\] limits\nwould delete 1 thread \(1 older than max_age_days\)\n$/);
  });

  it('says when there is nothing to free, counts in the singular, and gives small sizes in KB', () => {
    const empty: RetentionReport = { freedBytes: 0, evicted: [], trimmed: [], totalBytesBefore: 5 * MB, totalBytesAfter: 5 * MB, errors: [] };
    expect(renderGc(empty, false)).toBe('nothing to free: the store holds 5.0 MB, within the [store] limits\n');
    const one = { ...empty, freedBytes: 30_720, evicted: [{ id: 'a', reason: 'total' as const, bytes: 30_720 }] };
    expect(renderGc(one, false).split('\n')[0]).toBe('freed 30.0 KB: evicted 1 session (1 by size), trimmed 0');
  });
});
