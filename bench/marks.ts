/**
 * Micro-benchmark of the shell-integration mark parser: src/shell/marks.ts against its C port
 * (src/client/native/marks.c), on MB of pty-like output fed in 4 KiB chunks (what a pty read
 * hands over). Two inputs: colored output (`ls --color` and compiler/diff style, an ESC every
 * ~10 bytes, with a prompt's worth of our marks every 200 lines) and plain text (no ESC: the
 * memchr fast path). Rows: the TS parser, the addon's MarkParser (C behind N-API: per-call
 * overhead included) and the C parser alone (bench/marks.c, compiled here with cc -O2).
 * Figures: MB/s (10^6 bytes) of the median of the repetitions.
 *
 * Usage: npx node-gyp rebuild && tsc -p bench/tsconfig.json && node .bench/js/bench/marks.js [--mb N] [--reps N]
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { NativeAddon } from '../src/client/native/addon.js';
import { MarkParser } from '../src/shell/marks.js';
import { ROOT } from '../test/helpers/paths.js';
import { median } from './stats.js';

const CHUNK = 4096;
const NONCE = 'bench-nonce';

const { values } = parseArgs({ options: { mb: { type: 'string', default: '50' }, reps: { type: 'string', default: '5' } } });
const BYTES = Number(values.mb) * 1e6;
const REPS = Number(values.reps);

/** `lines` repeated (cycled) until `bytes` long. */
function fill(bytes: number, line: (k: number) => string): Buffer {
  const parts: string[] = [];
  let n = 0;
  for (let k = 0; n < bytes; k++) {
    const s = line(k);
    parts.push(s);
    n += s.length;
  }
  return Buffer.from(parts.join(''), 'latin1').subarray(0, bytes);
}

const mark = (body: string): string => `\x1b]${body};omnish=${NONCE}\x07`;
/** One prompt's marks: status, cwd, prompt start, input start, command line, output start. */
const PROMPT =
  `${mark('133;D;0')}${mark('633;P;Cwd=/home/u/src')}${mark('133;A')}\x1b[01;32mu@h\x1b[0m:\x1b[01;34m~/src\x1b[0m$ ` +
  `${mark('133;B')}${mark('633;E;ls --color')}${mark('133;C')}`;
const COLORED = [
  '\x1b[0m\x1b[01;34mnode_modules\x1b[0m  \x1b[01;32mrun.sh\x1b[0m  README.md  \x1b[01;36mlatest\x1b[0m  package.json\n',
  '\x1b[1msrc/a.c:12:5:\x1b[0m \x1b[1;31merror:\x1b[0m expected \x1b[1m\';\'\x1b[0m before \x1b[1m}\x1b[0m token\n',
  '\x1b[32m+  return parser.push(chunk);\x1b[m\n',
  '\x1b[31m-  return null;\x1b[m\n',
  '-rw-r--r-- 1 u u  4096 Dec  2 11:23 \x1b[00mnotes.txt\x1b[0m\n',
];
const PLAIN = 'the quick brown fox jumps over the lazy dog; 0123456789 ABCDEFGHIJ abcdefghij\n';

/** Median MB/s of feeding `data` to `run` in CHUNK-byte pieces. */
function rate(data: Buffer, run: (chunk: Buffer) => void): number {
  const chunks: Buffer[] = [];
  for (let k = 0; k < data.length; k += CHUNK) chunks.push(data.subarray(k, k + CHUNK));
  const times: number[] = [];
  for (let r = 0; r < REPS; r++) {
    const t0 = process.hrtime.bigint();
    for (const c of chunks) run(c);
    times.push(Number(process.hrtime.bigint() - t0) / 1e3);
  }
  return data.length / median(times);
}

function cParser(file: string): { push: number; strip: number; marks: number } {
  const bin = join(ROOT, '.bench', 'marks');
  const src = [join(ROOT, 'bench', 'marks.c'), join(ROOT, 'src', 'client', 'native', 'marks.c')];
  const cc = spawnSync(process.env.CC || 'cc', ['-O2', '-Wall', '-o', bin, ...src], { encoding: 'utf8' });
  if (cc.status !== 0) throw new Error(`cc failed: ${(cc.stderr || cc.error?.message || '').trim()}`);
  const r = spawnSync(bin, [file, String(CHUNK), String(REPS)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`bench/marks.c failed: ${r.stderr.trim()}`);
  const out = JSON.parse(r.stdout) as { bytes: number; marks: number; pushUs: number[]; stripUs: number[] };
  return { push: out.bytes / median(out.pushUs), strip: out.bytes / median(out.stripUs), marks: out.marks };
}

const addon = createRequire(import.meta.url)('node-gyp-build')(ROOT) as NativeAddon;
mkdirSync(join(ROOT, '.bench'), { recursive: true });
const inputs = {
  colored: fill(BYTES, (k) => (k % 200 === 0 ? PROMPT : (COLORED[k % COLORED.length] ?? ''))),
  plain: fill(BYTES, () => PLAIN),
};
const rows: string[][] = [['input', 'ESC/KB', 'TS push', 'TS strip', 'addon push', 'addon strip', 'C push', 'C strip']];
for (const [name, data] of Object.entries(inputs)) {
  const file = join(ROOT, '.bench', `marks-${name}.bin`);
  writeFileSync(file, data);
  const escs = data.reduce((n, b) => n + (b === 0x1b ? 1 : 0), 0);
  const ts = new MarkParser(NONCE);
  const tsS = new MarkParser(NONCE);
  const nat = new addon.MarkParser(NONCE);
  const natS = new addon.MarkParser(NONCE);
  const c = cParser(file);
  const figures = [
    rate(data, (b) => ts.push(b)),
    rate(data, (b) => tsS.pushAndStrip(b)),
    rate(data, (b) => nat.push(b)),
    rate(data, (b) => natS.pushAndStrip(b)),
    c.push,
    c.strip,
  ];
  const label = `${name} (${data.length / 1e6} MB, ${c.marks} marks)`;
  rows.push([label, (escs / (data.length / 1024)).toFixed(0), ...figures.map((x) => x.toFixed(0))]);
}
const widths = rows[0]!.map((_, k) => Math.max(...rows.map((r) => r[k]!.length)));
process.stdout.write(`MB/s, median of ${REPS}, ${CHUNK}-byte chunks\n`);
for (const r of rows) {
  process.stdout.write(`${r.map((x, k) => (k === 0 ? x.padEnd(widths[k]!) : x.padStart(widths[k]!))).join('  ')}\n`);
}
