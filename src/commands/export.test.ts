// A full disk cannot be made on demand, so writeSync is wrapped to fail when a test says so.
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { OmnishError, StoreError, UsageError } from '../common/errors.js';
import { INPUT_HIDDEN_REASON } from '../protocol/messages.js';
import { SessionStore, type SessionHandle } from '../store/index.js';
import { exportCommand, exportSession, type ExportOptions } from './export.js';
import { seconds } from './export-formats.js';
import { buildProgram } from './commander.js';
import type { CommandIo } from './io.js';

vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs')>();
  return { ...real, writeSync: vi.fn(real.writeSync) };
});

const ID = 'abcdef123456';
const START = '2026-11-21T10:00:00.000Z';
let tmp: string;
let store: SessionStore;
let out: string;
let testIo: CommandIo;

beforeEach(() => {
  tmp = fs.mkdtempSync(join(tmpdir(), 'omnish-export-'));
  store = new SessionStore(join(tmp, 'sessions'));
  out = '';
  testIo = {
    out: (s) => void (out += s), err: (s) => void (out += s), raw: () => expect.unreachable('asciicast is text: out(), not raw()'),
    isTTY: false, atPrompt: false, setExitCode: () => undefined,
  };
});
afterEach(() => {
  vi.unstubAllEnvs();
  vi.mocked(fs.writeSync).mockReset();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** A session with `fill`'s records, ended by the shell exiting 0 at 9 s unless `fill` ends it. */
function session(fill: (h: SessionHandle) => void, id = ID): SessionHandle {
  const h = store.create({ id, hostname: 'box', pid: 2, clientPid: 1, tty: '/dev/pts/4', shell: '/bin/zsh', cwd: '/',
    term: 'xterm-256color', cols: 80, rows: 24, startedAt: START });
  fill(h);
  h.end(0, null, 'exit', 9_000_000);
  return h;
}

/** The usual session: UTF-8 split across records, a resize, a gap, input, an exit status. */
function sample(): void {
  session((h) => {
    h.stream.output(250_000, Buffer.from('h\xc3', 'latin1')); // 'é' = c3 a9, cut in two
    h.stream.output(1_000_001, Buffer.from('\xa9\xe2\x82', 'latin1')); // '€' = e2 82 ac, cut again
    h.stream.input(1_200_000, Buffer.from('ls\r'));
    h.stream.resize(1_500_000, 100, 30);
    h.stream.output(2_000_000, Buffer.from('\xac\r\n', 'latin1'));
    h.stream.gap(3_000_000, 4096, 'client buffer full');
    h.stream.output(4_000_000, Buffer.from('bad \xff byte\x1b[0m', 'latin1'));
    h.stream.output(4_000_000, Buffer.alloc(0));
  });
}

function opts(output: string, more: Partial<ExportOptions> = {}): ExportOptions {
  return { format: 'asciicast-v2', output, force: false, input: false, ...more };
}

function lines(path: string): unknown[] {
  return fs.readFileSync(path, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as unknown);
}

describe('asciicast', () => {
  it('v2: header, absolute times in s, UTF-8 kept whole across records, resize, gap and exit markers', async () => {
    sample();
    const file = join(tmp, 'x.cast');
    expect(await exportSession(testIo, 'abc', opts(file), store)).toEqual([file]);
    expect(lines(file)).toEqual([
      { version: 2, width: 80, height: 24, timestamp: Date.parse(START) / 1000, env: { SHELL: '/bin/zsh', TERM: 'xterm-256color' } },
      [0.25, 'o', 'h'],
      [1.000001, 'o', 'é'],
      [1.5, 'r', '100x30'],
      [2, 'o', '€\r\n'],
      [3, 'm', 'gap: 4096 bytes lost (client buffer full)'],
      [4, 'o', 'bad \ufffd byte\x1b[0m'],
      [9, 'm', 'exit 0'],
    ]);
    expect(fs.readFileSync(file, 'utf8').split('\n')[2]).toBe('[1.000001, "o", "é"]');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  });

  it('v3: term object, intervals since the previous event, an "x" exit event; --input and --title', async () => {
    sample();
    const file = join(tmp, 'x.cast');
    await exportSession(testIo, ID, opts(file, { format: 'asciicast-v3', input: true, title: 'demo' }), store);
    const [header, ...events] = lines(file) as [unknown, ...[number, string, string][]];
    expect(header).toEqual({ version: 3, term: { cols: 80, rows: 24, type: 'xterm-256color' }, timestamp: Date.parse(START) / 1000,
      title: 'demo', env: { SHELL: '/bin/zsh' } });
    expect(events.map(([, code, data]) => [code, data])).toEqual([
      ['o', 'h'], ['o', 'é'], ['i', 'ls\r'], ['r', '100x30'], ['o', '€\r\n'], ['m', 'gap: 4096 bytes lost (client buffer full)'],
      ['o', 'bad \ufffd byte\x1b[0m'], ['x', '0'],
    ]);
    // Intervals in µs, summed back: the absolute times of v2.
    let t = 0;
    const absolute = events.map(([dt]) => (t += Math.round(dt * 1e6)));
    expect(absolute).toEqual([250_000, 1_000_001, 1_200_000, 1_500_000, 2_000_000, 3_000_000, 4_000_000, 9_000_000]);
  });

  it('reports a killed shell, shows an unfinished sequence as U+FFFD at the end, and writes to stdout with -o -', async () => {
    const h = store.create({ id: ID, hostname: 'b', pid: 2, clientPid: 1, tty: '', shell: '/bin/sh', cwd: '/', term: '',
      cols: 80, rows: 24, startedAt: START });
    h.stream.output(5, Buffer.from([0x41, 0xe2, 0x82]));
    h.end(null, 9, 'exit', 7);
    await exportSession(testIo, ID, opts('-', { format: 'asciicast-v3' }), store);
    const text = out.trimEnd().split('\n');
    expect(JSON.parse(text[0] ?? '')).toMatchObject({ version: 3, term: { cols: 80, rows: 24 }, env: { SHELL: '/bin/sh' } });
    expect(text.slice(1)).toEqual(['[0.000005, "o", "A"]', '[0.000002, "o", "\ufffd"]', '[0.000000, "m", "killed by signal 9"]', '[0.000000, "x", "137"]']);
    await exportSession(testIo, ID, opts(join(tmp, 'k.cast')), store);
    expect(lines(join(tmp, 'k.cast')).slice(1)).toEqual([[0.000005, 'o', 'A'], [0.000007, 'o', '\ufffd'], [0.000007, 'm', 'killed by signal 9']]);
  });

  it('the marker of keys hidden at echo off is input: with --input only, flushing the input decoder but not the output', async () => {
    session((h) => {
      h.stream.output(1, Buffer.from('Pass\xe2', 'latin1')); // '→' = e2 86 92: cut by the marker, still joined
      h.stream.input(2, Buffer.from('x\xc3', 'latin1')); // an 'é' cut before keys were hidden: U+FFFD
      h.stream.gap(3, 0, INPUT_HIDDEN_REASON);
      h.stream.output(4, Buffer.from('\x86\x92word: ', 'latin1'));
      h.stream.input(5, Buffer.from('ls\r'));
    });
    const file = join(tmp, 'h.cast');
    await exportSession(testIo, ID, opts(file, { input: true }), store);
    expect(lines(file).slice(1)).toEqual([
      [0.000001, 'o', 'Pass'], [0.000002, 'i', 'x'], [0.000003, 'i', '\ufffd'], [0.000003, 'm', INPUT_HIDDEN_REASON],
      [0.000004, 'o', '→word: '], [0.000005, 'i', 'ls\r'], [9, 'm', 'exit 0'],
    ]);
    await exportSession(testIo, ID, opts(file, { force: true }), store);
    expect(lines(file).slice(1)).toEqual([[0.000001, 'o', 'Pass'], [0.000004, 'o', '→word: '], [9, 'm', 'exit 0']]);
  });

  it('formats µs as seconds without floating-point noise', () => {
    expect([0, 1, 999_999, 1_000_000, 4_503_599_627_370_497].map(seconds)).toEqual(['0.000000', '0.000001', '0.999999', '1.000000', '4503599627.370497']);
  });
});

describe('script', () => {
  it('writes the output bytes exactly after a header line, and a classic timing file', async () => {
    sample();
    const file = join(tmp, 'typescript');
    expect(await exportSession(testIo, ID, opts(file, { format: 'script' }), store)).toEqual([file, `${file}.timing`]);
    const bytes = fs.readFileSync(file);
    const header = 'Script started on 2026-11-21 10:00:00+00:00 [TERM="xterm-256color" TTY="/dev/pts/4" COLUMNS="80" LINES="24"]\n';
    const body = Buffer.from('h\xc3\xa9\xe2\x82\xac\r\nbad \xff byte\x1b[0m', 'latin1');
    const trailer = '\nScript done on 2026-11-21 10:00:09+00:00 [COMMAND_EXIT_CODE="0"]\n';
    expect(bytes.equals(Buffer.concat([Buffer.from(header), body, Buffer.from(trailer)]))).toBe(true);
    // Resize, input and gap are not output: their time counts into the next output's delay. No line for 0 bytes.
    expect(fs.readFileSync(`${file}.timing`, 'utf8')).toBe('0.250000 2\n0.750001 3\n0.999999 3\n2.000000 14\n');
  });

  it('refuses -o -, and an existing FILE.timing, without writing anything', async () => {
    sample();
    await expect(exportSession(testIo, ID, opts('-', { format: 'script' }), store)).rejects.toThrow(UsageError);
    fs.writeFileSync(join(tmp, 'ts.timing'), 'old');
    await expect(exportSession(testIo, ID, opts(join(tmp, 'ts'), { format: 'script' }), store)).rejects.toThrow(`${join(tmp, 'ts.timing')} already exists (use --force to replace it)`);
    expect(fs.readdirSync(tmp).sort()).toEqual(['sessions', 'ts.timing']);
  });
});

describe('writing files', () => {
  it('refuses to overwrite without --force and replaces with it', async () => {
    sample();
    const file = join(tmp, 'x.cast');
    fs.writeFileSync(file, 'keep');
    await expect(exportSession(testIo, ID, opts(file), store)).rejects.toThrow(UsageError);
    expect(fs.readFileSync(file, 'utf8')).toBe('keep');
    await exportSession(testIo, ID, opts(file, { force: true }), store);
    expect(fs.readFileSync(file, 'utf8')).toMatch(/^\{"version":2,/);
    expect(fs.readdirSync(tmp).sort()).toEqual(['sessions', 'x.cast']);
  });

  it('fails with one clear line and leaves nothing behind', async () => {
    sample();
    const missing = join(tmp, 'no', 'x.cast');
    await expect(exportSession(testIo, ID, opts(missing), store)).rejects.toThrow(new OmnishError(`cannot write ${missing}: no such file or directory`));
    fs.writeFileSync(join(tmp, 'file'), '');
    await expect(exportSession(testIo, ID, opts(join(tmp, 'file', 'x.cast')), store)).rejects.toThrow(/: not a directory$/);
    fs.mkdirSync(join(tmp, 'dir'));
    await expect(exportSession(testIo, ID, opts(join(tmp, 'dir'), { force: true }), store)).rejects.toThrow(`cannot write ${join(tmp, 'dir')}: `);
    // A disk that fills up mid-export: the temporary file goes away, no partial FILE appears.
    vi.mocked(fs.writeSync).mockImplementation(() => {
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    });
    const full = join(tmp, 'full.cast');
    await expect(exportSession(testIo, ID, opts(full), store)).rejects.toThrow(`cannot write ${full}: no space left on device`);
    expect(fs.readdirSync(tmp).sort()).toEqual(['dir', 'file', 'sessions']);
    expect(fs.readdirSync(join(tmp, 'dir'))).toEqual([]);
  });

  it('at a prompt, wants an absolute path (the client does not share the shell\'s cwd)', async () => {
    sample();
    const prompt: CommandIo = { out: () => undefined, err: () => undefined, raw: () => undefined, isTTY: true, atPrompt: true, setExitCode: () => undefined };
    await expect(exportSession(prompt, ID, opts('x.cast'), store)).rejects.toThrow(/at the prompt, give -o an absolute path/);
    await exportSession(prompt, ID, opts(join(tmp, 'p.cast')), store);
    expect(fs.existsSync(join(tmp, 'p.cast'))).toBe(true);
  });

  it('rejects unknown and ambiguous ids, and still exports a damaged stream before saying so', async () => {
    sample();
    session(() => undefined, 'abcdef999999');
    await expect(exportSession(testIo, 'ffff', opts(join(tmp, 'a.cast')), store)).rejects.toThrow(/no session matches 'ffff'/);
    await expect(exportSession(testIo, 'abcdef', opts(join(tmp, 'a.cast')), store)).rejects.toThrow(/is ambiguous/);
    const dir = store.resolve(ID).dir;
    fs.appendFileSync(join(dir, 'stream.bin'), Buffer.from([1, 0, 0]));
    const file = join(tmp, 'a.cast');
    await expect(exportSession(testIo, ID, opts(file), store)).rejects.toThrow(StoreError);
    expect(lines(file)).toHaveLength(8);
  });
});

describe('omnish export (command line)', () => {
  // The command table's wiring, with out and err both into `out`.
  const program = () => buildProgram([exportCommand], testIo);

  it('parses flags, requires -o and a known format, and shows examples in --help', async () => {
    sample();
    vi.stubEnv('OMNISH_DATA_DIR', tmp);
    const file = join(tmp, 'c.cast');
    await program().parseAsync(['export', 'abc', '-f', 'asciicast-v3', '-o', file, '-t', 'T'], { from: 'user' });
    expect(lines(file)[0]).toMatchObject({ version: 3, title: 'T' });
    await expect(program().parseAsync(['export', 'abc'], { from: 'user' })).rejects.toThrow(/required option '-o, --output <file>'/);
    await expect(program().parseAsync(['export', 'abc', '-f', 'gif', '-o', file], { from: 'user' })).rejects.toThrow(/Allowed choices are asciicast-v2, asciicast-v3, script/);
    out = '';
    await expect(program().parseAsync(['export', '--help'], { from: 'user' })).rejects.toThrow();
    expect(out).toContain('scriptreplay -t demo.timing -s demo');
    expect(out).toContain('omnish export a1b2 -o demo.cast');
  });
});
