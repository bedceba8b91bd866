/**
 * `::` commands at the prompt. The client watches what the user types; when the line starts with
 * the command prefix (default `::`) while the shell sits at an empty prompt on the normal screen,
 * the client edits that line itself: it echoes, handles backspace, Ctrl-U, Ctrl-C and Enter, and
 * runs the command. The shell never sees the line, so it is not in the history and `$?` does not
 * change; afterwards the client draws the prompt again and the user is where they were.
 * Anywhere else (inside a program, mid-line, a full-screen program, no shell integration) every
 * byte passes through untouched.
 */
import { StringDecoder } from 'node:string_decoder';

/** What the interceptor needs from the rest of the client. */
export interface InterceptHost {
  /** True when the shell is at a prompt, waiting for input, on the normal screen, in the foreground. */
  atPrompt(): boolean;
  /** Writes bytes to the user's terminal. */
  show(bytes: Buffer | string): void;
  /** Draws the shell's prompt again (after a `::` command's output). */
  redrawPrompt(): void;
  /** Runs a `::` command line; keys typed meanwhile go to `keys`. Resolves when it is done. */
  run(line: string, keys: KeyRouter): Promise<void>;
  /** Sends bytes to the shell (keys typed ahead of a `::` command's end, given back afterwards). */
  forward(bytes: Buffer): void;
  /** Called when a `::` command has finished and its typed-ahead keys were handled. */
  settled?(): void;
}

/**
 * Routes keys typed while a `::` command runs to whoever listens (e.g. replay's q), and holds what
 * the command puts on the shell's command line for when it ends (`::fix`).
 */
export class KeyRouter {
  private listener: ((key: Buffer) => boolean | void) | undefined;
  private typed: Buffer[] = [];

  /** Text for the shell's command line once the command has ended (see CommandIo.typeAhead). */
  typeAhead(text: string): void {
    this.typed.push(Buffer.from(text, 'utf8'));
  }

  /** What typeAhead collected, emptied. */
  takeTyped(): Buffer {
    return Buffer.concat(this.typed.splice(0));
  }

  /** Subscribes; a listener returns false for keys it does not use. Returns the unsubscribe function. */
  listen(listener: (key: Buffer) => boolean | void): () => void {
    this.listener = listener;
    return () => {
      if (this.listener === listener) this.listener = undefined;
    };
  }

  /** Delivers a key; returns false when nobody listens or the listener does not use it. */
  deliver(key: Buffer): boolean {
    if (!this.listener) return false;
    return this.listener(key) !== false;
  }
}

const CTRL_C = 0x03;
const CTRL_U = 0x15;
const BACKSPACE = [0x7f, 0x08];
const ENTER = [0x0d, 0x0a];

export class Interceptor {
  private mode: 'pass' | 'held' | 'edit' | 'running' = 'pass';
  private lineEmpty = false;
  private held = '';
  private line = '';
  private readonly decoder = new StringDecoder('utf8');
  private readonly keys = new KeyRouter();
  /** Keys typed in the same chunk after Enter: they belong to whatever comes after the command. */
  private typeahead: Buffer[] = [];

  constructor(
    private readonly host: InterceptHost,
    private readonly prefix = '::',
  ) {}

  /** True when keys pass straight to the shell (no `::` line is being typed or run). */
  get passing(): boolean {
    return this.mode === 'pass';
  }

  /** True when, as far as the keys seen here tell, the shell's input line is empty. */
  get lineIsEmpty(): boolean {
    return this.lineEmpty;
  }

  /** True when nothing is typed at a ready prompt: text can be shown above it and the prompt redrawn. */
  idleAtEmptyPrompt(): boolean {
    return this.mode === 'pass' && this.lineEmpty && this.host.atPrompt();
  }

  /** A new prompt is ready: the input line is empty. */
  promptReady(): void {
    if (this.mode === 'pass') this.lineEmpty = true;
  }

  /** Filters the user's keystrokes; returns the bytes for the shell (null: none). */
  filter(data: Buffer): Buffer | null {
    switch (this.mode) {
      case 'running':
        // Keys the command does not use are typed ahead for the shell, as a terminal queues them
        // while any program runs; a Ctrl-C nobody wants is shown and dropped.
        if (this.keys.deliver(data)) return null;
        if (data.includes(CTRL_C)) this.host.show('^C');
        else this.typeahead.push(Buffer.from(data));
        return null;
      case 'edit':
        return this.edit(data);
      case 'held':
        return this.continuePrefix(data);
      case 'pass':
        if (this.lineEmpty && this.host.atPrompt() && data[0] === this.prefix.charCodeAt(0)) return this.continuePrefix(data);
        this.lineEmpty = false;
        return data;
    }
  }

  /** Collects the prefix: hold bytes while they could still become it; give them up otherwise. */
  private continuePrefix(data: Buffer): Buffer | null {
    const text = this.held + data.toString('latin1');
    if (text.length < this.prefix.length && this.prefix.startsWith(text)) {
      this.held = text;
      this.mode = 'held';
      return null;
    }
    this.held = '';
    if (text.startsWith(this.prefix)) {
      this.mode = 'edit';
      this.line = '';
      this.host.show(this.prefix);
      const rest = Buffer.from(text.slice(this.prefix.length), 'latin1');
      return rest.length > 0 ? this.edit(rest) : null;
    }
    this.mode = 'pass';
    this.lineEmpty = false;
    return Buffer.from(text, 'latin1');
  }

  /** Edits the command line; returns the bytes after the point where command mode ended, for the shell. */
  private edit(data: Buffer): Buffer | null {
    let i = 0;
    for (; i < data.length && this.mode === 'edit'; i++) {
      const byte = data[i]!;
      if (ENTER.includes(byte)) this.submit();
      else if (byte === CTRL_C) this.cancel('^C');
      else if (byte === CTRL_U) this.cancel('', true);
      else if (BACKSPACE.includes(byte)) this.backspace();
      else if (byte === 0x1b) i = skipEscape(data, i);
      else if (byte >= 0x20) this.type(data.subarray(i, i + 1));
    }
    if (i >= data.length) return null;
    const rest = Buffer.from(data.subarray(i));
    if (this.mode === 'running') {
      this.typeahead.push(rest);
      return null;
    }
    return this.filter(rest);
  }

  private type(byte: Buffer): void {
    const text = this.decoder.write(byte);
    if (!text) return;
    this.line += text;
    this.host.show(text);
  }

  private backspace(): void {
    if (this.line.length === 0) {
      // Erasing into the prefix leaves command mode: the shell's line was empty all along.
      this.cancel('', true);
      return;
    }
    const chars = [...this.line];
    chars.pop();
    this.line = chars.join('');
    this.host.show('\b \b');
  }

  /** Leaves command mode: `erase` wipes what was shown, otherwise `mark` is shown and a fresh prompt drawn. */
  private cancel(mark: string, erase = false): void {
    const shown = [...this.prefix].length + [...this.line].length;
    this.mode = 'pass';
    this.lineEmpty = true;
    this.line = '';
    if (erase) {
      this.host.show('\b \b'.repeat(shown));
      return;
    }
    this.host.show(`${mark}\r\n`);
    this.host.redrawPrompt();
  }

  private submit(): void {
    const line = this.line.trim();
    this.line = '';
    this.host.show('\r\n');
    this.mode = 'running';
    void this.host.run(line, this.keys).finally(() => {
      this.mode = 'pass';
      this.lineEmpty = true;
      this.host.redrawPrompt();
      // What the command typed goes first and unfiltered (it is never a `::` line), then the user's keys.
      const typed = this.keys.takeTyped();
      if (typed.length > 0) {
        this.lineEmpty = false;
        this.host.forward(typed);
      }
      const typeahead = Buffer.concat(this.typeahead.splice(0));
      const forward = typeahead.length > 0 ? this.filter(typeahead) : null;
      if (forward && forward.length > 0) this.host.forward(forward);
      this.host.settled?.();
    });
  }
}

/** Index of the last byte of the escape sequence starting at `i` (arrow keys and the like are ignored in command mode). */
function skipEscape(data: Buffer, i: number): number {
  if (data[i + 1] !== 0x5b && data[i + 1] !== 0x4f) return i + 1 < data.length ? i + 1 : i; // ESC x
  let j = i + 2;
  while (j < data.length && (data[j]! < 0x40 || data[j]! > 0x7e)) j++;
  return Math.min(j, data.length - 1);
}
