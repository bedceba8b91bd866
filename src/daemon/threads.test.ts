import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UsageError } from '../common/errors.js';
import { defaultConfig } from '../config/config.js';
import { SessionStore, ThreadStore, type RetentionReport } from '../store/index.js';
import type { LlmService } from './llm.js';
import { NOTHING_TO_CONTINUE, ThreadKeeper } from './threads.js';

const NOW = Date.parse('2026-06-01T00:00:00Z');
const DAY = 86_400_000;
const RESULT = { answer: 'because', backend: 'claude', model: 'm', usage: { inputTokens: 1, outputTokens: 1 } };

let tmp: string;
let sessions: SessionStore;
let threads: ThreadStore;
let clock: number;
let keeper: ThreadKeeper;
beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), 'omnish-keeper-'));
  sessions = new SessionStore(join(tmp, 'sessions'));
  threads = new ThreadStore(join(tmp, 'threads'));
  clock = NOW;
  const config = defaultConfig();
  config.store.maxAgeDays = 30;
  // The LLM is not reached by what these tests do (follow-ups are test/threads.test.ts).
  keeper = new ThreadKeeper(threads, sessions, {} as LlmService, config, pino({ level: 'silent' }), () => clock);
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

/** A stored session with id `id`. */
function session(id: string): void {
  const h = sessions.create({ id, hostname: 'h', pid: 1, clientPid: 1, tty: '', shell: '/bin/sh', cwd: '/', term: '', cols: 80, rows: 24 });
  h.end(0, null, 'exit', 1);
}

/** An explanation thread of `sessionId`, stored now; returns its id. */
function explained(sessionId: string): string {
  const before = new Set(threads.list().map((t) => t.id));
  keeper.explained(sessionId, { seq: 3, command: 'make', exitCode: 2 }, 'Command 3 … failed (exit 2).', 'context\n\nQuestion: …', RESULT, clock);
  return threads.list().find((t) => !before.has(t.id))!.id;
}

const report = (evicted: string[] = []): RetentionReport => ({
  freedBytes: 0, evicted: evicted.map((id) => ({ id, reason: 'age' as const, bytes: 1 })), trimmed: [], totalBytesBefore: 0, totalBytesAfter: 0, errors: [],
});

describe('ThreadKeeper', () => {
  it('stores an explanation as a thread of its session', () => {
    session('aaaaaa000001');
    const id = explained('aaaaaa000001');
    expect(threads.get(id)).toMatchObject({
      kind: 'explain', session: 'aaaaaa000001', explained: { seq: 3, command: 'make', exitCode: 2 }, backend: 'claude',
      turns: [{ role: 'user', content: 'context\n\nQuestion: …', question: 'Command 3 … failed (exit 2).' }, { role: 'assistant', content: 'because', model: 'm' }],
    });
  });

  it('retention: threads of sessions that are gone, or older than max_age_days; a dry run counts the evicted as gone', () => {
    session('aaaaaa000001');
    session('bbbbbb000002');
    clock = NOW - 40 * DAY;
    const old = explained('aaaaaa000001');
    clock = NOW;
    const kept = explained('aaaaaa000001');
    const other = explained('bbbbbb000002');
    const orphan = explained('cccccc000003');
    const byId = (a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : 1);
    const dry = keeper.retain(report(['bbbbbb000002']), true).threads ?? [];
    expect([...dry].sort(byId)).toEqual([{ id: old, reason: 'age' }, { id: other, reason: 'session' }, { id: orphan, reason: 'session' }].sort(byId));
    expect(threads.list()).toHaveLength(4);
    const done = keeper.retain(report(), false).threads;
    expect(done?.map((t) => t.id).sort()).toEqual([old, orphan].sort());
    expect(threads.list().map((t) => t.id).sort()).toEqual([kept, other].sort());
  });

  it('rm: by id or prefix, all resolved before any is deleted; --all; one-line errors', () => {
    const a = explained('aaaaaa000001');
    const b = explained('aaaaaa000001');
    expect(() => keeper.remove({})).toThrow(/which thread\?/);
    expect(() => keeper.remove({ ids: [a, 'zz'] })).toThrow(UsageError);
    expect(threads.list()).toHaveLength(2);
    expect(keeper.remove({ ids: [a.slice(0, 6), a] })).toEqual({ removed: [a] });
    expect(() => keeper.remove({ ids: [b], all: true })).toThrow(/--all takes no/);
    expect(keeper.remove({ all: true })).toEqual({ removed: [b] });
    expect(keeper.remove({ all: true })).toEqual({ removed: [] });
  });

  it('-c with no thread in the session, or a session it does not know: nothing to continue', async () => {
    session('aaaaaa000001');
    explained('bbbbbb000002');
    const ask = (params: Record<string, unknown>) => keeper.ask({ question: 'and then?', scope: 'session', ...params }, () => {}, AbortSignal.timeout(1000));
    await expect(ask({ session: 'aaaaaa000001', continue: true })).rejects.toThrow(NOTHING_TO_CONTINUE);
    await expect(ask({ session: 'dddddd', continue: true })).rejects.toThrow(NOTHING_TO_CONTINUE);
    await expect(ask({ session: 'aaaaaa000001', continue: true, thread: 'ab' })).rejects.toThrow(/cannot be used together/);
  });
});
