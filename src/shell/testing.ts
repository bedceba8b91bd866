/**
 * Test support for the shell-integration tests (not used by omnish itself, not in dist): a real
 * shell in the tests' one pty harness (Term, test/helpers/term.ts), started the way omnish starts
 * it, in a private HOME; and a reader for the marks in the byte stream. Tests wait on conditions
 * with deadlines (polling every 10 ms), never on fixed sleeps.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants, mkdirSync, realpathSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tempDir } from '../../test/helpers/env.js';
import { Term } from '../../test/helpers/term.js';
import { waitUntil } from '../../test/helpers/wait.js';
import { handOverNonce, integrationFor, type IntegratedShell, type NonceHandoff } from './launch.js';

export { waitUntil } from '../../test/helpers/wait.js';

/** A mark found in the stream. Only the fields of its kind are present, so tests can compare whole objects. */
export type Mark =
  | { kind: 'A' | 'B' | 'C' }
  | { kind: 'D'; exit: string }
  /** `cmd` as sent: escaped. */
  | { kind: 'E'; cmd: string }
  /** `cwd` as sent: escaped. */
  | { kind: 'P'; cwd: string }
  | { kind: '7'; url: string };

/** A mark and where it is in the stream. */
export interface PlacedMark {
  mark: Mark;
  /** Offset of its first byte (ESC). */
  at: number;
  /** The nonce it carried (undefined for OSC 7 and for marks without one). */
  nonce: string | undefined;
}

// eslint-disable-next-line no-control-regex -- marks are escape sequences: ESC ] ... BEL
const OSC = /\x1b\](133|633|7);([^\x07\x1b]*)\x07/g;

/** Every OSC 133 / 633 / 7 mark in `text` (latin1: one char per byte), trusted or not. */
export function scanMarks(text: string): PlacedMark[] {
  const found: PlacedMark[] = [];
  for (const m of text.matchAll(OSC)) {
    const code = m[1] as string;
    const fields = (m[2] as string).split(';');
    const nonceField = fields.find((f) => f.startsWith('omnish='));
    const nonce = nonceField?.slice('omnish='.length);
    const plain = fields.filter((f) => !f.startsWith('omnish='));
    let mark: Mark | undefined;
    if (code === '7') mark = { kind: '7', url: m[2] as string };
    else if (code === '133') {
      const kind = plain[0];
      if (kind === 'A' || kind === 'B' || kind === 'C') mark = { kind };
      else if (kind === 'D') mark = { kind: 'D', exit: plain[1] ?? '' };
    } else if (plain[0] === 'E') mark = { kind: 'E', cmd: plain[1] ?? '' };
    else if (plain[0] === 'P' && plain[1]?.startsWith('Cwd=')) mark = { kind: 'P', cwd: plain[1].slice(4) };
    if (mark) found.push({ mark, at: m.index, nonce });
  }
  return found;
}

/** A private HOME for one test, with XDG_CONFIG_HOME inside it. */
export class TempHome {
  private readonly dir = tempDir('omnish-shell-');
  readonly path = realpathSync(this.dir.path);

  /** Writes `text` to `rel` under HOME (directories created). Returns the absolute path. */
  write(rel: string, text: string): string {
    const file = join(this.path, rel);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
    return file;
  }

  remove(): void {
    this.dir.cleanup();
  }
}

/** Absolute path of `name` on PATH (the shells under test), or undefined. */
export function findShell(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(':')) {
    const candidate = join(dir || '.', name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

export interface StartOptions {
  /** Shell arguments as omnish would pass them (e.g. ['-l']). */
  args?: string[];
  /** Extra environment (on top of the isolated one). */
  env?: Record<string, string>;
  /** Start the shell as it is, without integration (for `omnish init` tests). */
  plain?: boolean;
}

/** One shell in a pty: everything it wrote, and helpers to type and wait. */
export class ShellSession {
  readonly nonce = randomBytes(8).toString('hex');
  /** The terminal the shell runs in. */
  readonly term: Term;
  /** The nonce's file, as omnish hands it to the shell (in HOME, so it goes with it). */
  readonly nonceFile: NonceHandoff | undefined;

  constructor(
    readonly shell: IntegratedShell,
    readonly home: TempHome,
    opts: StartOptions = {},
  ) {
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
      HOME: home.path,
      XDG_CONFIG_HOME: join(home.path, '.config'),
      XDG_DATA_HOME: join(home.path, '.local', 'share'),
      TERM: 'xterm-256color',
      LANG: 'C.UTF-8',
      ...opts.env,
    };
    const path = findShell(shell);
    if (!path) throw new Error(`${shell} is not installed`);
    const how = integrationFor(path, opts.args ?? [], env);
    if (!opts.plain && how.integration === null) throw new Error(`no integration: ${how.off}`);
    this.nonceFile = opts.plain ? undefined : handOverNonce(this.nonce, { parent: home.path });
    const spawnEnv = opts.plain ? env : { ...env, ...how.env, ...this.nonceFile?.env };
    this.term = new Term(opts.plain ? path : how.file, opts.plain ? (opts.args ?? []) : how.args, {
      cols: 120,
      rows: 40,
      cwd: home.path,
      env: spawnEnv,
      // fish 4 asks the terminal for its primary device attributes and waits for the answer.
      answerDeviceAttributes: true,
    });
  }

  /** Bytes received so far. */
  get length(): number {
    return this.term.mark();
  }

  /** What was received from byte `since` to byte `until` (default: all), one char per byte. */
  text(since = 0, until?: number): string {
    return this.term.text(since, until);
  }

  /** Marks carrying this session's nonce (and OSC 7, which has none), from byte `since` on. */
  marks(since = 0): Mark[] {
    return this.placed(since).map((p) => p.mark);
  }

  /** As marks(), with positions (absolute byte offsets). */
  placed(since = 0): PlacedMark[] {
    return scanMarks(this.text(since))
      .filter((p) => p.nonce === this.nonce || p.mark.kind === '7')
      .map((p) => ({ ...p, at: p.at + since }));
  }

  /** Marks that claim to be omnish's but carry another nonce or none (OSC 7 aside). */
  foreignMarks(since = 0): PlacedMark[] {
    return scanMarks(this.text(since)).filter((p) => p.nonce !== this.nonce && p.mark.kind !== '7');
  }

  write(data: string): void {
    this.term.write(data);
  }

  /** Waits until `check(text since)` holds. */
  async waitText(check: (text: string) => boolean, what: string, since = 0, timeoutMs?: number): Promise<string> {
    return waitUntil(
      () => {
        const text = this.text(since);
        return check(text) ? text : undefined;
      },
      () => `${what}; ${this.shell} wrote ${JSON.stringify(this.text(Math.max(since, this.length - 600)))}`,
      timeoutMs,
    );
  }

  /** Waits for a prompt that is ready for input: a trusted A then B, both after byte `since`. */
  async prompt(since = 0, timeoutMs?: number): Promise<Mark[]> {
    await waitUntil(
      () => {
        const kinds = this.marks(since).map((m) => m.kind);
        const a = kinds.indexOf('A');
        return a >= 0 && kinds.indexOf('B', a) > a;
      },
      () => `a prompt (A then B) after byte ${since}; ${this.shell} wrote ${JSON.stringify(this.text(Math.max(since, this.length - 600)))}`,
      timeoutMs,
    );
    return this.marks(since);
  }

  /** Types `line` and Enter at a ready prompt; resolves with the marks up to the next prompt. */
  async run(line: string, timeoutMs?: number): Promise<Mark[]> {
    const since = this.length;
    this.write(`${line}\r`);
    return this.prompt(since, timeoutMs);
  }

  /**
   * Waits until a child of the shell whose command line contains `needle` is in the terminal's
   * foreground process group (`+` in ps's STAT), so that a Ctrl-C typed now reaches it. (Its C
   * mark is written before the program starts.)
   */
  async foreground(needle: string, timeoutMs?: number): Promise<void> {
    await waitUntil(
      () =>
        execFileSync('ps', ['-e', '-o', 'ppid=,stat=,args='], { encoding: 'utf8' })
          .split('\n')
          .some((line) => {
            const m = /^\s*(\d+)\s+(\S+)\s+(.*)$/.exec(line);
            return m !== null && Number(m[1]) === this.term.pid && (m[2] ?? '').includes('+') && (m[3] ?? '').includes(needle);
          }),
      () => `'${needle}' in the foreground of ${this.shell}`,
      timeoutMs,
    );
  }

  /** Waits for the shell to exit; returns its exit code. */
  async exited(timeoutMs?: number): Promise<number> {
    return (await waitUntil(() => this.term.exitStatus, () => `${this.shell} to exit`, timeoutMs)).exitCode;
  }

  kill(): void {
    this.nonceFile?.remove();
    if (this.term.exitStatus === undefined) this.term.kill('SIGKILL');
  }
}

const sessions: ShellSession[] = [];
const homes: TempHome[] = [];

/** Kills every shell started with start() and removes its HOME (call in afterEach). */
export function stopAll(): void {
  for (const s of sessions.splice(0)) s.kill();
  for (const h of homes.splice(0)) h.remove();
}

/** The rc file each shell reads in an interactive non-login start, with a prompt showing the last status. */
export const RC: Record<IntegratedShell, [string, string]> = {
  bash: ['.bashrc', "PS1='[$?] \\$ '\n"],
  zsh: ['.zshrc', "PS1='[%?] %# '\n"],
  fish: ['.config/fish/config.fish', "set -g fish_greeting\nfunction fish_prompt; printf '[%s] > ' $status; end\n"],
};

/**
 * Starts `shell` in a new HOME. `rc` replaces the default rc file's text; `files` adds more files
 * (paths relative to HOME). zsh always gets a .zshrc: without one, zsh-newuser-install would ask
 * questions.
 */
export function start(
  shell: IntegratedShell,
  opts: {
    rc?: string;
    files?: Record<string, string>;
    args?: string[];
    /** Extra environment; a function gets the HOME path. */
    env?: Record<string, string> | ((home: string) => Record<string, string>);
    plain?: boolean;
  } = {},
): ShellSession {
  const home = new TempHome();
  homes.push(home);
  const [rcFile, rcText] = RC[shell];
  home.write(rcFile, opts.rc ?? rcText);
  // Without this directory fish starts fish_update_completions (python, for seconds) in the
  // background at its first start, which would outlive the test and write into a removed HOME.
  if (shell === 'fish') home.write('.local/share/fish/generated_completions/.keep', '');
  for (const [rel, text] of Object.entries(opts.files ?? {})) home.write(rel, text);
  const env = typeof opts.env === 'function' ? opts.env(home.path) : opts.env;
  const s = new ShellSession(shell, home, { args: opts.args, env, plain: opts.plain });
  sessions.push(s);
  return s;
}

/** `s` as it appears in the stream read as latin1: its UTF-8 bytes, one char each. */
export function latin1(s: string): string {
  return Buffer.from(s, 'utf8').toString('latin1');
}

/** The prompt text between the last trusted A and B. */
export function lastPromptText(s: ShellSession): string {
  const placed = s.placed();
  const b = placed.filter((p) => p.mark.kind === 'B').at(-1);
  const a = placed.filter((p) => p.mark.kind === 'A' && (b === undefined || p.at < b.at)).at(-1);
  if (!a || !b) return '';
  // eslint-disable-next-line no-control-regex -- drop the A mark itself
  return s.text(a.at, b.at).replace(/^\x1b\][^\x07]*\x07/, '');
}

/** Byte offset of the first trusted mark of `kind` at or after byte `since` (-1 if none). */
export function markAt(s: ShellSession, kind: Mark['kind'], since = 0): number {
  return s.placed(since).find((p) => p.mark.kind === kind)?.at ?? -1;
}

/**
 * zsh's PROMPT_SP mark (`%`, or `#` for root, in reverse video, then spaces and CR SPACE CR): zsh
 * prints it before its precmd hooks, so it comes between a command's output and its D.
 */
// eslint-disable-next-line no-control-regex -- terminal escape sequences
const ZSH_PROMPT_SP = /\x1b\[1m\x1b\[7m[%#]\x1b\[27m\x1b\[1m\x1b\[0m *\r \r$/;

/** Runs `line` at a ready prompt; returns its output (from C to D, without zsh's PROMPT_SP), CRs removed. */
export async function commandOutput(s: ShellSession, line: string): Promise<string> {
  const since = s.length;
  await s.run(line);
  const text = s.text(markAt(s, 'C', since), markAt(s, 'D', since));
  // eslint-disable-next-line no-control-regex -- drop the C mark itself
  return text.replace(/^\x1b\][^\x07]*\x07/, '').replace(ZSH_PROMPT_SP, '').replace(/\r/g, '');
}

/** The kinds of `marks`, in order. */
export function kinds(marks: Mark[]): string[] {
  return marks.map((m) => m.kind);
}
