import { describe, expect, it } from 'vitest';
import { Interceptor, type InterceptHost, type KeyRouter } from './intercept.js';
import { splitWords } from './prompt-commands.js';

function setup(atPrompt = true) {
  const shown: string[] = [];
  const forwarded: string[] = [];
  const ran: string[] = [];
  let redraws = 0;
  let finish: () => void = () => {};
  let router: KeyRouter | undefined;
  const host: InterceptHost = {
    atPrompt: () => atPrompt,
    show: (b) => void shown.push(b.toString()),
    redrawPrompt: () => void redraws++,
    run: (line, keys) => {
      ran.push(line);
      router = keys;
      return new Promise<void>((r) => (finish = r));
    },
    forward: (b) => void forwarded.push(b.toString()),
  };
  const ic = new Interceptor(host);
  ic.promptReady();
  const type = (s: string) => ic.filter(Buffer.from(s, 'utf8'))?.toString('utf8') ?? null;
  return { ic, type, shown, ran, forwarded, redraws: () => redraws, finish: () => finish(), keys: () => router! };
}

describe('Interceptor', () => {
  it('takes a line starting with :: at an empty prompt and runs it', async () => {
    const s = setup();
    expect(s.type(':')).toBeNull();
    expect(s.type(':')).toBeNull();
    for (const c of 'help') expect(s.type(c)).toBeNull();
    expect(s.type('\r')).toBeNull();
    expect(s.ran).toEqual(['help']);
    expect(s.shown.join('')).toBe('::help\r\n');
    s.finish();
    await new Promise((r) => setTimeout(r, 0));
    expect(s.redraws()).toBe(1);
    // Back at an empty prompt: another :: is intercepted again.
    expect(s.type('::')).toBeNull();
  });

  it('puts what a command typed ahead on the command line after the prompt, before keys typed meanwhile, and is then mid-line', async () => {
    const s = setup();
    s.type('::fix\r');
    s.keys().typeAhead('make -j1');
    expect(s.type('x')).toBeNull(); // a key typed while it runs waits
    expect(s.forwarded).toEqual([]);
    s.finish();
    await new Promise((r) => setTimeout(r, 0));
    expect(s.redraws()).toBe(1);
    expect(s.forwarded).toEqual(['make -j1', 'x']);
    // The line is not empty now: a :: typed next goes to the shell.
    expect(s.type('::')).toBe('::');
  });

  it('passes a single colon and what follows to the shell', () => {
    const s = setup();
    expect(s.type(':')).toBeNull();
    expect(s.type('x')).toBe(':x');
    expect(s.type(':')).toBe(':'); // mid-line now
  });

  it('passes :: typed mid-line, outside a prompt, or in a full-screen program', () => {
    const mid = setup();
    expect(mid.type('ls ')).toBe('ls ');
    expect(mid.type('::')).toBe('::');
    const busy = setup(false);
    expect(busy.type('::')).toBe('::');
  });

  it('handles backspace, Ctrl-U and Ctrl-C while editing', () => {
    const s = setup();
    s.type('::hé');
    s.type('\x7f'); // erases the whole two-byte character
    s.type('\r');
    expect(s.ran).toEqual(['h']);
    const c = setup();
    c.type('::replay');
    expect(c.type('\x03')).toBeNull();
    expect(c.ran).toEqual([]);
    expect(c.shown.join('')).toContain('^C\r\n');
    expect(c.redraws()).toBe(1);
    expect(c.type('x')).toBe('x');
    const u = setup();
    u.type('::abc');
    u.type('\x15');
    expect(u.shown.join('')).toContain('\b \b'.repeat(5));
    expect(u.type('::')).toBeNull(); // line is empty again
  });

  it('gives keys typed in the same chunk after the command line to the shell', async () => {
    const cancelled = setup();
    expect(cancelled.type('::repl\x03echo hi\r')).toBe('echo hi\r');
    const ran = setup();
    expect(ran.type('::help\rls\r')).toBeNull();
    expect(ran.ran).toEqual(['help']);
    ran.finish();
    await new Promise((r) => setTimeout(r, 0));
    expect(ran.forwarded).toEqual(['ls\r']);
  });

  it('keys typed while a command runs go to the shell afterwards; Ctrl-C nobody wants is dropped', async () => {
    const s = setup();
    s.type('::ask x\r');
    expect(s.type('echo hi\r')).toBeNull();
    expect(s.type('\x03')).toBeNull();
    expect(s.forwarded).toEqual([]);
    s.finish();
    await new Promise((r) => setTimeout(r, 0));
    expect(s.forwarded).toEqual(['echo hi\r']);
  });

  it('backspacing over the prefix leaves command mode', () => {
    const s = setup();
    s.type('::');
    s.type('\x7f');
    expect(s.type('ls')).toBe('ls');
  });

  it('ignores arrow keys while editing', () => {
    const s = setup();
    s.type('::ab\x1b[Dc\r');
    expect(s.ran).toEqual(['abc']);
  });
});

describe('splitWords', () => {
  it('splits like a shell for simple cases', () => {
    expect(splitWords('replay a1b2 --speed 2')).toEqual(['replay', 'a1b2', '--speed', '2']);
    expect(splitWords(`ask "why did it fail?" 'a b' c\\ d`)).toEqual(['ask', 'why did it fail?', 'a b', 'c d']);
    expect(splitWords('  ')).toEqual([]);
    expect(() => splitWords('ask "oops')).toThrow(/unterminated/);
  });
});
