/**
 * Rendering terminal output as the user saw it: the bytes go through a headless terminal
 * (@xterm/headless), so `\r` progress bars, cursor movement and erasing collapse to the final
 * text, then the screen and scrollback are read back as plain lines (colours dropped). Used by
 * `omnish show` and the LLM context builder, which both read recorded output through the store.
 */

export interface RenderOptions {
  /** Terminal height in cells the output was written for (default 24): cursor movement is relative to it. */
  rows?: number;
}

/** Counts LF, VT and FF: each can move the cursor down a line (and push one into the scrollback). */
function lineFeeds(bytes: Uint8Array): number {
  let n = 0;
  for (const lf of [0x0a, 0x0b, 0x0c]) {
    for (let i = bytes.indexOf(lf); i !== -1; i = bytes.indexOf(lf, i + 1)) n++;
  }
  return n;
}

/**
 * Renders `bytes` (raw terminal output, UTF-8) on a terminal `cols` cells wide and returns its text:
 * one string with a line per logical line (rows the terminal wrapped are joined again), each
 * right-trimmed, trailing blank lines removed, no final newline. Nothing scrolls away: the
 * scrollback is as large as the output could fill.
 */
export async function renderOutput(bytes: Uint8Array, cols: number, opts: RenderOptions = {}): Promise<string> {
  const width = Math.max(2, Math.floor(cols) || 80);
  const rows = Math.max(1, Math.floor(opts.rows ?? 24) || 24);
  // Every row the output can occupy: explicit line feeds, plus rows wrapped at the right margin.
  const scrollback = lineFeeds(bytes) + Math.ceil(bytes.length / width) + rows;
  // Loaded on first use: the store and the command table are imported when a shell starts, which must stay quick.
  const { default: xterm } = await import('@xterm/headless');
  const term = new xterm.Terminal({ cols: width, rows, scrollback, allowProposedApi: true });
  try {
    await new Promise<void>((resolve) => term.write(bytes, resolve));
    // The normal buffer holds what stays visible; a full-screen program's alternate screen is gone when it exits.
    const buffer = term.buffer.normal;
    const lines: string[] = [];
    for (let y = 0; y < buffer.length; y++) {
      const line = buffer.getLine(y);
      if (!line) continue;
      const text = line.translateToString(false);
      if (line.isWrapped && lines.length > 0) lines[lines.length - 1] += text;
      else lines.push(text);
    }
    const trimmed = lines.map((l) => l.trimEnd());
    while (trimmed.length > 0 && trimmed[trimmed.length - 1] === '') trimmed.pop();
    return trimmed.join('\n');
  } finally {
    term.dispose();
  }
}
