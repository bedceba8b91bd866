/**
 * The C mark parser (src/client/native/marks.c, through the addon's MarkParser) held to
 * src/shell/marks.ts, property-based: random streams of text, random bytes, escape fragments,
 * our marks, forged and foreign ones, unterminated and oversize OSCs and alt-screen CSIs, split
 * into chunks anywhere (and at every boundary when short), must give the same events (kind,
 * offsets, and a payload that decodes to what the TS event says) and, in strip mode, the same
 * output chunk for chunk and the same withheld bytes.
 *
 * Then the bounds of hostile output (issue 13.2): an unterminated 100 MB OSC through both parsers
 * and the daemon's command tracker, and a whole command cycle split at every pair of points.
 *
 * The seed is fixed when CI is set and random otherwise; fast-check prints it with the shrunk
 * counterexample on a failure, and FC_SEED=<seed> replays it. The addon is built by
 * `npx node-gyp rebuild`; this file fails, not skips, when it does not load.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadNativeAddon, type NativeAddon, type NativeMark, type NativeMarkParser } from '../src/client/native/addon.js';
import { CommandTracker } from '../src/daemon/commands.js';
import type { CommandRecord } from '../src/store/index.js';
import { parseMarkPayload } from '../src/shell/mark-payload.js';
import { MarkParser, MAX_OSC_BYTES, type MarkEvent } from '../src/shell/marks.js';
import { memBytes } from './helpers/procs.js';

const NONCE = 'n0nce42';
const TAG = `omnish=${NONCE}`;
const BEL = '\x07';
const ST = '\x1b\\';
const SEED = process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : process.env.CI ? 20261202 : undefined;

const loaded = loadNativeAddon();

function addon(): NativeAddon {
  if (!loaded.addon) throw new Error(`the native addon did not load (build it: npx node-gyp rebuild): ${loaded.error}`);
  return loaded.addon;
}

const bytes = (s: string): Buffer => Buffer.from(s, 'latin1');

/** A native event as the TS parser reports it: the payload decoded by parseMarkPayload. */
function decoded(e: NativeMark): MarkEvent {
  const { kind, start, offset, payload } = e;
  if (payload === undefined) return { kind, start, offset };
  const mark = parseMarkPayload(payload, TAG);
  if (mark?.kind !== kind) {
    throw new Error(`native ${kind} mark whose payload ${JSON.stringify(payload.slice(0, 80))} decodes to ${mark?.kind}`);
  }
  return { ...mark, start, offset };
}

/** Throws with a short excerpt at the first difference (a diff of 64 KiB buffers helps nobody). */
function sameBytes(native: Buffer, ts: Buffer, what: string): void {
  if (native.equals(ts)) return;
  let k = 0;
  while (k < native.length && k < ts.length && native[k] === ts[k]) k++;
  const around = (b: Buffer): string => JSON.stringify(b.subarray(Math.max(0, k - 20), k + 20).toString('latin1'));
  throw new Error(
    `${what}: native ${native.length} bytes, TS ${ts.length}, first difference at ${k}: native ${around(native)}, TS ${around(ts)}`,
  );
}

/** Short form of an event list for messages (payloads can be 64 KiB long). */
const brief = (events: MarkEvent[]): string =>
  JSON.stringify(events, (_k, v: unknown) => (typeof v === 'string' && v.length > 60 ? `${v.slice(0, 60)}…` : v));

function sameEvents(native: NativeMark[], ts: MarkEvent[], what: string): void {
  const got = native.map(decoded);
  try {
    expect(got).toEqual(ts);
  } catch {
    throw new Error(`${what}: native ${brief(got)}, TS ${brief(ts)}`);
  }
}

/** Feeds both parsers the same chunks, push() and pushAndStrip(), and compares after every chunk. */
function compare(chunks: Buffer[], takes: readonly boolean[] = []): void {
  const ts = new MarkParser(NONCE);
  const c = new (addon().MarkParser)(NONCE);
  chunks.forEach((chunk, k) => {
    sameEvents(c.push(chunk), ts.push(chunk), `push of chunk ${k}`);
    if (c.altScreen !== ts.altScreen) throw new Error(`altScreen after chunk ${k}: native ${c.altScreen}, TS ${ts.altScreen}`);
  });
  const tsS = new MarkParser(NONCE);
  const cS: NativeMarkParser = new (addon().MarkParser)(NONCE);
  const outTs: Buffer[] = [];
  const outC: Buffer[] = [];
  chunks.forEach((chunk, k) => {
    const a = cS.pushAndStrip(chunk);
    const b = tsS.pushAndStrip(chunk);
    sameEvents(a.events, b.events, `pushAndStrip of chunk ${k}`);
    sameBytes(a.output, b.output, `output of chunk ${k}`);
    outC.push(a.output);
    outTs.push(b.output);
    if (takes[k]) {
      // Taking the held bytes mid-stream is allowed; it exercises "never emit half a sequence".
      const [x, y] = [cS.takeHeld(), tsS.takeHeld()];
      sameBytes(x, y, `held bytes taken after chunk ${k}`);
      outC.push(x);
      outTs.push(y);
    }
  });
  outC.push(cS.takeHeld());
  outTs.push(tsS.takeHeld());
  sameBytes(outC.at(-1) ?? Buffer.alloc(0), outTs.at(-1) ?? Buffer.alloc(0), 'held bytes at the end');
  sameBytes(Buffer.concat(outC), Buffer.concat(outTs), 'whole output');
}

/** A stream piece: its bytes, and a short name for fast-check's counterexamples. */
interface Piece {
  text: string;
  label?: string;
}
const piece = (text: string, label?: string): Piece =>
  Object.assign({ text, label }, { [fc.toStringMethod]: () => label ?? JSON.stringify(text) });

const plainText = fc
  .string({ unit: fc.constantFrom(...'ab xyz\n\r\t;=\\é0123'.split('')), maxLength: 24 })
  .map((t) => piece(t));
const randomBytes = fc.uint8Array({ maxLength: 12 }).map((b) => piece(Buffer.from(b).toString('latin1')));
/** Random bytes drawn from the ones the parser looks at. */
const loadedBytes = fc
  .array(fc.constantFrom(...'\x1b\x07\x18\x1a\\][?;136APh l'.split('')), { maxLength: 12 })
  .map((a) => piece(a.join('')));
const escFragment = fc
  .constantFrom('\x1b', '\x1b]', '\x1b[', '\x1b[?', '\x1b]133;', '\x1b]633;', '\x1b]13', ST, BEL, '\x18', '\x1a', '\x1b\x1b', '\\',
    `;${TAG}`, `;${TAG}${BEL}`, `;${TAG}\x1b`, '\x1b]133;A')
  .map((t) => piece(t));
const colours = fc
  .constantFrom('\x1b[01;34m', '\x1b[0m', '\x1b[K', '\x1b[38;5;202m', '\x1b[2J\x1b[H', '\x1b(B', '\x1b=')
  .map((t) => piece(t));

/** Mark parameters: text with VS Code escapes, and values D and P care about. */
const param = fc.oneof(
  fc.string({ unit: fc.constantFrom('a', 'b', ' ', '/', '=', '.', '\\', '\\\\', '\\x3b', '\\xc3\\xa9', 'é', 'x'), maxLength: 6 }),
  fc.constantFrom('0', '-1', '2', '255', 'abc', '', '12345678901', '-0', 'Cwd=/tmp', 'Cwd=', 'Cwd=/t\\\\mp', 'Dir=/x',
    'cl=m', TAG),
);
/** Our marks, right or with one flaw that must make them text (or cut them short). */
const markLike = fc
  .record({
    head: fc.constantFrom('133;A', '133;B', '133;C', '133;D', '633;A', '633;D', '633;E', '633;P', '633;P', '133;E', '133;P'),
    params: fc.array(param, { maxLength: 2 }),
    cwd: param,
    end: fc.constantFrom(BEL, ST),
    flaw: fc.constantFrom(...Array<string>(8).fill(''), 'nonce', 'nonce+', 'nonce-', 'no tag', 'tag not last', 'code',
      'letter', 'no letter', 'no cwd', 'open', 'CAN', 'SUB', 'ESC'),
  })
  .map(({ head, params, cwd, end, flaw }) => {
    const ps = head.endsWith('P') ? [...params.slice(1), `${flaw === 'no cwd' ? 'Dir' : 'Cwd'}=${cwd}`] : params;
    const pick = (choices: Record<string, string>, otherwise: string): string => choices[flaw] ?? otherwise;
    const tag = pick(
      { nonce: ';omnish=wrong', 'nonce+': `;${TAG}x`, 'nonce-': `;${TAG.slice(0, -1)}`, 'no tag': '', 'tag not last': `;${TAG};cl=m` },
      `;${TAG}`,
    );
    const letterless = head.replace(/.$/, '');
    const h = pick({ code: head.replace(/^.33/, '1333'), letter: `${letterless}Z`, 'no letter': letterless }, head);
    const e = pick({ open: '', CAN: '\x18', SUB: '\x1a', ESC: '\x1b' }, end);
    return piece(`\x1b]${h}${ps.map((p) => `;${p}`).join('')}${tag}${e}`);
  });
/** fish 4's own marks and other programs' OSCs. */
const foreignOsc = fc
  .constantFrom(`\x1b]133;A${BEL}`, `\x1b]133;A;cl=m${BEL}`, `\x1b]133;D;0${ST}`, `\x1b]133;C;cmdline_url=ls${BEL}`,
    `\x1b]0;title${BEL}`, `\x1b]7;file://h/tmp${ST}`, `\x1b]8;;http://x${ST}link\x1b]8;;${ST}`, `\x1b]133;A;${TAG};cl=m${BEL}`)
  .map((t) => piece(t));
const altCsi = fc.oneof(
  fc
    // The last two: 64 parameter bytes (examined) and 66 (too long: ignored).
    .constantFrom('\x1b[?1049h', '\x1b[?1049l', '\x1b[?47h', '\x1b[?1047l', '\x1b[?1;1049h', '\x1b[?25l', '\x1b[?01049h',
      '\x1b[?1049', '\x1b[1049h', `\x1b[?${'1;'.repeat(30)}1049h`, `\x1b[?${'1;'.repeat(31)}1049h`)
    .map((t) => piece(t)),
  fc
    .tuple(fc.array(fc.constantFrom('1049', '1047', '47', '1', '25', '', '4'), { maxLength: 4 }), fc.constantFrom('h', 'l', 'm', ''))
    .map(([ps, f]) => piece(`\x1b[?${ps.join(';')}${f}`)),
);
/** An OSC whose payload is MAX_OSC_BYTES + delta long: kept at MAX, abandoned past it. */
const bigOsc = fc
  .record({ delta: fc.integer({ min: -2, max: 2 }), what: fc.constantFrom('ours', 'title', 'open'), end: fc.constantFrom(BEL, ST) })
  .map(({ delta, what, end }) => {
    const len = MAX_OSC_BYTES + delta;
    const size = `payload MAX${delta >= 0 ? '+' : ''}${delta}`;
    if (what === 'ours') return piece(`\x1b]633;E;${'x'.repeat(len - 7 - TAG.length)};${TAG}${end}`, `E mark, ${size}`);
    if (what === 'title') return piece(`\x1b]0;${'t'.repeat(len - 2)}${end}`, `title, ${size}`);
    return piece(`\x1b]133;${'z'.repeat(len - 4)}`, `unterminated 133, ${size}`);
  });

const pieceArb = fc.oneof(
  { arbitrary: plainText, weight: 4 },
  { arbitrary: randomBytes, weight: 2 },
  { arbitrary: loadedBytes, weight: 2 },
  { arbitrary: escFragment, weight: 3 },
  { arbitrary: colours, weight: 2 },
  { arbitrary: markLike, weight: 6 },
  { arbitrary: foreignOsc, weight: 2 },
  { arbitrary: altCsi, weight: 2 },
);
const stream = (maxPieces: number): fc.Arbitrary<Piece[]> => fc.array(pieceArb, { maxLength: maxPieces });

/** Chunks of `buf` cut at the given points (taken modulo its length; repeats make empty chunks). */
function chunked(buf: Buffer, cuts: number[]): Buffer[] {
  const at = cuts.map((c) => c % (buf.length + 1)).sort((a, b) => a - b);
  return [0, ...at].map((a, k) => buf.subarray(a, at[k] ?? buf.length));
}
const cutsArb = fc.array(fc.nat(), { maxLength: 10 });
const takesArb = fc.array(fc.integer({ min: 0, max: 7 }).map((x) => x === 0), { maxLength: 11 });
const join = (pieces: Piece[]): Buffer => bytes(pieces.map((p) => p.text).join(''));

describe('native MarkParser', () => {
  it('loads from the addon', () => {
    expect(loaded.error).toBeUndefined();
    expect(typeof addon().MarkParser).toBe('function');
  });

  it('matches marks.ts on random streams split at random points', () => {
    fc.assert(
      fc.property(stream(14), cutsArb, takesArb, (pieces, cuts, takes) => compare(chunked(join(pieces), cuts), takes)),
      { seed: SEED, numRuns: 3000, includeErrorInReport: true },
    );
  });

  it('matches marks.ts on short streams split at every point and byte by byte', () => {
    fc.assert(
      fc.property(stream(5), (pieces) => {
        const buf = join(pieces).subarray(0, 64);
        for (let k = 0; k <= buf.length; k++) compare([buf.subarray(0, k), buf.subarray(k)]);
        compare([...buf].map((_, k) => buf.subarray(k, k + 1)));
      }),
      { seed: SEED, numRuns: 400, includeErrorInReport: true },
    );
  });

  it('matches marks.ts around the 64 KiB OSC cap', () => {
    const pieces = fc.array(fc.oneof({ arbitrary: pieceArb, weight: 4 }, { arbitrary: bigOsc, weight: 1 }), { minLength: 1, maxLength: 5 });
    fc.assert(
      fc.property(pieces, cutsArb, takesArb, (ps, cuts, takes) => compare(chunked(join(ps), cuts), takes)),
      { seed: SEED, numRuns: 60, includeErrorInReport: true },
    );
  });

  it('finds a mark split inside its nonce and strips it', () => {
    const p = new (addon().MarkParser)(NONCE);
    const a = p.pushAndStrip(bytes(`x\x1b]133;D;7;omnish=n0`));
    expect(a).toEqual({ events: [], output: bytes('x') });
    const b = p.pushAndStrip(bytes(`nce42${BEL}y`));
    expect(b.output.toString('latin1')).toBe('y');
    expect(b.events).toEqual([{ kind: 'D', start: 1, offset: 26, payload: `133;D;7;${TAG}` }]);
    expect(p.takeHeld().length).toBe(0);
  });

  it('abandons a 100 KB unterminated OSC, passes it on and finds the next mark', () => {
    const p = new (addon().MarkParser)(NONCE);
    const junk = bytes(`\x1b]133;${'x'.repeat(100_000)}`);
    const mark = bytes(`\x1b]133;A;${TAG}${BEL}`);
    const out: Buffer[] = [];
    for (let k = 0; k < junk.length; k += 4096) {
      const r = p.pushAndStrip(junk.subarray(k, k + 4096));
      expect(r.events).toEqual([]);
      out.push(r.output);
    }
    const last = p.pushAndStrip(mark);
    expect(last.events).toEqual([{ kind: 'A', start: junk.length, offset: junk.length + mark.length, payload: `133;A;${TAG}` }]);
    out.push(last.output, p.takeHeld());
    expect(Buffer.concat(out).equals(junk)).toBe(true);
    const chunks: Buffer[] = [];
    for (let k = 0; k < junk.length; k += 4096) chunks.push(junk.subarray(k, k + 4096));
    compare([...chunks, mark]);
  });

  it('tracks the alternate screen', () => {
    const p = new (addon().MarkParser)(NONCE);
    expect(p.push(bytes('\x1b[?1049h'))).toEqual([{ kind: 'alt-on', start: 0, offset: 8 }]);
    expect(p.altScreen).toBe(true);
    expect(p.push(bytes('vim\x1b[?25l\x1b[?1'))).toEqual([]);
    expect(p.push(bytes('049l'))).toEqual([{ kind: 'alt-off', start: 17, offset: 25 }]);
    expect(p.altScreen).toBe(false);
  });

  it('passes a chunk without ESC through unchanged', () => {
    const p = new (addon().MarkParser)(NONCE);
    const chunk = Buffer.alloc(4096, 0x61);
    expect(p.push(chunk)).toEqual([]);
    expect(p.pushAndStrip(chunk)).toEqual({ events: [], output: chunk });
  });

  it('rejects a bad nonce as marks.ts does', () => {
    const Native = addon().MarkParser;
    for (const bad of ['', 'a;b', 'a b', 'é', 'a\0b']) {
      expect(() => new MarkParser(bad)).toThrow(RangeError);
      expect(() => new Native(bad)).toThrow(RangeError);
    }
    expect(() => new Native(5 as unknown as string)).toThrow(TypeError);
  });
});

/** A prompt and a command, as the bash integration prints them: A, B, E (command line), P (cwd), C, output, D. */
function cycle(cmd: string, out: string, exit: number): Buffer {
  const m = (body: string): string => `\x1b]${body};${TAG}${BEL}`;
  return bytes(`${m('133;A')}PROMPT$ ${m('133;B')}${cmd}\r\n${m(`633;E;${cmd.replace(/;/g, '\\x3b')}`)}${m('633;P;Cwd=/tmp')}` +
    `${m('133;C')}${out}${m(`133;D;${exit}`)}`);
}

describe('hostile output, bounded', () => {
  const MB100 = 100e6;
  const junk = Buffer.alloc(64 * 1024, 0x78); // one chunk, pushed again and again: the test itself allocates nothing per chunk
  const opener = bytes('\x1b]133;A;');
  const tailMark = cycle('echo after', 'after\r\n', 0);
  /** Calls `push` with the opener, then 100 MB of junk chunks; returns the offset after them. */
  const feedOsc = (push: (chunk: Buffer, fed: number) => void): number => {
    let fed = opener.length;
    push(opener, fed);
    for (let n = 0; n < MB100; n += junk.length) push(junk, (fed += junk.length));
    return fed;
  };

  it('an unterminated 100 MB OSC: both parsers and the command tracker hold at most the 64 KiB cap, and find the marks after it', () => {
    const ts = new MarkParser(NONCE);
    const tsS = new MarkParser(NONCE);
    const c = new (addon().MarkParser)(NONCE);
    const tracker = new CommandTracker(NONCE);
    let passed = 0; // bytes strip mode passed on
    const all = (chunk: Buffer): { ts: MarkEvent[]; c: NativeMark[]; records: CommandRecord[] } => {
      const a = ts.push(chunk);
      const x = tsS.pushAndStrip(chunk);
      passed += x.output.length;
      return { ts: [...a, ...x.events], c: c.push(chunk), records: tracker.output(0, chunk).map((f) => f.record) };
    };
    const before = memBytes(process.pid);
    let halfway = 0;
    const at = feedOsc((chunk, fed) => {
      const ev = all(chunk);
      if (ev.ts.length + ev.c.length + ev.records.length > 0) throw new Error(`an event inside the OSC: ${brief(ev.ts)}`);
      // Strip mode withholds at most the cap (and the OSC's opener).
      if (fed - passed > MAX_OSC_BYTES + opener.length) throw new Error(`${fed - passed} bytes withheld after ${fed}`);
      if (halfway === 0 && fed >= MB100 / 2) halfway = memBytes(process.pid);
    });
    const end = memBytes(process.pid);
    const tail = all(tailMark);
    expect(tail.ts.map((e) => e.kind)).toEqual([...'ABEPCD', ...'ABEPCD']); // push, then pushAndStrip
    sameEvents(tail.c, tail.ts.slice(0, 6), 'events after the OSC');
    expect(tail.ts[0]).toMatchObject({ kind: 'A', start: at });
    // Strip mode passed the OSC on (whole, once it was over the cap) and withholds nothing now.
    expect(tsS.takeHeld().length).toBe(0);
    expect(passed).toBe(at + 'PROMPT$ echo after\r\nafter\r\n'.length);
    // The tracker attributes the command after it, offsets included.
    expect(tail.records).toHaveLength(1);
    expect(tail.records[0]).toMatchObject({ seq: 1, command: 'echo after', cwd: '/tmp', exitCode: 0 });
    expect(tail.records[0]!.outputEnd - tail.records[0]!.outputStart).toBe('after\r\n'.length);
    // Keeping the OSC would add 50 MB between the halfway mark and the end.
    const figures = `RSS ${(before / 2 ** 20).toFixed(1)} MiB, after 50 MB ${(halfway / 2 ** 20).toFixed(1)}, after 100 MB ${(end / 2 ** 20).toFixed(1)}`;
    expect(end - halfway, figures).toBeLessThan(16 * 2 ** 20);
  });

  it('an unterminated 100 MB OSC in strip mode: the native parser passes on what marks.ts passes on, withholding at most the cap', () => {
    // Apart from the test above: the addon's pushAndStrip returns a new buffer per chunk, garbage
    // that V8 collects late (35 MB over 100 MB), which would blur the memory figure there.
    const ts = new MarkParser(NONCE);
    const c = new (addon().MarkParser)(NONCE);
    let passed = 0;
    const at = feedOsc((chunk, fed) => {
      const [x, y] = [ts.pushAndStrip(chunk), c.pushAndStrip(chunk)];
      sameBytes(y.output, x.output, `stripped output at ${fed}`);
      passed += y.output.length;
      if (fed - passed > MAX_OSC_BYTES + opener.length) throw new Error(`${fed - passed} bytes withheld after ${fed}`);
    });
    const [x, y] = [ts.pushAndStrip(tailMark), c.pushAndStrip(tailMark)];
    sameEvents(y.events, x.events, 'events after the OSC');
    expect(y.events.map((e) => e.kind)).toEqual([...'ABEPCD']);
    expect(passed + y.output.length).toBe(at + 'PROMPT$ echo after\r\nafter\r\n'.length);
    expect(c.takeHeld().length).toBe(0);
  });

  it('a command cycle split at every pair of points: the same events in both parsers and the same command records', () => {
    const first = cycle('ls -l; false', 'a\x1b[01;34mb\x1b[0m\r\n', 1);
    const buf = Buffer.concat([first, cycle('echo ok', 'ok\r\n', 0)]);
    const records = (chunks: Buffer[]): string => {
      const t = new CommandTracker(NONCE);
      return JSON.stringify(chunks.flatMap((chunk) => t.output(0, chunk).map((f) => f.record)));
    };
    const want = records([buf]);
    expect((JSON.parse(want) as CommandRecord[]).map((r) => [r.command, r.exitCode])).toEqual([['ls -l; false', 1], ['echo ok', 0]]);
    for (let i = 0; i <= buf.length; i++) {
      compare([buf.subarray(0, i), buf.subarray(i)]);
      // Three chunks: every pair of cut points within the first command, the second one whole after them.
      for (let j = i; j <= first.length && i <= first.length; j++) {
        const got = records([buf.subarray(0, i), buf.subarray(i, j), buf.subarray(j)]);
        if (got !== want) throw new Error(`split at ${i} and ${j}: ${got}`);
      }
    }
    compare([...buf].map((_, k) => buf.subarray(k, k + 1)));
  });
});
