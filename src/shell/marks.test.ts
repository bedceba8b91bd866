import { describe, expect, it } from 'vitest';
import { MarkParser, MAX_OSC_BYTES, unescapeMarkText, type MarkEvent } from './marks.js';

const NONCE = 'n0nce42';
const osc = (body: string, st = false): string => `\x1b]${body}${st ? '\x1b\\' : '\x07'}`;
const mark = (body: string, nonce = NONCE, st = false): string => osc(`${body};omnish=${nonce}`, st);
const bytes = (s: string): Buffer => Buffer.from(s, 'latin1');

/** Parses `text` (latin1: one char per byte) in one push. */
function parse(text: string | Buffer, nonce = NONCE): MarkEvent[] {
  return new MarkParser(nonce).push(typeof text === 'string' ? bytes(text) : text);
}

describe('MarkParser marks', () => {
  it('reports every mark with its offsets', () => {
    const a = mark('133;A');
    const text = `x${a}$ ${mark('133;B')}${mark('633;E;ls -l')}${mark('633;P;Cwd=/tmp')}${mark('133;C')}out\n${mark('133;D;2')}`;
    const events = parse(text);
    expect(events.map((e) => e.kind)).toEqual(['A', 'B', 'E', 'P', 'C', 'D']);
    expect(events[0]).toEqual({ kind: 'A', start: 1, offset: 1 + a.length });
    expect(events[2]?.command).toBe('ls -l');
    expect(events[3]?.cwd).toBe('/tmp');
    expect(events[5]?.exitCode).toBe(2);
    const c = events[4];
    const d = events[5];
    expect(text.slice(c?.offset, d?.start)).toBe('out\n');
    expect(d?.offset).toBe(text.length);
  });

  it('accepts ST as terminator and a D without status', () => {
    const events = parse(mark('133;D', NONCE, true) + mark('133;D;abc'));
    expect(events).toHaveLength(2);
    expect(events[0]).not.toHaveProperty('exitCode');
    expect(events[1]).not.toHaveProperty('exitCode');
  });

  it('unescapes VS Code style: \\\\, \\x3b and UTF-8 bytes', () => {
    expect(unescapeMarkText('a\\x3bb\\\\c\\x5c\\xc3\\xa9')).toBe('a;b\\c\\é');
    expect(unescapeMarkText('\\q \\x4')).toBe('\\q \\x4');
    const [e] = parse(mark('633;E;echo a\\x3b echo \\\\n \\xe2\\x9c\\x93'));
    expect(e?.command).toBe('echo a; echo \\n ✓');
    const [p] = parse(Buffer.concat([bytes('\x1b]633;P;Cwd=/home/'), Buffer.from('zoë'), bytes(`;omnish=${NONCE}\x07`)]));
    expect(p?.cwd).toBe('/home/zoë');
    // A command that looks like our parameter is still the command: the nonce is the last parameter.
    expect(parse(mark('633;E;omnish=1 ls'))[0]?.command).toBe('omnish=1 ls');
    expect(parse(mark('633;E;'))[0]?.command).toBe('');
  });

  it('ignores forged, foreign and malformed marks', () => {
    const forged = [
      mark('133;A', 'wrong'),
      mark('133;A', `${NONCE}x`),
      osc('133;A'), // fish 4's own marks carry no nonce
      osc('133;A;cl=m'),
      osc(`133;A;omnish=${NONCE};cl=m`), // the nonce must be the last parameter
      osc('7;file://host/tmp'),
      osc(`0;omnish=${NONCE}`),
      mark('133;E;ls'), // E and P belong to 633
      mark('633;P;Dir=/x'),
      mark('133;Z'),
      `\x1b[${mark('133;A').slice(2)}`,
    ].join('');
    expect(parse(forged)).toEqual([]);
  });

  it('rejects a nonce that could not appear in a mark', () => {
    expect(() => new MarkParser('')).toThrow(RangeError);
    expect(() => new MarkParser('a;b')).toThrow(RangeError);
  });

  it('tracks the alternate screen', () => {
    const p = new MarkParser(NONCE);
    const events = p.push(bytes('\x1b[?1049h\x1b[?25l\x1b[?1049l\x1b[?47h\x1b[?1047l\x1b[?1;1049h\x1b[?1049\x1b[1049h'));
    expect(events.map((e) => e.kind)).toEqual(['alt-on', 'alt-off', 'alt-on', 'alt-off', 'alt-on']);
    expect(events[0]).toEqual({ kind: 'alt-on', start: 0, offset: 8 });
    expect(p.altScreen).toBe(true);
  });

  it('cuts an OSC short at ESC, CAN and SUB', () => {
    const text = `\x1b]133;A\x1b${mark('133;B')}\x1b]133;C\x18${mark('133;D;1')}\x1b]633;E;x\x1a;omnish=${NONCE}\x07`;
    expect(parse(text).map((e) => e.kind)).toEqual(['B', 'D']);
  });

  it('abandons an oversize OSC and still finds later marks', () => {
    const p = new MarkParser(NONCE);
    const junk = bytes(`\x1b]133;${'x'.repeat(16 * 1024)}`);
    for (let k = 0; k < 6; k++) p.push(junk.subarray(k === 0 ? 0 : 2)); // > MAX_OSC_BYTES without a terminator
    expect((p as unknown as { oscLen: number }).oscLen).toBeLessThanOrEqual(MAX_OSC_BYTES);
    expect(p.push(bytes(`${mark('133;A')}`)).map((e) => e.kind)).toEqual(['A']);
    const long = mark(`633;E;${'y'.repeat(MAX_OSC_BYTES)}`);
    expect(parse(`${long}${mark('133;C')}`).map((e) => e.kind)).toEqual(['C']);
  });

  it('counts offsets across pushes and from a base offset', () => {
    const p = new MarkParser(NONCE);
    expect(p.push(bytes('hello'))).toEqual([]);
    expect(p.offset).toBe(5);
    const m = mark('133;C');
    expect(p.push(bytes(m))).toEqual([{ kind: 'C', start: 5, offset: 5 + m.length }]);
    expect(p.push(bytes(m), 1000)).toEqual([{ kind: 'C', start: 1000, offset: 1000 + m.length }]);
  });
});

const STREAM =
  `$ \x1b[1;32mok\x1b[0m${mark('133;A')}p${mark('133;B', NONCE, true)}${mark('633;E;vim a\\x3bb')}` +
  `${mark('633;P;Cwd=/t\\\\mp')}${osc('0;title')}${mark('133;C')}\x1b[?1049hfull\x1b[?1049l${mark('133;A', 'bad')}` +
  `\x1b]133;\x1b\x1b]7;x\x1b\\done\r\n${mark('133;D;0')}\x1b`;
const MARKS_REMOVED = STREAM.replace(new RegExp(`\\x1b\\]\\d+;[^\\x07\\x1b]*omnish=${NONCE}(\\x07|\\x1b\\\\)`, 'g'), '');

describe('MarkParser split at every byte', () => {
  const whole = parse(STREAM);

  it('has something to find', () => {
    expect(whole.map((e) => e.kind)).toEqual(['A', 'B', 'E', 'P', 'C', 'alt-on', 'alt-off', 'D']);
    expect(whole[2]?.command).toBe('vim a;b');
    expect(whole[3]?.cwd).toBe('/t\\mp');
  });

  it('finds the same marks for every split point and byte by byte', () => {
    const buf = bytes(STREAM);
    for (let k = 0; k <= buf.length; k++) {
      const p = new MarkParser(NONCE);
      expect([...p.push(buf.subarray(0, k)), ...p.push(buf.subarray(k))], `split at ${k}`).toEqual(whole);
    }
    const p = new MarkParser(NONCE);
    const events: MarkEvent[] = [];
    for (let k = 0; k < buf.length; k++) events.push(...p.push(buf.subarray(k, k + 1)));
    expect(events).toEqual(whole);
  });

  it('strips exactly our marks for every split point', () => {
    const buf = bytes(STREAM);
    for (let k = 0; k <= buf.length; k++) {
      const p = new MarkParser(NONCE);
      const a = p.pushAndStrip(buf.subarray(0, k));
      const b = p.pushAndStrip(buf.subarray(k));
      expect([...a.events, ...b.events], `split at ${k}`).toEqual(whole);
      const out = Buffer.concat([a.output, b.output, p.takeHeld()]).toString('latin1');
      expect(out, `split at ${k}`).toBe(MARKS_REMOVED);
    }
  });
});

describe('MarkParser fast path and stripping', () => {
  it('returns at once for a chunk without ESC, the same buffer when stripping', () => {
    const p = new MarkParser(NONCE);
    const chunk = Buffer.alloc(4096, 0x61);
    expect(p.push(chunk)).toEqual([]);
    const s = new MarkParser(NONCE);
    expect(s.pushAndStrip(chunk).output).toBe(chunk);
    const colored = bytes('\x1b[31mred\x1b[0m');
    expect(s.pushAndStrip(colored).output).toBe(colored);
  });

  it('withholds a possible mark at a chunk end and releases what is not ours', () => {
    const p = new MarkParser(NONCE);
    const first = p.pushAndStrip(bytes('ab\x1b]13'));
    expect(first.output.toString('latin1')).toBe('ab');
    const second = p.pushAndStrip(bytes('4;x\x07cd'));
    expect(second.output.toString('latin1')).toBe('\x1b]134;x\x07cd');
    expect(p.pushAndStrip(bytes('\x1b]0;t')).output.toString('latin1')).toBe('\x1b]0;t'); // a title: not ours, not held
    expect(p.pushAndStrip(bytes('\x07')).output.toString('latin1')).toBe('\x07');
    expect(p.pushAndStrip(bytes('x\x1b')).output.toString('latin1')).toBe('x');
    expect(p.takeHeld().toString('latin1')).toBe('\x1b');
  });

  it('keeps forged marks in the output', () => {
    const forged = mark('133;A', 'other');
    expect(new MarkParser(NONCE).pushAndStrip(bytes(`a${forged}${mark('133;B')}b`)).output.toString('latin1')).toBe(`a${forged}b`);
  });
});
