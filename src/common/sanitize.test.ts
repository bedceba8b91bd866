import { describe, expect, it } from 'vitest';
import { safeJson, sanitizeBytes, sanitizeLine, sanitizeText, TextSanitizer } from './sanitize.js';

/** True when `s` holds a character a terminal could act on (C0 but LF/TAB, DEL, C1, bidi, lone surrogate). */
function unsafe(s: string, allow = '\n\t'): boolean {
  for (const c of s) {
    const code = c.codePointAt(0) ?? 0;
    if (allow.includes(c)) continue;
    if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) return true;
    if ((code >= 0x202a && code <= 0x202e) || (code >= 0x2066 && code <= 0x2069)) return true;
    if (code >= 0xd800 && code <= 0xdfff) return true;
  }
  return false;
}

describe('sanitizeText and sanitizeLine', () => {
  it('shows every C0 control and DEL in caret notation; text keeps LF and TAB, a line does not', () => {
    for (let code = 0; code < 0x20; code++) {
      const c = String.fromCharCode(code);
      const caret = `^${String.fromCharCode(code + 0x40)}`;
      expect(sanitizeLine(`a${c}b`)).toBe(`a${caret}b`);
      expect(sanitizeText(`a${c}b`)).toBe(c === '\n' || c === '\t' ? `a${c}b` : `a${caret}b`);
    }
    expect(sanitizeText('a\x7fb')).toBe('a^?b');
    expect(sanitizeLine('a\x7fb')).toBe('a^?b');
  });

  it('shows every C1 control (U+0080–U+009F) as <U+XXXX>', () => {
    for (let code = 0x80; code <= 0x9f; code++) {
      const shown = `<U+${code.toString(16).toUpperCase().padStart(4, '0')}>`;
      expect(sanitizeText(`x${String.fromCharCode(code)}y`)).toBe(`x${shown}y`);
      expect(sanitizeLine(`x${String.fromCharCode(code)}y`)).toBe(`x${shown}y`);
    }
    // CSI 2 J in its 8-bit form, as UTF-8 bytes C2 9B.
    expect(sanitizeBytes(Buffer.from([0xc2, 0x9b, 0x32, 0x4a]))).toBe('<U+009B>2J');
  });

  it('defuses escape sequences: clipboard, title, clear screen, hyperlink', () => {
    expect(sanitizeText('\x1b]52;c;aGVsbG8=\x07')).toBe('^[]52;c;aGVsbG8=^G');
    expect(sanitizeText('\x1b]0;PWNED\x1b\\')).toBe('^[]0;PWNED^[\\');
    expect(sanitizeText('\x1b[2J\x1b[H')).toBe('^[[2J^[[H');
    expect(sanitizeText('\x1b]8;;https://evil.example/\x07click\x1b]8;;\x07')).toBe('^[]8;;https://evil.example/^Gclick^[]8;;^G');
    expect(sanitizeText('\x1bP+q544e\x1b\\')).toBe('^[P+q544e^[\\');
  });

  it('neutralises bidi overrides and isolates, and nothing else of the bidi range', () => {
    for (const code of [0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069]) {
      const shown = `<U+${code.toString(16).toUpperCase()}>`;
      expect(sanitizeText(`a${String.fromCharCode(code)}b`)).toBe(`a${shown}b`);
      expect(sanitizeLine(`a${String.fromCharCode(code)}b`)).toBe(`a${shown}b`);
    }
    expect(sanitizeText('user\u202Egnp.exe')).toBe('user<U+202E>gnp.exe');
  });

  it('leaves valid multibyte text alone', () => {
    const text = 'Grüße, 日本語, עברית, emoji 🎉👩‍💻, combining é, wide ＡＢ, box ╭─╮ │ ╰';
    expect(sanitizeText(text)).toBe(text);
    expect(sanitizeLine(text)).toBe(text);
    expect(sanitizeBytes(Buffer.from(text, 'utf8'))).toBe(text);
  });

  it('turns invalid UTF-8 and unpaired surrogates into U+FFFD', () => {
    // A lone 8-bit CSI, a truncated sequence, an overlong NUL, a surrogate encoded in UTF-8.
    const out = sanitizeBytes(Buffer.from([0x61, 0x9b, 0x62, 0xe6, 0x97, 0x63, 0xc0, 0x80, 0xed, 0xa0, 0x80, 0x64]));
    expect(out.replace(/\ufffd+/g, '?')).toBe('a?b?c?d');
    expect(unsafe(out)).toBe(false);
    expect(sanitizeText('a\ud800b\udc00c')).toBe('a\ufffdb\ufffdc');
    expect(sanitizeText('pair \ud83c\udf89')).toBe('pair 🎉');
  });

  it('keeps line structure in text: CR LF becomes LF, a lone CR is shown', () => {
    expect(sanitizeText('one\r\ntwo\rthree')).toBe('one\ntwo^Mthree');
    expect(sanitizeLine('one\r\ntwo\tthree')).toBe('one^M^Jtwo^Ithree');
  });

  it('is idempotent and leaves nothing a terminal acts on, over every code unit', () => {
    let all = '';
    for (let code = 0; code < 0x3000; code++) all += String.fromCharCode(code);
    all += '\ud800\udfff\udc00';
    for (const f of [sanitizeText, sanitizeLine]) {
      const once = f(all);
      expect(f(once)).toBe(once);
    }
    expect(unsafe(sanitizeText(all))).toBe(false);
    expect(unsafe(sanitizeLine(all), '')).toBe(false);
  });
});

describe('TextSanitizer (streamed text)', () => {
  it('neutralises an escape sequence split across chunks', () => {
    const s = new TextSanitizer();
    const out = ['ok \x1b', ']52;c;', 'ZXZpbA==', '\x07 \x1b[', '2J done'].map((c) => s.push(c)).join('') + s.end();
    expect(out).toBe('ok ^[]52;c;ZXZpbA==^G ^[[2J done');
  });

  it('gives the same text as sanitizeText of the whole, however it is cut', () => {
    const text = 'a\r\nb\rc 🎉 \x1b[31m\u009b\u202e ü\r';
    for (let cut = 0; cut <= text.length; cut++) {
      const s = new TextSanitizer();
      expect(s.push(text.slice(0, cut)) + s.push(text.slice(cut)) + s.end()).toBe(sanitizeText(text));
    }
  });
});

describe('safeJson', () => {
  it('is the same JSON with DEL, C1 and bidi escaped', () => {
    const value = { cwd: '/tmp/\x1b]0;x\x07\u009b\u202e\x7f', n: 1, name: 'Grüße 日本' };
    const json = safeJson(value);
    expect(JSON.parse(json)).toEqual(value);
    expect(unsafe(json)).toBe(false);
    expect(json).toContain('Grüße 日本');
    expect(json).toContain('\\u009b\\u202e\\u007f');
  });
});
