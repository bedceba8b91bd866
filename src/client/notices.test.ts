import { describe, expect, it } from 'vitest';
import { format, Notices } from './notices.js';

describe('Notices', () => {
  it('shows at a quiet prompt: clears the line, prints above, redraws the prompt', () => {
    const out: string[] = [];
    let idle = false;
    let redraws = 0;
    const n = new Notices({ idle: () => idle, show: (t) => void out.push(t), redrawPrompt: () => void redraws++ });
    n.add('make', 'Missing target.');
    expect(out).toEqual([]); // busy: held
    idle = true;
    n.flush();
    expect(out[0]).toMatch(/^\r\x1b\[K/);
    expect(out[0]).toContain('Missing target.');
    expect(redraws).toBe(1);
    n.flush();
    expect(out).toHaveLength(1); // shown once
  });

  it('formats with CR LF and caps long answers', () => {
    const text = format('ls /x', Array.from({ length: 30 }, (_, i) => `line ${i}`).join('\n'));
    expect(text).toContain('`ls /x`');
    expect(text).not.toMatch(/[^\r]\n/);
    expect(text).toContain('line 19');
    expect(text).not.toContain('line 20\r');
    expect(text).toContain('10 more lines');
  });
});

describe('format of untrusted text', () => {
  it('writes no escape sequence of the answer or the command, only its own styling', () => {
    const hostile = 'a\x1b]52;c;ZXZpbA==\x07b\x1b]0;PWNED\x07\x1b[2J\u009b31m\u202e\x1b]8;;http://x/\x07c';
    const text = format(`make ${hostile}\nsecond line`, `Because ${hostile}\r\nfix:\tit`);
    const own = text.replace(/\x1b\[2m|\x1b\[0m|\r\n/g, '');
    expect(own).not.toMatch(/[\x00-\x08\x0a-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/);
    expect(text).toContain('^[]52;c;ZXZpbA==^G');
    expect(text).toContain('<U+009B>31m<U+202E>');
    expect(text).toContain('│ fix:\tit');
    expect(text).not.toContain('second line');
  });

  it('shows a suggested command on the last line, bold, sanitized', () => {
    const text = format('make', 'No space left.', 'rm -rf build\x1b]52;c;ZXZpbA==\x07\nreboot');
    expect(text).toMatch(/╰ suggested: \x1b\[22;1mrm -rf build\^\[\]52;c;ZXZpbA==\^G\^Jreboot\x1b\[0m\x1b\[2m {2}\(::fix puts it on your command line\)\x1b\[0m\r\n$/);
    expect(text.replace(/\x1b\[(2|0|22;1)m|\r\n/g, '')).not.toMatch(/[\x00-\x08\x0a-\x1f\x7f-\x9f]/);
    expect(format('make', 'ok')).toMatch(/╰\x1b\[0m\r\n$/);
  });

  it('cuts a long command in the title', () => {
    const text = format(`echo ${'x'.repeat(100)}`, 'ok');
    expect(text).toContain(`\`echo ${'x'.repeat(54)}…\``);
  });
});
