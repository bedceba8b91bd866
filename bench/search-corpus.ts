/**
 * A synthetic store for the search benchmark: sessions of commands whose output looks like what
 * terminals show (compiler and build logs, test runs, `ls -l` listings, stack traces, progress bars
 * with `\r` and colours), deterministic for a seed. Most outputs are small, a few are megabytes, so
 * the per-command cap matters as it does in life.
 */
import { SessionStore, type SessionHandle } from '../src/store/index.js';
import { prng as rng } from './textfile.js';

const WORDS = ('config server client request response handler module package build cache index parser token stream buffer socket ' +
  'session worker thread queue render layout schema migration database query record session user account payment invoice order ' +
  'product catalog search filter report export import upload download image video audio format encode decode compress ' +
  'network router gateway proxy metrics logger tracing alert monitor deploy release version branch commit merge review').split(' ');
const DIRS = ['src', 'lib', 'test', 'pkg', 'internal', 'cmd', 'app', 'web', 'api', 'core'];
const EXTS = ['ts', 'js', 'go', 'rs', 'c', 'py', 'java'];
const ERRORS = ['TypeError: Cannot read properties of undefined', 'ReferenceError: x is not defined', 'Error: ECONNREFUSED 127.0.0.1:5432',
  'error[E0382]: borrow of moved value', 'fatal error: openssl/ssl.h: No such file or directory', 'panic: runtime error: index out of range',
  'java.lang.NullPointerException', 'ModuleNotFoundError: No module named', 'Segmentation fault (core dumped)', 'npm ERR! code ELIFECYCLE'];

export type Kind = 'build' | 'test' | 'ls' | 'trace' | 'progress';

/** Generates outputs and command lines from one PRNG. */
export class Corpus {
  readonly rand: () => number;
  constructor(seed: number) {
    this.rand = rng(seed);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.rand() * xs.length)]!;
  }
  word(): string {
    return this.pick(WORDS);
  }
  path(): string {
    return `${this.pick(DIRS)}/${this.word()}/${this.word()}_${Math.floor(this.rand() * 500)}.${this.pick(EXTS)}`;
  }
  /** One line of output of `kind`, with a trailing CR LF (as a pty sends it). */
  line(kind: Kind, i: number): string {
    switch (kind) {
      case 'build':
        return this.rand() < 0.03
          ? `\x1b[1m${this.path()}:${1 + (i % 400)}:${1 + (i % 40)}: \x1b[31merror:\x1b[0m ${this.word()} '${this.word()}' was not declared in this scope\r\n`
          : `  CC      ${this.path().replace(/\.\w+$/, '.o')}\r\n`;
      case 'test':
        return this.rand() < 0.05
          ? ` \x1b[31m✗\x1b[0m ${this.word()} ${this.word()} > should ${this.word()} the ${this.word()} (${Math.floor(this.rand() * 900)} ms)\r\n   AssertionError: expected ${Math.floor(this.rand() * 99)} to equal ${Math.floor(this.rand() * 99)}\r\n`
          : ` \x1b[32m✓\x1b[0m ${this.path()} > ${this.word()} ${this.word()} (${Math.floor(this.rand() * 90)} ms)\r\n`;
      case 'ls':
        return `-rw-r--r--  1 dev  staff  ${String(Math.floor(this.rand() * 99999)).padStart(6)} Nov ${String(1 + (i % 28)).padStart(2)} 12:${String(i % 60).padStart(2, '0')} ${this.word()}_${this.word()}.${this.pick(EXTS)}\r\n`;
      case 'trace':
        return i % 12 === 0
          ? `${this.pick(ERRORS)} while handling ${this.word()} ${this.word()}\r\n`
          : `    at ${this.word()}${this.word().replace(/^./, (c) => c.toUpperCase())} (/home/dev/${this.path()}:${1 + (i % 300)}:${1 + (i % 60)})\r\n`;
      case 'progress':
        return `\r${this.word()} [${'#'.repeat(i % 40).padEnd(40)}] ${Math.floor((i % 40) * 2.5)}%${i % 40 === 39 ? '\r\n' : ''}`;
    }
  }
  /** An output of about `bytes` bytes. */
  output(kind: Kind, bytes: number): Buffer {
    const parts: string[] = [];
    let n = 0;
    for (let i = 0; n < bytes; i++) {
      const l = this.line(kind, i);
      parts.push(l);
      n += l.length;
    }
    return Buffer.from(parts.join(''));
  }
  /** A size: 70 % small (0.2-8 KB), 25 % medium (8-100 KB), 5 % large (0.5-4 MB). */
  size(): number {
    const r = this.rand();
    if (r < 0.7) return 200 + Math.floor(this.rand() * 8000);
    if (r < 0.95) return 8000 + Math.floor(this.rand() * 92_000);
    return 500_000 + Math.floor(this.rand() * 3_500_000);
  }
  command(kind: Kind): string {
    switch (kind) {
      case 'build': return this.pick(['make -j4', 'cargo build', 'npm run build', 'go build ./...', `gcc -c ${this.path()}`]);
      case 'test': return this.pick(['npm test', 'cargo test', 'pytest -x', `npx vitest run ${this.path()}`, 'go test ./...']);
      case 'ls': return this.pick(['ls -la', `ls -l ${this.pick(DIRS)}`, 'find . -name "*.ts"']);
      case 'trace': return this.pick(['node server.js', 'python3 manage.py runserver', 'java -jar app.jar', './bin/worker']);
      case 'progress': return this.pick(['npm install', 'pip install -r requirements.txt', 'docker pull postgres:16']);
    }
  }
  kind(): Kind {
    return this.pick(['build', 'build', 'test', 'test', 'ls', 'trace', 'progress'] as const);
  }
}

/** What writing the corpus made. */
export interface CorpusStats {
  sessions: number;
  commands: number;
  /** Output bytes recorded, all sessions. */
  outputBytes: number;
}

/**
 * Writes sessions to the store at `root` until `totalBytes` of output are recorded: each a few
 * hundred commands in a few directories, on one of two hosts, ending over the last 30 days.
 */
export function writeCorpus(root: string, totalBytes: number, seed = 14): CorpusStats {
  const c = new Corpus(seed);
  const store = new SessionStore(root);
  const stats: CorpusStats = { sessions: 0, commands: 0, outputBytes: 0 };
  const now = Date.now();
  while (stats.outputBytes < totalBytes) {
    const i = stats.sessions++;
    // About 18 h apart: a 1 GB store spans the last month, so --since and --until have something to cut.
    const startMs = now - 30 * 86_400_000 + i * 18 * 3_600_000 * (0.5 + c.rand());
    const h: SessionHandle = store.create({
      id: (0x5e0000000000 + i).toString(16), hostname: i % 3 === 0 ? 'buildbox' : 'laptop', pid: 2, clientPid: 1, tty: '/dev/pts/1',
      shell: c.pick(['/bin/bash', '/usr/bin/zsh', '/usr/bin/fish']), cwd: '/home/dev', term: 'xterm-256color', cols: 120, rows: 40,
      startedAt: new Date(Math.min(startMs, now - 3_600_000)).toISOString(),
    });
    let tUs = 1000;
    let offset = 0;
    const project = `/home/dev/${c.word()}-${c.word()}`;
    for (let seq = 1; seq <= 200 && stats.outputBytes < totalBytes; seq++) {
      const kind = c.kind();
      const out = c.output(kind, c.size());
      const start = tUs;
      for (let at = 0; at < out.length; at += 64 * 1024) h.stream.output(tUs, out.subarray(at, at + 64 * 1024));
      tUs += 200_000 + Math.floor(out.length / 50);
      const exit = kind === 'trace' ? 1 : c.rand() < 0.1 ? 2 : 0;
      h.appendEvent({
        type: 'command', seq, command: c.command(kind), cwd: c.rand() < 0.5 ? project : `${project}/${c.pick(DIRS)}`,
        startedAtUs: start, endedAtUs: tUs, exitCode: exit, outputStart: offset, outputEnd: offset + out.length, altScreen: false,
      });
      offset += out.length;
      stats.commands++;
      stats.outputBytes += out.length;
      tUs += 1_000_000;
    }
    h.end(0, null, 'exit', tUs);
  }
  return stats;
}
