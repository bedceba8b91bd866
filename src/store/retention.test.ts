import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RecordKind, type StreamRecord } from './format.js';
import { appendEvent, readEvents } from './events.js';
import { readOutputRange } from './output.js';
import { readStream } from './reader.js';
import { applyRetention, type RetentionLimits } from './retention.js';
import { SessionStore, STREAM_FILE, type SessionHandle } from './store.js';
import { planTrim, TRIM_REASON } from './trim.js';

const MB = 1024 * 1024;
const NOW = Date.parse('2026-06-01T00:00:00Z');
const DAY = 86_400_000;
/** The one client pid the fake pidAlive calls running. */
const RUNNING_PID = 4242;
const NO_LIMITS: RetentionLimits = { maxTotalMb: 0, maxSessionMb: 0, maxAgeDays: 0 };

let tmp: string;
let store: SessionStore;
beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), 'omnish-retention-'));
  store = new SessionStore(join(tmp, 'sessions'));
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

function run(limits: Partial<RetentionLimits>, options: { live?: string[]; dryRun?: boolean } = {}) {
  return applyRetention(store, { ...NO_LIMITS, ...limits }, {
    liveIds: new Set(options.live ?? []), dryRun: options.dryRun, now: () => NOW, pidAlive: (pid) => pid === RUNNING_PID,
  });
}

/**
 * A session that ended `endedDaysAgo` days before NOW with `bytes` of output in 1000-byte records
 * (record i is the digit i % 10 repeated); `endedDaysAgo` null leaves it active (client RUNNING_PID).
 * `write` may add records (and events) before it ends.
 */
function session(id: string, bytes: number, endedDaysAgo: number | null, write?: (h: SessionHandle) => void): string {
  const ended = endedDaysAgo === null ? NOW : NOW - endedDaysAgo * DAY;
  const h = store.create({ id, hostname: 'h', pid: 1, clientPid: endedDaysAgo === null ? RUNNING_PID : 999_999, tty: '', shell: '/bin/sh',
    cwd: '/', term: '', cols: 80, rows: 24, startedAt: new Date(ended - 60_000).toISOString() });
  for (let i = 0; i * 1000 < bytes; i++) h.stream.output(i, Buffer.alloc(Math.min(1000, bytes - i * 1000), String(i % 10)));
  write?.(h);
  if (endedDaysAgo === null) {
    h.stream.flush();
    return h.dir;
  }
  h.end(0, null, 'exit', h.stream.lastTUs + 1);
  store.updateMeta(h.dir, { endedAt: new Date(ended).toISOString() });
  return h.dir;
}

function ids(): string[] {
  return store.list().map((s) => s.id).sort();
}

/** Every file under the store with a hash of its content. */
function snapshot(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const d of readdirSync(store.root)) {
    for (const f of readdirSync(join(store.root, d))) {
      out[`${d}/${f}`] = createHash('sha256').update(readFileSync(join(store.root, d, f))).digest('hex');
    }
  }
  return out;
}

describe('applyRetention: which sessions go', () => {
  it('deletes the sessions that ended longest ago until the store fits max_total_mb', () => {
    session('aaaaaa', 10_000, 3);
    session('bbbbbb', 10_000, 1);
    session('cccccc', 10_000, 2);
    session('dddddd', 10_000, 0);
    const before = store.list().reduce((n, s) => n + readdirSync(s.dir).reduce((m, f) => m + statSync(join(s.dir, f)).size, 0), 0);
    const r = run({ maxTotalMb: 25_000 / MB });
    expect(r.evicted.map((e) => [e.id, e.reason])).toEqual([['aaaaaa', 'total'], ['cccccc', 'total']]);
    expect(ids()).toEqual(['bbbbbb', 'dddddd']);
    expect(r.totalBytesBefore).toBe(before);
    expect(r.freedBytes).toBe(r.evicted[0]!.bytes + r.evicted[1]!.bytes);
    expect(r.totalBytesAfter).toBe(before - r.freedBytes);
    expect(r.totalBytesAfter).toBeLessThanOrEqual(25_000);
    expect(r.trimmed).toEqual([]);
    expect(run({ maxTotalMb: 25_000 / MB }).evicted).toEqual([]);
  });

  it('deletes ended sessions older than max_age_days; 0 keeps them forever', () => {
    session('aaaaaa', 100, 200);
    session('bbbbbb', 100, 91);
    session('cccccc', 100, 89);
    expect(run({ maxAgeDays: 0 }).evicted).toEqual([]);
    const r = run({ maxAgeDays: 90 });
    expect(r.evicted.map((e) => [e.id, e.reason])).toEqual([['aaaaaa', 'age'], ['bbbbbb', 'age']]);
    expect(ids()).toEqual(['cccccc']);
    // Nothing is left half-deleted, and nothing but session directories remains.
    expect(readdirSync(store.root)).toHaveLength(1);
  });

  it('never deletes or cuts a live session, however old or large', () => {
    session('aaaaaa', 30_000, null); // live by the daemon's word (liveIds) and by its running client
    session('bbbbbb', 5_000, 1);
    const orphan = session('cccccc', 5_000, 500);
    // Ended without an exit while its client still runs: the client will resume it.
    store.updateMeta(orphan, { endReason: 'daemon-shutdown', clientPid: RUNNING_PID });
    const r = run({ maxTotalMb: 1000 / MB, maxSessionMb: 4000 / MB, maxAgeDays: 1 }, { live: ['aaaaaa'] });
    expect(r.evicted.map((e) => e.id)).toEqual(['bbbbbb']);
    expect(r.trimmed).toEqual([]);
    expect(ids()).toEqual(['aaaaaa', 'cccccc']);
    // Without the daemon's list, an active meta with a running client is live too (the CLI's view).
    expect(run({ maxTotalMb: 1 / MB }).evicted).toEqual([]);
  });

  it('a dry run reports the same as the real run and changes nothing', () => {
    session('aaaaaa', 10_000, 100);
    session('bbbbbb', 10_000, 2);
    session('cccccc', 40_000, 1);
    const limits = { maxTotalMb: 20_000 / MB, maxSessionMb: 16_000 / MB, maxAgeDays: 30 };
    const before = snapshot();
    const dry = run(limits, { dryRun: true });
    expect(snapshot()).toEqual(before);
    expect(dry.evicted.map((e) => [e.id, e.reason])).toEqual([['aaaaaa', 'age'], ['bbbbbb', 'total']]);
    expect(dry.trimmed.map((t) => t.id)).toEqual(['cccccc']);
    const real = run(limits);
    expect(real).toEqual(dry);
    expect(ids()).toEqual(['cccccc']);
  });
});

describe('applyRetention: a session over max_session_mb', () => {
  const CAP = 20_000;

  /** An ended session of 60 KB output with a resize in the middle, and command records before, across and after the cut. */
  function bigSession(): string {
    return session('aaaaaa', 0, 1, (h) => {
      for (let i = 0; i < 60; i++) {
        if (i === 30) h.stream.resize(i, 132, 50);
        h.stream.output(i, Buffer.alloc(1000, String(i % 10)));
      }
      // Only the fields a trim moves (it rewrites any command record): written with the untyped appendEvent.
      appendEvent(h.dir, { type: 'command', seq: 1, outputStart: 100, outputEnd: 2000 });
      appendEvent(h.dir, { type: 'command', seq: 2, outputStart: 4000, outputEnd: 50_000 });
      appendEvent(h.dir, { type: 'command', seq: 3, outputStart: 55_500, outputEnd: 59_000 });
      h.appendEvent({ type: 'event', kind: 'nonzero-exit', seq: 3, tUs: 59 });
    });
  }

  it('keeps the head and the tail with a gap record between them, as a valid stream', () => {
    const dir = bigSession();
    const path = join(dir, STREAM_FILE);
    const original = readOutputRange(path, 0, 60_000, { cols: 80, rows: 24 }).data;
    const oldSize = statSync(path).size;
    const planned = planTrim(dir, CAP);
    const r = run({ maxSessionMb: CAP / MB });
    const newSize = statSync(path).size;
    expect(newSize).toBe(planned?.newBytes);
    expect(newSize).toBeLessThanOrEqual(CAP);
    expect(newSize).toBeGreaterThan(CAP - 200);
    expect(r.trimmed).toEqual([{ id: 'aaaaaa', bytes: r.freedBytes }]);
    expect(r.freedBytes).toBeGreaterThanOrEqual(oldSize - newSize - 200);

    const reader = readStream(path);
    const records: StreamRecord[] = [...reader];
    expect(reader.end).toMatchObject({ torn: false, skipped: 0, validBytes: newSize });
    const gapAt = records.findIndex((x) => x.kind === RecordKind.Gap);
    const gap = records[gapAt];
    const kept = (rs: StreamRecord[]) => Buffer.concat(rs.flatMap((x) => (x.kind === RecordKind.Output ? [x.data] : [])));
    const head = kept(records.slice(0, gapAt));
    const tail = kept(records.slice(gapAt + 1));
    // About a quarter of the cap before the gap, the rest after it (less 13 bytes per record and the
    // gap): the original's first and last bytes.
    expect(head.length).toBeGreaterThan(CAP / 4 - 100);
    expect(head.length).toBeLessThanOrEqual(CAP / 4);
    expect(tail.length).toBeGreaterThan((CAP * 3) / 4 - 400);
    expect(head.equals(original.subarray(0, head.length))).toBe(true);
    expect(tail.equals(original.subarray(original.length - tail.length))).toBe(true);
    expect(gap).toEqual({ kind: RecordKind.Gap, tUs: expect.any(Number), lostBytes: 60_000 - head.length - tail.length, reason: TRIM_REASON });
    // The dropped resize comes back before the gap, so the tail replays at the size it was written for.
    expect(records[gapAt - 1]).toEqual({ kind: RecordKind.Resize, tUs: 30, cols: 132, rows: 50 });
    expect(records.at(-1)).toEqual({ kind: RecordKind.Exit, tUs: 60, exitCode: 0, signal: null });
    const times = records.map((x) => x.tUs);
    expect(times).toEqual([...times].sort((a, b) => a - b));

    // Command records: offsets follow their bytes; a command that lost output says how much.
    const events = readEvents(dir);
    const cut = head.length;
    const dropped = 60_000 - head.length - tail.length;
    expect(events[0]).toEqual({ type: 'command', seq: 1, outputStart: 100, outputEnd: 2000 });
    expect(events[1]).toEqual({ type: 'command', seq: 2, outputStart: 4000, outputEnd: 50_000 - dropped, outputTrimmed: dropped });
    expect(events[2]).toEqual({ type: 'command', seq: 3, outputStart: 55_500 - dropped, outputEnd: 59_000 - dropped });
    expect(events[3]).toEqual({ type: 'event', kind: 'nonzero-exit', seq: 3, tUs: 59 });
    expect(readOutputRange(path, 55_500 - dropped, 59_000 - dropped, { cols: 80, rows: 24 }).data.equals(original.subarray(55_500, 59_000))).toBe(true);
    expect(readOutputRange(path, 4000, cut, { cols: 80, rows: 24 }).data.equals(original.subarray(4000, cut))).toBe(true);

    // Cut once: the next run finds it within the cap.
    expect(run({ maxSessionMb: CAP / MB }).trimmed).toEqual([]);
    expect(readdirSync(dir).sort()).toEqual(['events.jsonl', 'meta.json', 'stream.bin']);
  });

  it('cuts one record larger than the cap into its two ends', () => {
    const data = Buffer.from(Array.from({ length: 60_000 }, (_, i) => i % 251));
    const dir = session('aaaaaa', 0, 1, (h) => h.stream.output(5, data));
    const planned = planTrim(dir, CAP);
    run({ maxSessionMb: CAP / MB });
    const path = join(dir, STREAM_FILE);
    expect(statSync(path).size).toBe(planned?.newBytes);
    const reader = readStream(path);
    const records = [...reader];
    expect(reader.end.torn).toBe(false);
    // The cap, less the 17 bytes kept for a resize record this stream did not need.
    expect(statSync(path).size).toBe(CAP - 17);
    expect(records.map((x) => x.kind)).toEqual([RecordKind.Output, RecordKind.Gap, RecordKind.Output, RecordKind.Exit]);
    const [first, gap, last] = records as [StreamRecord & { data: Buffer }, StreamRecord & { lostBytes: number }, StreamRecord & { data: Buffer }];
    expect(first.tUs).toBe(5);
    expect(first.data.equals(data.subarray(0, first.data.length))).toBe(true);
    expect(last.data.equals(data.subarray(data.length - last.data.length))).toBe(true);
    expect(first.data.length + gap.lostBytes + last.data.length).toBe(data.length);
  });

  it('leaves a session it cannot cut as it was and names it in errors', () => {
    const dir = bigSession();
    writeFileSync(join(dir, 'events.jsonl'), 'not json\n');
    const before = snapshot();
    const r = run({ maxSessionMb: CAP / MB });
    expect(r.trimmed).toEqual([]);
    expect(r.errors).toEqual([{ id: 'aaaaaa', message: expect.stringMatching(/cannot trim .*stream\.bin: .*events\.jsonl:1: not a JSON object/) }]);
    expect(snapshot()).toEqual(before);
  });

  it('a cut session may spare a deletion by total size', () => {
    bigSession();
    session('bbbbbb', 10_000, 0);
    const r = run({ maxSessionMb: CAP / MB, maxTotalMb: 40_000 / MB });
    expect(r.evicted).toEqual([]);
    expect(r.trimmed.map((t) => t.id)).toEqual(['aaaaaa']);
  });

  it('finishes a cut a crash interrupted between the two renames', () => {
    const dir = bigSession();
    run({ maxSessionMb: CAP / MB });
    const events = readFileSync(join(dir, 'events.jsonl'));
    // As if the crash came after the stream's rename: the new events wait under their pending name.
    writeFileSync(join(dir, `events.jsonl.trim-${statSync(join(dir, STREAM_FILE)).size}`), events);
    writeFileSync(join(dir, 'events.jsonl'), 'stale\n');
    writeFileSync(join(dir, 'events.jsonl.trim-1'), 'for another stream\n');
    run({ maxSessionMb: CAP / MB });
    expect(readFileSync(join(dir, 'events.jsonl'))).toEqual(events);
    expect(readdirSync(dir).sort()).toEqual(['events.jsonl', 'meta.json', 'stream.bin']);
  });
});
