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
