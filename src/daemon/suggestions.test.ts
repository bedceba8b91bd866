import { describe, expect, it } from 'vitest';
import { cleanSuggestion, MAX_SUGGESTION_CHARS, Suggestions } from './suggestions.js';

describe('suggestions', () => {
  it('keep one line without control characters, C1 controls or bidi overrides', () => {
    expect(cleanSuggestion('  make -j1 \n rm -rf /')).toBe('make -j1');
    expect(cleanSuggestion('\n\n  ls\x1b]52;c;aGk=\x07 -l\u202e\u009b')).toBe('ls]52;c;aGk= -l');
    expect(cleanSuggestion('a\rb')).toBe('a');
    expect(cleanSuggestion(' \n\t')).toBeNull();
    expect(cleanSuggestion(42)).toBeNull();
    expect([...cleanSuggestion('é'.repeat(2000))!].length).toBe(MAX_SUGGESTION_CHARS);
  });

  it('the latest per session, for an hour', () => {
    let now = 0;
    const s = new Suggestions(() => now);
    expect(s.set('a', 'first')).toBe('first');
    expect(s.set('a', '\x07')).toBeNull(); // nothing left: the earlier one stays
    expect(s.set('b', 'other')).toBe('other');
    expect(s.get('a')).toEqual({ command: 'first', atMs: 0 });
    now = 3_600_001;
    expect(s.get('a')).toBeUndefined();
  });
});
