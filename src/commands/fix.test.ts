import { describe, expect, it } from 'vitest';
import { typeableCommand } from './fix.js';

describe('typeableCommand', () => {
  it('keeps a plain one-line command, trimmed', () => {
    expect(typeableCommand('  make -j1 && ./run "a b"  ')).toBe('make -j1 && ./run "a b"');
    expect(typeableCommand('grep -r é ./src')).toBe('grep -r é ./src');
  });

  it('refuses what a line editor would take as keys, saying what it saw (sanitized)', () => {
    expect(() => typeableCommand('ls\nrm -rf /')).toThrow(/spans lines.*ls\^Jrm -rf \//);
    expect(() => typeableCommand('ls\r')).not.toThrow(); // trimmed away
    expect(() => typeableCommand('ls\tx')).toThrow(/control characters/);
    expect(() => typeableCommand('echo \x1b[31mred')).toThrow(/control characters.*: echo \^\[\[31mred$/);
    expect(() => typeableCommand('echo \x15clear')).toThrow(/control characters/);
    expect(() => typeableCommand('echo \u202eevil')).toThrow(/control characters/);
    expect(() => typeableCommand('echo a\u200bb')).toThrow(/control characters/);
  });
});
