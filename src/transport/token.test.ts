import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InsecurePathError } from './errors.js';
import { TOKEN_FILE, createToken, loadOrCreateToken } from './token.js';

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'omnish-token-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('loadOrCreateToken', () => {
  it('creates a 0600 file with 32 random bytes in hex, in a 0700 directory, and reuses it', () => {
    const run = join(dir, 'run');
    const token = loadOrCreateToken(run);
    expect(token).toMatch(/^[0-9a-f]{64}$/);
    expect(statSync(run).mode & 0o777).toBe(0o700);
    expect(statSync(join(run, TOKEN_FILE)).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(run, TOKEN_FILE), 'utf8').trim()).toBe(token);
    expect(loadOrCreateToken(run)).toBe(token);
    expect(readdirSync(run)).toEqual([TOKEN_FILE]); // no temporary file left behind
  });

  it('lets the loser of a creation race adopt the winner’s token', () => {
    const first = createToken(dir); // both found no file; this one links first
    expect(createToken(dir)).toBe(first);
    expect(loadOrCreateToken(dir)).toBe(first);
    expect(readdirSync(dir)).toEqual([TOKEN_FILE]);
  });

  it('gives processes racing to create it one token', async () => {
    const here = fileURLToPath(new URL('.', import.meta.url));
    const script = join(dir, 'race.ts');
    // Each process says it is ready, sleeps until the gate file names a start instant, sleeps until
    // just before it and spins the last 2 ms, so that all call loadOrCreateToken at the same time.
    writeFileSync(
      script,
      "import { existsSync, readFileSync, writeFileSync } from 'node:fs';\n" +
        `import { loadOrCreateToken } from ${JSON.stringify(join(here, 'token.js'))};\n` +
        'const [run, gate, id] = process.argv.slice(2);\n' +
        'const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);\n' +
        "writeFileSync(`${gate}.ready.${id}`, '');\n" +
        'while (!existsSync(gate)) sleep(2);\n' +
        "const at = Number(readFileSync(gate, 'utf8'));\n" +
        'if (at - Date.now() > 2) sleep(at - Date.now() - 2);\n' +
        'while (Date.now() < at);\n' +
        'process.stdout.write(loadOrCreateToken(run));\n',
    );
    const viteNode = fileURLToPath(new URL('../../node_modules/vite-node/vite-node.mjs', import.meta.url));
    const run = join(dir, 'run');
    const gate = join(dir, 'gate');
    const n = 6;
    const outputs = Promise.all(
      Array.from({ length: n }, (_, id) => promisify(execFile)(process.execPath, [viteNode, script, run, gate, String(id)])),
    );
    const deadline = Date.now() + 20_000;
    while (readdirSync(dir).filter((f) => f.startsWith('gate.ready.')).length < n) {
      if (Date.now() > deadline) throw new Error('the racing processes did not start');
      await new Promise((r) => setTimeout(r, 10));
    }
    writeFileSync(`${gate}.tmp`, String(Date.now() + 100));
    renameSync(`${gate}.tmp`, gate);
    const tokens = new Set((await outputs).map((o) => o.stdout));
    expect(tokens.size).toBe(1);
    expect([...tokens][0]).toBe(readFileSync(join(run, TOKEN_FILE), 'utf8').trim());
  });

  it('refuses a token file that others can read', () => {
    writeFileSync(join(dir, TOKEN_FILE), `${'a'.repeat(64)}\n`, { mode: 0o600 });
    chmodSync(join(dir, TOKEN_FILE), 0o644);
    expect(() => loadOrCreateToken(dir)).toThrow(InsecurePathError);
    expect(() => loadOrCreateToken(dir)).toThrow(/accessible by others \(mode 0644\)/);
  });

  it('refuses a token file that is a symlink or does not hold a token', () => {
    writeFileSync(join(dir, 'elsewhere'), 'a'.repeat(64), { mode: 0o600 });
    symlinkSync(join(dir, 'elsewhere'), join(dir, TOKEN_FILE));
    expect(() => loadOrCreateToken(dir)).toThrow(/is a symlink/);
    rmSync(join(dir, TOKEN_FILE));
    writeFileSync(join(dir, TOKEN_FILE), 'hello', { mode: 0o600 });
    expect(() => loadOrCreateToken(dir)).toThrow(/does not hold a token/);
  });

  it('refuses a directory that others can write to', () => {
    const open = join(dir, 'open');
    mkdirSync(open);
    chmodSync(open, 0o757);
    expect(() => loadOrCreateToken(open)).toThrow(/writable by others \(mode 0757\)/);
  });
});
