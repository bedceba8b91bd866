/**
 * The one sanitizer for untrusted text that omnish writes to a terminal: LLM answers, explanations,
 * and the values a client or a program chose (cwd, tty, shell, command lines, error messages from
 * a server). A terminal obeys what it is sent: `ESC]52;c;…BEL` writes the clipboard, `ESC]0;…BEL`
 * the window title, `ESC[2J` clears the screen, an OSC 8 hyperlink hides where it leads, and a C1
 * control (U+0080–U+009F, e.g. U+009B CSI) acts like an ESC sequence on terminals that take them.
 * Bidi overrides make text read differently from what it is ("Trojan Source").
 *
 * So every such character is shown visibly instead: C0 controls and DEL in caret notation (`^[`,
 * `^G`, `^?`), C1 controls and bidi overrides/isolates as `<U+009B>`, `<U+202E>`; an unpaired
 * surrogate (what a broken UTF-8 decoder can leave) as U+FFFD. Working per character makes
 * streaming trivial: an escape sequence split across chunks is harmless because ESC itself is.
 * Everything else (ü, 日本, emoji) passes untouched.
 *
 * Two layouts: `sanitizeText` for multi-line text (answers, notices) keeps LF and TAB (and turns
 * CR LF into LF); `sanitizeLine` for one line or a table cell shows them too (`^J`, `^I`).
 * Replay and `show` write recorded bytes raw on purpose; they do not come here.
 */

/** What gets replaced. Kept: printable text; LF and TAB are decided by the layout. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE = /[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** The visible form of one unsafe character (a UTF-16 code unit matched by UNSAFE). */
function visible(c: string): string {
  const code = c.charCodeAt(0);
  if (code < 0x20) return `^${String.fromCharCode(code + 0x40)}`;
  if (code === 0x7f) return '^?';
  if (code >= 0xd800 && code <= 0xdfff) return '\ufffd';
  return `<U+${code.toString(16).toUpperCase().padStart(4, '0')}>`;
}

/**
 * Multi-line untrusted text made safe for a terminal: LF and TAB kept, CR LF turned into LF, every
 * other control character, C1 control and bidi override shown visibly. Idempotent.
 */
export function sanitizeText(text: string): string {
  return text.replace(/\r\n/g, '\n').replace(UNSAFE, (c) => (c === '\n' || c === '\t' ? c : visible(c)));
}

/** One line (a table cell, a title, a notification's summary): like sanitizeText, but LF and TAB shown too (`^J`, `^I`). */
export function sanitizeLine(text: string): string {
  return text.replace(UNSAFE, visible);
}

/** Bytes of untrusted origin, decoded as UTF-8 (an invalid sequence becomes U+FFFD), then sanitizeText or sanitizeLine. */
export function sanitizeBytes(bytes: Uint8Array, layout: 'text' | 'line' = 'text'): string {
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  return layout === 'text' ? sanitizeText(text) : sanitizeLine(text);
}

/**
 * sanitizeText for text that arrives in pieces (a streamed answer): what `push` returns, joined,
 * is what sanitizeText would make of the whole. A CR or a high surrogate at the end of a piece is
 * held back until the next piece says what it is (CR LF, a surrogate pair); `end` releases it.
 */
export class TextSanitizer {
  private held = '';

  /** The safe text of `chunk`, minus a trailing CR or high surrogate kept for the next call. */
  push(chunk: string): string {
    let text = this.held + chunk;
    this.held = '';
    const last = text.charCodeAt(text.length - 1);
    if (last === 0x0d || (last >= 0xd800 && last <= 0xdbff)) {
      this.held = text.slice(-1);
      text = text.slice(0, -1);
    }
    return sanitizeText(text);
  }

  /** Whatever was held back, made safe: call once the stream has ended. */
  end(): string {
    const rest = this.held;
    this.held = '';
    return sanitizeText(rest);
  }
}

/**
 * JSON for a terminal: JSON.stringify escapes C0 controls and unpaired surrogates itself but leaves
 * DEL, C1 controls and bidi overrides raw; these are written as `\u…` escapes too. The result is
 * the same JSON value, byte for byte safe to print.
 */
export function safeJson(value: unknown, indent = 2): string {
  return JSON.stringify(value, null, indent).replace(/[\x7f-\x9f\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
