/**
 * The one pty harness of the tests: a real terminal that spawns a program in a node-pty pty
 * (playing the user's terminal emulator), records every byte it writes, renders the screen with
 * @xterm/headless and waits on conditions with deadlines, never on fixed sleeps. The end-to-end
 * tests drive omnish in it; src/shell/testing.ts drives integrated shells in it.
 */
import xterm from '@xterm/headless';
import * as nodePty from '@lydell/node-pty';
import stripAnsi from 'strip-ansi';
import { testEnv } from './env.js';
import { OMNISH, ROOT } from './paths.js';
import { waitUntil } from './wait.js';

// The e2e tests import everything from here; the pieces without a pty live in their own modules so
// that the bench (bench/*.ts) can share them without loading node-pty.
export { tempDir, testEnv } from './env.js';
export { OMNISH, ROOT } from './paths.js';
export { descendantPids } from './procs.js';
export { waitUntil } from './wait.js';

export interface Spawned {
  exitCode: number;
  signal?: number;
}

/** How a Term starts its program. */
export interface TermOptions {
  /** Environment of the program; default testEnv(). */
  env?: Record<string, string>;
  /** Size in cells; default 80×24. */
  cols?: number;
  rows?: number;
  /** Working directory; default the checkout. */
  cwd?: string;
  /**
   * Answer a primary device attributes query (`ESC [ c`) as a VT220 would. fish 4 asks at start-up
   * and waits for the answer; omnish passes the query through, so only tests of a bare fish need it.
   */
  answerDeviceAttributes?: boolean;
}

export class Term {
  readonly chunks: Buffer[] = [];
  private total = 0;
  readonly exited: Promise<Spawned>;
  private status: Spawned | undefined;
  private readonly pty: nodePty.IPty;

  constructor(file: string, args: string[], opts: TermOptions = {}) {
    this.pty = nodePty.spawn(file, args, {
      name: 'xterm-256color',
      cols: opts.cols ?? 80,
      rows: opts.rows ?? 24,
      cwd: opts.cwd ?? ROOT,
      env: opts.env ?? testEnv(),
      encoding: null,
    });
    this.pty.onData((d) => {
      const buf = d as unknown as Buffer;
      this.chunks.push(buf);
      this.total += buf.length;
      if (opts.answerDeviceAttributes && (buf.includes('\x1b[c') || buf.includes('\x1b[0c'))) this.pty.write('\x1b[?62;22c');
    });
    this.exited = new Promise((res) => {
      this.pty.onExit(({ exitCode, signal }) => {
        this.status = signal ? { exitCode, signal } : { exitCode };
        res(this.status);
      });
    });
  }

  get pid(): number {
    return this.pty.pid;
  }

  /** How the program ended, or undefined while it runs. */
  get exitStatus(): Spawned | undefined {
    return this.status;
  }

  /** Every byte received so far. */
  bytes(): Buffer {
    return Buffer.concat(this.chunks, this.total);
  }

  /**
   * What was received from byte `since` to byte `until` (default: everything so far), one char per
   * byte (latin1), so byte offsets stay exact.
   */
  text(since = 0, until?: number): string {
    return this.bytes().subarray(since, until).toString('latin1');
  }

  /** Length in bytes of what has arrived so far: a mark for `waitFor(..., { since })`. */
  mark(): number {
    return this.total;
  }

  /**
   * Drops the bytes received so far, so a test streaming a lot of output does not keep it all;
   * bytes(), text() and mark() count from here on.
   */
  forget(): void {
    this.chunks.length = 0;
    this.total = 0;
  }

  write(data: string | Buffer): void {
    this.pty.write(data as string); // node-pty writes Buffers as they are; its typings say string only
  }

  resize(cols: number, rows: number): void {
    this.pty.resize(cols, rows);
  }

  kill(signal = 'SIGKILL'): void {
    try {
      this.pty.kill(signal);
    } catch {
      // already gone
    }
  }

  /** Waits until the output after byte `since` contains `needle` (string or RegExp); returns that output. */
  async waitFor(needle: string | RegExp, opts: { since?: number; timeoutMs?: number } = {}): Promise<string> {
    const since = opts.since ?? 0;
    return waitUntil(
      () => {
        const text = this.text(since);
        const hit = typeof needle === 'string' ? text.includes(needle) : needle.test(text);
        return hit ? text : undefined;
      },
      () => `${String(needle)} in terminal output; got tail ${JSON.stringify(this.text().slice(-300))}`,
      opts.timeoutMs,
    );
  }

  /** Waits for the program to exit. */
  async waitExit(timeoutMs = 10_000): Promise<Spawned> {
    await waitUntil(() => this.status, () => `exit of pid ${this.pid}; tail ${JSON.stringify(this.text().slice(-300))}`, timeoutMs);
    return this.status as Spawned;
  }

  /** Waits until the rendered screen satisfies `check`; returns the screen. */
  async waitScreen(check: (screen: string[]) => boolean, what: string, timeoutMs = 10_000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const screen = await this.screen();
      if (check(screen)) return screen;
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; screen:\n${screen.join('\n')}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** The screen as a terminal would show it now: one string per row, trailing spaces trimmed. */
  async screen(cols = 80, rows = 24): Promise<string[]> {
    const term = new xterm.Terminal({ cols, rows, allowProposedApi: true });
    await new Promise<void>((r) => term.write(this.bytes(), r));
    const buf = term.buffer.active;
    const lines: string[] = [];
    for (let y = 0; y < rows; y++) lines.push(buf.getLine(buf.viewportY + y)?.translateToString(true) ?? '');
    term.dispose();
    return lines;
  }
}

/** Starts omnish (wrapping bash without rc files) in a new terminal. */
export function startOmnish(dir: string, opts: { args?: string[]; env?: Record<string, string>; cols?: number; rows?: number } = {}): Term {
  return new Term(process.execPath, [OMNISH, ...(opts.args ?? ['--norc', '--noprofile'])], {
    env: testEnv(dir, opts.env),
    cols: opts.cols,
    rows: opts.rows,
  });
}

/**
 * A command line whose output cannot be confused with its echo: it prints `<tag>:42`, which the
 * typed line does not contain. Works in bash, zsh and fish alike.
 */
export function marked(tag: string): { cmd: string; out: string } {
  return { cmd: `printf '%s:%s\\n' ${tag} 42`, out: `${tag}:42` };
}

/** Types a command line and waits until it has run: the shell is ready for the next one. */
export async function ready(t: Term): Promise<void> {
  await runIn(t, 'true');
}

/**
 * Runs a command line at the shell prompt in `t` and returns its output (escape sequences and
 * carriage returns removed), found between the echoed line and an end marker.
 */
export async function runIn(t: Term, cmd: string, timeoutMs?: number): Promise<string> {
  const since = t.mark();
  const begin = marked('BEGIN');
  const end = marked('END');
  t.write(`${begin.cmd}; ${cmd}; ${end.cmd}\r`);
  const out = await t.waitFor(end.out, { since, timeoutMs });
  const from = out.lastIndexOf(begin.out) + begin.out.length;
  return stripAnsi(out.slice(from, out.lastIndexOf(end.out))).replace(/\r/g, '').replace(/^\n/, '');
}

/**
 * Quits vim in `t`: vim may still be reading its terminal's answers to queries this harness never
 * answers, so `:q!` is repeated (every 500 ms) until vim leaves the alternate screen.
 */
export async function quitVim(t: Term): Promise<void> {
  const from = t.mark();
  let lastTry = 0;
  await waitUntil(() => {
    if (t.text().slice(from).includes('\x1b[?1049l')) return true;
    if (Date.now() - lastTry > 500) {
      lastTry = Date.now();
      t.write('\x1b:q!\r');
    }
    return undefined;
  }, 'vim to quit', 15_000);
}

/** The shell integration's prompt-ready mark (OSC 133 B with the nonce), passed through to the terminal. */
export const PROMPT_READY = /\x1b\]133;B;omnish=[0-9a-f]+\x07/;

/**
 * Runs `true` and waits until the prompt after it is ready (its B mark is the last thing on the
 * terminal): what is typed next is read at an idle prompt, where `::` commands are taken.
 */
export async function idlePrompt(t: Term): Promise<void> {
  const since = t.mark();
  await runIn(t, 'true');
  await t.waitFor(new RegExp(`${PROMPT_READY.source}$`), { since });
}
