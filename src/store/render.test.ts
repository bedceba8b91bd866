import { describe, expect, it } from 'vitest';
import { renderOutput } from './render.js';

describe('renderOutput', () => {
  it('keeps every line of an output longer than the screen, and joins wrapped rows', async () => {
    const lines = Array.from({ length: 300 }, (_, i) => `line ${i}`);
    const text = await renderOutput(Buffer.from(`${lines.join('\r\n')}\r\n${'w'.repeat(50)}`), 20, { rows: 5 });
    expect(text).toBe(`${lines.join('\n')}\n${'w'.repeat(50)}`);
  });

  it('applies cursor movement and erasing', async () => {
    expect(await renderOutput(Buffer.from('abc\r\nxyz\x1b[1A\x1b[2K\rAB\r\n\r\n'), 80)).toBe('AB\nxyz');
    expect(await renderOutput(Buffer.alloc(0), 80)).toBe('');
  });
});
