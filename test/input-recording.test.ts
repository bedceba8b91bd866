/**
 * `[session] record_input = true`, in a real pty with real bash: the keys typed at the prompt are
 * recorded (stream.bin input records, exported as asciicast "i" events, in time order with the
 * output), and a secret typed at a prompt that turned echo off (`read -s`, a sudo-like getpass, a
 * raw-mode PIN reader) is in no file under the test's home: not the data directory, not the
 * runtime directory, not the logs. One marker per hidden stretch says keys were left out, without
 * their number. Off by default, and off (with the reason in `omnish status`) on the JS relay.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { INPUT_HIDDEN_REASON } from '../src/protocol/messages.js';
import { readStream, RecordKind, SessionStore, STREAM_FILE, type StreamRecord } from '../src/store/index.js';
import { omnish, sessions } from './helpers/daemon.js';
import { useTestDir } from './helpers/fixture.js';
import { PROMPT_READY, runIn, waitUntil, type Term } from './helpers/term.js';

const dir = useTestDir();
const RECORD_INPUT = '[session]\nrecord_input = true\n';
const HAS_PYTHON = spawnSync('python3', ['-c', 'import getpass, termios'], { stdio: 'ignore' }).status === 0;

/** Starts omnish (bash with integration) on `relay` and waits until its session is registered. */
async function start(relay: 'native' | 'js', config?: string): Promise<{ t: Term; id: string }> {
  if (config !== undefined) writeFileSync(join(dir.path, 'config.toml'), config);
  const t = dir.omnish({ args: [], env: { OMNISH_RELAY: relay } });
  await t.waitFor(PROMPT_READY);
  await runIn(t, 'true');
  const id = await waitUntil(() => sessions(dir.path)[0]?.id, 'the session to register');
  return { t, id };
}

/** The prompt's B mark as the last thing on the terminal: the line editor is reading keys. */
const IDLE = new RegExp(`${PROMPT_READY.source}$`);

/**
 * Waits for an idle prompt without typing anything: readline turns echo off before it draws the
 * prompt, so a key read between the two counts as hidden (and adds a marker the test counts).
 */
async function promptIdle(t: Term): Promise<void> {
  await waitUntil(() => IDLE.test(t.text(Math.max(0, t.mark() - 256))), () => `an idle prompt; tail ${JSON.stringify(t.text().slice(-300))}`);
}

/** Types `line` at an idle prompt and waits for `until` after it. */
async function typeLine(t: Term, line: string, until: string | RegExp): Promise<void> {
  await promptIdle(t);
  const since = t.mark();
  t.write(`${line}\r`);
  await t.waitFor(until, { since: since + line.length });
}

/** Ends the shell and waits until its session is stored as ended. */
async function finish(t: Term): Promise<void> {
  await promptIdle(t);
  t.write('exit\r');
  await t.waitExit();
  await waitUntil(() => sessions(dir.path)[0]?.endedAt, 'the session to end');
}

/** The session's records, read from its stream.bin. */
function records(id: string): StreamRecord[] {
  const stored = new SessionStore(join(dir.path, 'data', 'sessions')).resolve(id);
  return [...readStream(join(stored.dir, STREAM_FILE))];
}

/** The session exported as asciicast v2 with --input: its events, [seconds, code, data]. */
function exported(id: string): Array<[number, string, string]> {
  const out = join(dir.path, `${id}.cast`);
  const r = omnish(dir.path, ['export', id, '--format', 'asciicast-v2', '--input', '-o', out, '--force']);
  expect(r.status, r.stderr).toBe(0);
  return readFileSync(out, 'utf8').trim().split('\n').slice(1).map((l) => JSON.parse(l) as [number, string, string]);
}

/** Every regular file under `root`, recursively (sockets and links are not files to read). */
function filesUnder(root: string): string[] {
  return readdirSync(root, { withFileTypes: true }).flatMap((e) => {
    const p = join(root, e.name);
    if (e.isDirectory()) return filesUnder(p);
    return lstatSync(p).isFile() ? [p] : [];
  });
}

/** The `this session:` line of `omnish status`, run as from inside session `id`. */
function statusLine(id: string): string | undefined {
  const r = omnish(dir.path, ['status'], { OMNISH_SESSION: id });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.split('\n').find((l) => l.startsWith('this session:'));
}

describe('input recording', () => {
  it('records the keys typed at the prompt, never a secret typed with echo off, anywhere', async () => {
    const { t, id } = await start('native', RECORD_INPUT);
    expect(statusLine(id)).toMatch(/relay: native, input recording: on$/);
    // One secret per prompt, each random, so a copy anywhere cannot be a coincidence.
    const secret = (what: string): string => `${what}-${randomBytes(8).toString('hex')}`;
    const secrets: string[] = [];

    // 1. bash's `read -s`: canonical mode with echo off; typed a key at a time, as a person does.
    const s1 = secret('readS');
    secrets.push(s1);
    // Prompts are spelled so that the echoed command line does not contain them.
    await typeLine(t, `read -s -p "Sec""ret: " x; echo "len:\${#x}"`, 'Secret: ');
    for (const c of `${s1}\r`) t.write(c);
    await t.waitFor(`len:${s1.length}`);

    // 2. A sudo-like prompt: getpass turns echo off with tcsetattr (TCSAFLUSH) on /dev/tty, then prompts.
    let stretches = 1;
    if (HAS_PYTHON) {
      const s2 = secret('getpass');
      secrets.push(s2);
      await typeLine(t, `python3 -c 'import getpass; p = getpass.getpass("Pass" "word: "); print("got", len(p))'`, 'Password: ');
      t.write(`${s2}\r`);
      await t.waitFor(`got ${s2.length}`);
      stretches++;
    }

    // 3. A raw-mode PIN reader (no ICANON, no ECHO, stars of its own): how Node and curses programs read a password.
    const pin = join(dir.path, 'pin.js');
    writeFileSync(pin, `process.stdin.setRawMode(true);
process.stdout.write('PIN: ');
let n = 0;
process.stdin.on('data', (b) => {
  for (const c of b) {
    if (c === 13) { process.stdin.setRawMode(false); process.stdout.write('\\r\\npin:' + n + '\\r\\n'); process.exit(0); }
    n++;
    process.stdout.write('*');
  }
});
`);
    const s3 = secret('rawPin');
    secrets.push(s3);
    await typeLine(t, `${process.execPath} ${pin}`, 'PIN: ');
    t.write(`${s3}\r`);
    await t.waitFor(`pin:${s3.length}`);
    stretches++;

    // Ordinary keys, echoed: recorded.
    await typeLine(t, 'echo visible-$((1+1))', 'visible-2');
    // cat reads in canonical mode with echo on: the pty shows these keys. Typed once cat runs (its
    // C mark is out, so readline has given echo back), not ahead into the prompt's line editor.
    await typeLine(t, 'cat', /\x1b\]133;C;/);
    const since = t.mark();
    t.write('typed-to-cat\r');
    await waitUntil(() => t.text(since).split('typed-to-cat').length >= 3, 'the echo and the output of cat');
    t.write('\x04');
    await finish(t);

    const events = exported(id);
    const typed = events.filter(([, code]) => code === 'i').map(([, , data]) => data).join('');
    expect(typed).toContain('read -s -p "Sec""ret: " x');
    expect(typed).toContain('echo visible-$((1+1))\r');
    expect(typed).toContain('typed-to-cat\r');
    for (const s of secrets) expect(typed).not.toContain(s);
    // One marker per hidden stretch, and nothing that counts the hidden keys.
    expect(events.filter(([, code, data]) => code === 'm' && data === INPUT_HIDDEN_REASON)).toHaveLength(stretches);
    const gaps = records(id).flatMap((r) => (r.kind === RecordKind.Gap ? [[r.reason, r.lostBytes]] : []));
    expect(gaps).toEqual(Array(stretches).fill([INPUT_HIDDEN_REASON, 0]));
    // In time order with the output: the typed line comes before the output it produced.
    const typedAt = events.findIndex(([, code, data]) => code === 'i' && data.includes('visible-$((1+1))'));
    const shownAt = events.findIndex(([, code, data]) => code === 'o' && data.includes('visible-2'));
    expect(typedAt).toBeGreaterThan(-1);
    expect(typedAt).toBeLessThan(shownAt);
    // No copy of a secret in any file: data directory (stream.bin, meta, events), runtime directory, logs, exports.
    const files = filesUnder(dir.path);
    expect(files.some((f) => f.endsWith(STREAM_FILE))).toBe(true);
    expect(files.some((f) => f.endsWith('omnishd.log'))).toBe(true);
    for (const f of files) {
      const bytes = readFileSync(f);
      for (const s of secrets) expect(bytes.includes(s), `${s} in ${f}`).toBe(false);
    }
  });

  it('::pause stops input recording with the rest', async () => {
    const { t, id } = await start('native', RECORD_INPUT);
    await typeLine(t, 'echo before-$((1+2))', 'before-3');
    await typeLine(t, '::pause', 'recording paused');
    await typeLine(t, 'echo during-$((2+2))', 'during-4');
    await typeLine(t, '::resume', 'recording again');
    await typeLine(t, 'echo after-$((2+3))', 'after-5');
    await finish(t);
    const typed = exported(id).filter(([, code]) => code === 'i').map(([, , data]) => data).join('');
    expect(typed).toContain('echo before-$((1+2))');
    // A `::` line is typed at the prompt and echoed by the interceptor: recorded like any other line.
    expect(typed).toContain('::pause\r');
    expect(typed).not.toContain('during');
    expect(typed).not.toContain('::resume');
    expect(typed).toContain('echo after-$((2+3))');
  });

  it('is off by default: no input records, nothing in status', async () => {
    const { t, id } = await start('native');
    await typeLine(t, 'echo plain-$((3+3))', 'plain-6');
    expect(statusLine(id)).not.toMatch(/input recording/);
    await finish(t);
    expect(records(id).filter((r) => r.kind === RecordKind.Input)).toEqual([]);
    expect(exported(id).filter(([, code]) => code === 'i')).toEqual([]);
  });

  it('stays off on the JS relay, and status says why', async () => {
    const { t, id } = await start('js', RECORD_INPUT);
    expect(statusLine(id)).toMatch(/relay: js \(OMNISH_RELAY=js\), input recording: off \(needs the native relay\)$/);
    await typeLine(t, 'echo js-$((4+4))', 'js-8');
    await finish(t);
    expect(records(id).filter((r) => r.kind === RecordKind.Input)).toEqual([]);
  });
});
