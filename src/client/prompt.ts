/**
 * Where the shell is, read from its output: at a prompt, the user typing, a command running, a
 * full-screen program on the alternate screen. Built on the shell integration's marks (OSC 133/633
 * with the session's nonce, see src/shell/marks.ts); heuristics are never the main path.
 *
 * It runs in the relay's hot path: the mark parser's fast path skips chunks without ESC, and the
 * only other work per chunk is keeping the bytes of the prompt being drawn (A..B) so the client can
 * draw the prompt again after a `::` command.
 */
import { MarkParser } from '../shell/marks.js';

/** The shell's state as the marks tell it. */
export type Phase = 'unknown' | 'prompt' | 'input' | 'running';

export class PromptTracker {
  /** Current phase; 'unknown' until the first trusted mark. */
  phase: Phase = 'unknown';
  /** True while a program uses the alternate screen (DECSET 47/1047/1049). */
  altScreen = false;
  /** True once a mark carrying the session's nonce has been seen: shell integration works. */
  integrated = false;
  private readonly parser: MarkParser;
  private promptParts: Buffer[] | undefined;
  private lastPrompt: Buffer = Buffer.alloc(0);
  private readonly readyListeners: Array<() => void> = [];
  /** Output bytes fed so far (mark offsets count from the start of the output stream). */
  private consumed = 0;

  /**
   * @param nonce the session's secret; marks without it are ignored
   * @param strip remove our marks from what the terminal gets (`[shell] strip_marks`)
   */
  constructor(
    private readonly nonce: string,
    private readonly strip: boolean,
  ) {
    this.parser = new MarkParser(nonce);
  }

  /** Calls `listener` each time a prompt is fully drawn and input starts (mark B). */
  onPromptReady(listener: () => void): void {
    this.readyListeners.push(listener);
  }

  /** The bytes of the last prompt (as the terminal got them), to draw it again. */
  get prompt(): Buffer {
    return this.lastPrompt;
  }

  /**
   * Feeds a chunk of pty output.
   * @returns the bytes to show on the terminal (the chunk itself unless marks are stripped)
   */
  output(chunk: Buffer): Buffer {
    const base = this.consumed;
    this.consumed += chunk.length;
    const { events, output } = this.strip ? this.parser.pushAndStrip(chunk) : { events: this.parser.push(chunk), output: chunk };
    if (events.length === 0) {
      if (this.promptParts) this.promptParts.push(output);
      return output;
    }
    // Offsets are into the unstripped stream; prompt capture works on the unstripped chunk and is
    // stripped again when drawn, so both modes redraw the same text.
    let from = 0;
    for (const ev of events) {
      const at = ev.offset - base;
      this.integrated = true;
      switch (ev.kind) {
        case 'A':
          this.phase = 'prompt';
          this.promptParts = [];
          from = at;
          break;
        case 'B':
          if (this.promptParts) {
            this.promptParts.push(chunk.subarray(from, at));
            this.lastPrompt = Buffer.concat(this.promptParts);
            this.promptParts = undefined;
          }
          this.phase = 'input';
          for (const l of this.readyListeners) l();
          break;
        case 'C':
          this.phase = 'running';
          this.promptParts = undefined;
          break;
        case 'alt-on':
          this.altScreen = true;
          break;
        case 'alt-off':
          this.altScreen = false;
          break;
        default:
          break;
      }
    }
    if (this.promptParts) this.promptParts.push(chunk.subarray(from));
    return output;
  }

  /** Bytes held back while stripping a mark that the output ended in the middle of (at the shell's end). */
  flush(): Buffer {
    return this.parser.takeHeld();
  }

  /** The last prompt as it should be drawn again (marks removed when stripping). */
  redrawBytes(): Buffer {
    return this.strip ? new MarkParser(this.nonce).pushAndStrip(this.lastPrompt).output : this.lastPrompt;
  }
}
