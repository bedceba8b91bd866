/**
 * `omnish export` checked by the real players: what `asciinema cat` prints from an asciicast export
 * and what `scriptreplay` prints from a typescript export must be the recorded output, byte for
 * byte. The players are required: a missing one fails the test (scripts/install-test-deps.sh).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SessionStore } from '../src/store/index.js';
import { useTestDir } from './helpers/fixture.js';
import { omnish, omnishBytes, sessions } from './helpers/daemon.js';
import { runIn, Term, testEnv, waitUntil } from './helpers/term.js';

const dir = useTestDir();

/** Fails (never skips) when a player is missing. */
function need(tool: string): void {
  const found = spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
  if (!found) throw new Error(`${tool} is not installed: run scripts/install-test-deps.sh`);
}

/** Major version of the installed asciinema (2.x cannot read asciicast v3; 3.x can). */
function asciinemaMajor(): number {
  need('asciinema');
  return Number(/(\d+)\./.exec(execFileSync('asciinema', ['--version'], { encoding: 'utf8' }))?.[1] ?? 0);
}

/**
 * What `asciinema cat FILE` prints. asciinema 2.x opens /dev/tty (to put it in raw mode) even for
 * cat, so it runs in a pty of its own, with stdout redirected to a file so the bytes stay exact.
 */
async function asciinemaCat(cast: string): Promise<Buffer> {
  need('asciinema');
  const out = `${cast}.out`;
  const t = dir.track(new Term('/bin/sh', ['-c', 'asciinema cat "$0" > "$1"', cast, out], { env: testEnv(dir.path) }));
  const { exitCode } = await t.waitExit(20_000);
  expect(exitCode, `asciinema cat ${cast}: ${t.text()}`).toBe(0);
  return readFileSync(out);
}

/** What `scriptreplay` prints, sped up; it adds one "\n" of its own after the last chunk. */
function scriptreplay(file: string): Buffer {
  need('scriptreplay');
  const r = spawnSync('scriptreplay', ['-t', `${file}.timing`, '-s', file, '-d', '1000', '-m', '0.001'], { timeout: 20_000 });
  expect(r.status, r.stderr.toString()).toBe(0);
  return r.stdout;
}

function exportTo(id: string, format: string, file: string): void {
  const r = omnish(dir.path, ['export', id, '--format', format, '-o', file]);
  expect(r, r.stderr).toMatchObject({ status: 0, stderr: '' });
}

type Event = [number, string, string];

/** Parses asciicast v3 by the spec: a header object, then [interval, code, data] lines; `#` lines are comments. */
function parseV3(text: string): { header: Record<string, unknown>; events: Event[] } {
  const [first, ...rest] = text.split('\n');
  expect(text.endsWith('\n')).toBe(true);
  const header = JSON.parse(first ?? '') as Record<string, unknown>;
  const events = rest.filter((l) => l !== '' && !l.startsWith('#')).map((l) => JSON.parse(l) as Event);
  for (const [interval, code, data] of events) {
    expect(interval).toBeGreaterThanOrEqual(0);
    expect(typeof code === 'string' && typeof data === 'string').toBe(true);
  }
  return { header, events };
}

describe('omnish export', () => {
  it('a recorded session plays back byte for byte in asciinema (v2) and scriptreplay; v3 holds the same', async () => {
    asciinemaMajor();
    need('scriptreplay');
    const t = dir.omnish();
    await t.waitFor('PROMPT$ ');
    await runIn(t, "printf 'h\\303\\251llo \\342\\202\\254 \\033[1;32mgreen\\033[0m\\n'");
    t.resize(100, 30);
    await runIn(t, 'stty size');
    t.write('exit 3\r');
    expect((await t.waitExit()).exitCode).toBe(3);
    const id = await waitUntil(() => sessions(dir.path).find((s) => s.endedAt)?.id, 'the session to end');
    const recorded = omnishBytes(dir.path, ['replay', id]);
    expect(recorded.toString('utf8')).toContain('héllo € \x1b[1;32mgreen');

    const v2 = join(dir.path, 'v2.cast');
    exportTo(id.slice(0, 5), 'asciicast-v2', v2);
    expect((await asciinemaCat(v2)).equals(recorded)).toBe(true);
    const v2Events = readFileSync(v2, 'utf8').trimEnd().split('\n').slice(1).map((l) => JSON.parse(l) as Event);
    expect(v2Events).toContainEqual([expect.any(Number), 'r', '100x30']);
    expect(v2Events.at(-1)).toEqual([expect.any(Number), 'm', 'exit 3']);

    const v3 = join(dir.path, 'v3.cast');
    exportTo(id, 'asciicast-v3', v3);
    const { header, events } = parseV3(readFileSync(v3, 'utf8'));
    expect(header).toMatchObject({ version: 3, term: { cols: 80, rows: 24, type: 'xterm-256color' }, timestamp: expect.any(Number) });
    const output = events.filter(([, code]) => code === 'o').map(([, , data]) => data).join('');
    expect(Buffer.from(output, 'utf8').equals(recorded)).toBe(true);
    expect(events).toContainEqual([expect.any(Number), 'r', '100x30']);
    expect(events.at(-1)).toEqual([expect.any(Number), 'x', '3']);
    // Intervals add up to the v2 times.
    const total = events.reduce((sum, [dt]) => sum + dt, 0);
    expect(total).toBeCloseTo(v2Events.at(-1)?.[0] ?? -1, 3);
    if (asciinemaMajor() >= 3) expect((await asciinemaCat(v3)).equals(recorded)).toBe(true);

    const ts = join(dir.path, 'session.typescript');
    exportTo(id, 'script', ts);
    expect(scriptreplay(ts).equals(Buffer.concat([recorded, Buffer.from('\n')]))).toBe(true);
  });

  it('keeps multi-byte characters split across records whole, and non-UTF-8 bytes exact in script', async () => {
    const store = new SessionStore(join(dir.path, 'data', 'sessions'));
    const h = store.create({ id: 'feed00000001', hostname: 'h', pid: 2, clientPid: 1, tty: '/dev/pts/9', shell: '/bin/bash', cwd: '/',
      term: 'xterm-256color', cols: 80, rows: 24 });
    const parts = [[0x61, 0xf0, 0x9f], [0x98, 0x80, 0x0d, 0x0a, 0xe2], [0x82, 0xac, 0x1b, 0x5b, 0x30, 0x6d], [0xff, 0x62]];
    parts.forEach((p, i) => h.stream.output(1000 * (i + 1), Buffer.from(p)));
    h.end(0, null, 'exit');
    const bytes = Buffer.concat(parts.map((p) => Buffer.from(p)));

    const cast = join(dir.path, 'split.cast');
    exportTo('feed', 'asciicast-v2', cast);
    expect((await asciinemaCat(cast)).toString('utf8')).toBe('a😀\r\n€\x1b[0m\ufffdb');
    const ts = join(dir.path, 'split');
    exportTo('feed', 'script', ts);
    expect(scriptreplay(ts).equals(Buffer.concat([bytes, Buffer.from('\n')]))).toBe(true);
  });

  it('says in one line why it cannot write, exits non-zero and creates nothing', () => {
    const store = new SessionStore(join(dir.path, 'data', 'sessions'));
    store.create({ id: 'feed00000002', hostname: 'h', pid: 2, clientPid: 1, tty: '', shell: '/bin/sh', cwd: '/', term: '', cols: 80, rows: 24 })
      .end(0, null, 'exit');
    // root ignores directory permissions; sysfs refuses new files even to root.
    const root = process.getuid?.() === 0;
    const locked = root ? '/sys' : join(dir.path, 'locked');
    if (!root) {
      mkdirSync(locked);
      chmodSync(locked, 0o500);
    }
    for (const format of ['asciicast-v2', 'script']) {
      const target = join(locked, 'x.cast');
      const r = omnish(dir.path, ['export', 'feed', '-f', format, '-o', target]);
      expect(r.stderr).toBe(`omnish: cannot write ${target}: permission denied\n`);
      expect(r.status).not.toBe(0);
      expect(r.stdout).toBe('');
      expect(existsSync(target) || existsSync(`${target}.timing`)).toBe(false);
      if (!root) expect(readdirSync(locked)).toEqual([]);
    }
    const taken = join(dir.path, 'taken.cast');
    exportTo('feed', 'asciicast-v2', taken);
    const again = omnish(dir.path, ['export', 'feed', '-o', taken]);
    expect(again).toMatchObject({ status: 2, stderr: `omnish: ${taken} already exists (use --force to replace it)\n` });
    expect(omnish(dir.path, ['export', 'feed', '-o', taken, '--force']).status).toBe(0);
    expect(omnish(dir.path, ['export', 'bad', '-o', join(dir.path, 'y.cast')])).toMatchObject({ status: 2, stderr: "omnish: no session matches 'bad'\n" });
  });
});
