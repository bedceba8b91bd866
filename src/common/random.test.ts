import { describe, expect, it } from 'vitest';
import { randomHex } from './random.js';

describe('randomHex', () => {
  it('gives 2 × n lowercase hex characters, different every time', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 100; i++) {
      const h = randomHex(16);
      expect(h).toMatch(/^[0-9a-f]{32}$/);
      seen.add(h);
    }
    expect(seen.size).toBe(100);
    expect(randomHex(6)).toMatch(/^[0-9a-f]{12}$/);
  });

  it('uses every hex digit in both nibbles (not a constant or a counter)', () => {
    const s = Array.from({ length: 200 }, () => randomHex(16)).join('');
    for (const d of '0123456789abcdef') expect(s).toContain(d);
    expect(new Set(s.match(/../g)).size).toBeGreaterThan(200);
  });
});
