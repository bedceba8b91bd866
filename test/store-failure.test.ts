/**
 * A store that cannot be written loses nothing silently (a full disk, a file system turned
 * read-only: a real 8 MB tmpfs mounted over the sessions directory), and a live session belongs to
 * its client (another connection claiming it is refused). The terminal is never affected.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION, type Message } from '../src/protocol/index.js';
import { readStream, RecordKind, SessionStore, STREAM_FILE, type StreamRecord } from '../src/store/index.js';
import { connectUnix, readToken, TOKEN_FILE } from '../src/transport/index.js';
import { useTestDir } from './helpers/fixture.js';
import { omnish, omnishBytes, sessions, waitDaemon } from './helpers/daemon.js';
import { ready, runIn, testEnv, waitUntil, type Term } from './helpers/term.js';

const dir = useTestDir();
const sessionsDir = (): string => join(dir.path, 'data', 'sessions');
const logFile = (): string => join(dir.path, 'data', 'state', 'omnishd.log');
const filler = (): string => join(sessionsDir(), 'filler');
let mounted: string | undefined;

/**
 * Mounts a small tmpfs over the sessions directory (we run as root). 8 MB rather than 2: the
 * client may still be sending its backlog when the filler goes, and that must fit after it.
 */
function mountSmallDisk(): void {
  mkdirSync(sessionsDir(), { recursive: true, mode: 0o700 });
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m,mode=0700', 'tmpfs', sessionsDir()]);
  mounted = sessionsDir();
}

// Runs before useTestDir's cleanup (hooks run in reverse): lazily, as the daemon may still hold files there.
afterEach(() => {
  if (mounted) spawnSync('umount', ['-l', mounted]);
  mounted = undefined;
});

/** Fills what is left of the tmpfs. */
function fillDisk(): void {
  spawnSync('dd', ['if=/dev/zero', `of=${filler()}`, 'bs=64k'], { stdio: 'ignore' });
}

/** `mount -o remount,MODE` of the tmpfs, retried while busy (omnishd briefly reopens its file to retry a write). */
async function remount(mode: 'ro' | 'rw'): Promise<void> {
  await waitUntil(() => spawnSync('mount', ['-o', `remount,${mode}`, sessionsDir()]).status === 0, `remount,${mode}`);
}

/** The daemon's log lines, parsed. */
function logLines(): Array<Record<string, unknown>> {
  if (!existsSync(logFile())) return [];
  return readFileSync(logFile(), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
}

function status(): string {
  const r = omnish(dir.path, ['status']);
  expect(r.status).toBe(0);
  return r.stdout;
}

/** Waits until `omnish status` has a line matching `re`; returns the whole output. */
function waitStatus(re: RegExp, timeoutMs = 15_000): Promise<string> {
  return waitUntil(() => {
    const out = status();
    return re.test(out) ? out : undefined;
  }, `omnish status to match ${re}; it says:\n${status()}`, timeoutMs);
}

function records(id: string): StreamRecord[] {
  const session = new SessionStore(sessionsDir()).resolve(id);
  return [...readStream(join(session.dir, STREAM_FILE))];
}

/** The output that reached the store, and the bytes that gap records count as lost by the store. */
function stored(id: string): { output: Buffer; lost: number; gaps: number } {
  const all = records(id);
  const output = Buffer.concat(all.flatMap((r) => (r.kind === RecordKind.Output ? [r.data] : [])));
  const gaps = all.filter((r) => r.kind === RecordKind.Gap && r.reason === 'store write failed');
  return { output, lost: gaps.reduce((n, r) => n + (r.kind === RecordKind.Gap ? r.lostBytes : 0), 0), gaps: gaps.length };
}

/** Runs `seq 1 N` in the shell and checks that the terminal got every line. */
async function bigOutput(t: Term, n: number): Promise<void> {
  const since = t.mark();
  const out = await runIn(t, `seq 1 ${n}`, 30_000);
  const want = Array.from({ length: n }, (_, i) => String(i + 1)).join('\n');
  expect(out.trim()).toBe(want);
  expect(t.mark() - since).toBeGreaterThan(n * 2);
}

/**
 * Types `echo poke-N` lines into `t` until `check` holds. After a failed write omnishd drops what
 * comes for a second without trying, so whether a given line is tried depends on timing: keep
 * giving it output to try with.
 */
async function pokeUntil(t: Term, check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (let n = 1; ; n++) {
    await runIn(t, `echo poke-${n}`);
    try {
      await waitUntil(check, what, 1500);
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
  }
}

const inStore = (id: string, text: string) => (): boolean => omnishBytes(dir.path, ['replay', id]).toString('latin1').includes(text);

async function startSession(): Promise<{ t: Term; id: string }> {
  const t = dir.omnish();
  await t.waitFor('PROMPT$ ');
  await ready(t);
  await waitDaemon(dir.path);
  const id = await waitUntil(() => sessions(dir.path)[0]?.id, 'the session in the store');
  return { t, id };
}

/** Ends the shell and waits until the session's exit is in the store. */
async function exitShell(t: Term, id: string): Promise<void> {
  t.write('exit\r');
  await t.waitExit();
  await waitUntil(() => records(id).some((r) => r.kind === RecordKind.Exit), 'the exit record');
}

describe('a full or read-only store', () => {
  it('keeps the terminal whole, records a gap, says so in status and doctor, and records again once space returns', async () => {
    mountSmallDisk();
    const { t, id } = await startSession();
    fillDisk();
    await bigOutput(t, 300_000); // ~2 MB, and the disk is full
    const failing = await waitStatus(/^store: write failed \(ENOSPC: no space left on device\) since \d\d:\d\d, [\d.]+ (MB|KB) lost$/m);
    expect(failing).toMatch(new RegExp(`^  ${id} `, 'm')); // still recorded, on the same connection

    const doctor = JSON.parse(omnish(dir.path, ['doctor', '--json']).stdout) as Array<{ name: string; status: string; detail: string; fix?: string }>;
    expect(doctor.find((c) => c.name === 'store')).toMatchObject({ status: 'fail', detail: expect.stringMatching(/^write failed \(ENOSPC/), fix: expect.stringMatching(/free space/) });

    // The client may still be sending the output; wait until most of it has reached omnishd (and was lost).
    await waitUntil(() => {
      const json = JSON.parse(omnish(dir.path, ['status', '--json']).stdout) as { store: { problem: { lostBytes: number } | null } };
      return (json.store.problem?.lostBytes ?? 0) > 1_500_000;
    }, 'omnishd to count the lost output');
    rmSync(filler());
    await pokeUntil(t, () => /^store: writable again/m.test(status()), 'the store to be writable again');
    // Recording as before: what comes now is stored at once.
    expect(await runIn(t, 'echo after-$((6*7))')).toContain('after-42');
    await waitUntil(inStore(id, 'after-42'), 'after-42 in the store', 5000);
    expect(status()).toMatch(/^store: writable again since \d\d:\d\d \(write failed from \d\d:\d\d: ENOSPC: no space left on device; [\d.]+ (MB|KB) lost\)$/m);
    await exitShell(t, id);

    // Nothing lost silently: what the store has plus what its gap records count is what the terminal got.
    const { output, lost, gaps } = stored(id);
    expect(gaps).toBeGreaterThanOrEqual(1);
    expect(lost).toBeGreaterThan(1_000_000);
    expect(output.length + lost).toBe(t.bytes().length);
    expect(output.toString('latin1')).toContain('after-42');
    // The gap stands where the bytes were: before what was written after space returned.
    const all = records(id);
    const gapAt = all.findIndex((r) => r.kind === RecordKind.Gap);
    const afterAt = all.findIndex((r) => r.kind === RecordKind.Output && r.data.toString('latin1').includes('after-42'));
    expect(gapAt).toBeGreaterThan(0);
    expect(gapAt).toBeLessThan(afterAt);

    // One connection, no reconnect loop; a few lines about the failure, not one per write.
    const log = logLines();
    expect(log.filter((l) => l.msg === 'session started')).toHaveLength(1);
    expect(log.filter((l) => /store/.test(String(l.msg))).length).toBeLessThanOrEqual(3);
    expect(readFileSync(logFile()).length).toBeLessThan(20_000);
    expect(log.some((l) => 'stack' in l)).toBe(false);
  });

  it('rides out a remount read-only, a session started meanwhile included, and records again once read-write', async () => {
    mountSmallDisk();
    const { t, id } = await startSession();
    fillDisk();
    await bigOutput(t, 100_000);
    await waitStatus(/^store: write failed \(ENOSPC/m);
    // omnishd closed its file after the failed write, so the file system can be remounted.
    await remount('ro');
    await bigOutput(t, 20_000);
    await pokeUntil(t, () => /^store: write failed \(EROFS: read-only file system\) since/m.test(status()), 'EROFS in omnish status');

    // A new shell while the store is read-only: its directory cannot be created; the shell works all the same.
    const t2 = dir.omnish();
    await t2.waitFor('PROMPT$ ');
    expect(await runIn(t2, 'echo during-$((2*5))')).toContain('during-10');
    const lines = await waitStatus(/\(not stored yet: the store cannot be written\)/);
    const id2 = /^ {2}([0-9a-f]+) .*not stored yet/m.exec(lines)?.[1] ?? '';
    expect(id2).not.toBe(id);

    await remount('rw');
    rmSync(filler());
    // Until its directory exists (retried every second), the second session's output is counted as lost.
    await waitUntil(() => sessions(dir.path).length === 2, 'the second session in the store', 15_000);
    await pokeUntil(t, () => /^store: writable again/m.test(status()), 'the store to be writable again');
    expect(await runIn(t, 'echo back-$((3*3))')).toContain('back-9');
    expect(await runIn(t2, 'echo later-$((4*4))')).toContain('later-16');
    await waitUntil(inStore(id, 'back-9'), 'back-9 in the store', 5000);
    await waitUntil(inStore(id2, 'later-16'), 'later-16 in the store', 5000);
    await exitShell(t, id);
    await exitShell(t2, id2);

    for (const [term, sid, text] of [[t, id, 'back-9'], [t2, id2, 'later-16']] as const) {
      const { output, lost, gaps } = stored(sid);
      expect(gaps).toBeGreaterThanOrEqual(1);
      expect(output.length + lost).toBe(term.bytes().length);
      expect(output.toString('latin1')).toContain(text);
    }
    // The second session's gap comes first: everything before its directory could be created.
    expect(records(id2)[0]).toMatchObject({ kind: RecordKind.Gap, reason: 'store write failed' });

    const log = logLines();
    expect(log.filter((l) => l.msg === 'session started')).toHaveLength(2);
    expect(log.some((l) => 'stack' in l)).toBe(false);
  });
});

/** Connects to the test daemon as a client of its own, says Hello, and returns the connection and what it receives. */
async function intruder(): Promise<{ send: (m: Message) => void; received: Message[]; closed: Promise<void> }> {
  const conn = await connectUnix(testEnv(dir.path).OMNISH_SOCKET ?? '');
  const received: Message[] = [];
  conn.onMessage((m) => received.push(m));
  const closed = new Promise<void>((resolve) => conn.onClose(() => resolve()));
  const token = readToken(join(dir.path, 'run', TOKEN_FILE)) ?? '';
  conn.send({ type: 'Hello', protocolVersion: PROTOCOL_VERSION, token, role: 'session', clientVersion: 'test', pid: process.pid });
  await waitUntil(() => received.some((m) => m.type === 'Welcome'), 'Welcome');
  return { send: (m) => void conn.send(m), received, closed };
}

describe('a live session', () => {
  it('stays with its client: another connection claiming it is refused, and the recording goes on byte for byte', async () => {
    const { t, id } = await startSession();
    expect(await runIn(t, 'echo before-$((1+1))')).toContain('before-2');
    const meta = sessions(dir.path)[0]!;
    const other = await intruder();
    other.send({
      type: 'SessionStart', sessionId: id, resume: true, startedAtMs: Date.now(), shell: '/bin/sh', shellPid: process.pid,
      clientPid: process.pid, tty: '/dev/null', cwd: '/', term: 'dumb', cols: 80, rows: 24, hostname: String(meta.hostname),
    });
    await other.closed;
    expect(other.received).toContainEqual({ type: 'Refused', message: `session ${id} is live on another connection` });

    expect(await runIn(t, 'echo after-$((2+2))')).toContain('after-4');
    await exitShell(t, id);
    const replayed = omnishBytes(dir.path, ['replay', id]);
    expect(Buffer.compare(replayed, t.bytes())).toBe(0);
    expect(stored(id).gaps).toBe(0);

    const log = logLines();
    expect(log.filter((l) => l.msg === 'session started')).toHaveLength(1);
    expect(log.filter((l) => l.msg === 'session detached')).toHaveLength(0);
    expect(log.find((l) => l.msg === 'refused connection')).toMatchObject({ message: `session ${id} is live on another connection` });
    expect(log.some((l) => 'stack' in l || /is closed/.test(JSON.stringify(l)))).toBe(false);
  });
});
