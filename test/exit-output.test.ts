/**
 * Nothing is lost when the shell exits: a shell that prints a burst and exits at once leaves every
 * byte on the terminal, and the recording holds the same bytes followed by the exit.
 */
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readStream, RecordKind, SessionStore, STREAM_FILE } from '../src/store/index.js';
import { useTestDir } from './helpers/fixture.js';
import { sessions } from './helpers/daemon.js';
import { ready, waitUntil } from './helpers/term.js';

const dir = useTestDir();

/** About 4 MB of numbered lines of varying length: what `cat log` prints. */
function bigLog(): Buffer {
  const lines: string[] = [];
  for (let i = 0, n = 0; n < 4_000_000; i++) {
    const line = `line ${i} ${'x'.repeat(i % 70)}`;
    lines.push(line);
    n += line.length + 1;
  }
  return Buffer.from(`${lines.join('\n')}\n`);
}

/** What a terminal gets for `text` from a pty with the usual ONLCR: LF becomes CR LF. */
function onTerminal(text: Buffer): Buffer {
  return Buffer.from(text.toString('latin1').replace(/\n/g, '\r\n'), 'latin1');
}

/** A "shell" that prints the file and exits with status 3 at once. */
function burstShell(file: string): string {
  const script = join(dir.path, 'burst.sh');
  writeFileSync(script, `#!/bin/sh\ncat ${file}\nexit 3\n`);
  chmodSync(script, 0o755);
  return script;
}

describe('output at exit', () => {
  it('a shell that prints 4 MB and exits at once: the terminal gets every byte, in every run', async () => {
    const file = join(dir.path, 'big.txt');
    writeFileSync(file, bigLog());
    const expected = onTerminal(bigLog());
    const shell = burstShell(file);
    // No daemon: only the terminal side is under test here.
    writeFileSync(join(dir.path, 'config.toml'), '[daemon]\nautostart = false\n');
    const got: number[] = [];
    let identical = 0;
    for (let run = 0; run < 5; run++) {
      const t = dir.omnish({ args: [], env: { OMNISH_SHELL: shell } });
      expect(await t.waitExit(30_000)).toEqual({ exitCode: 3 });
      got.push(t.bytes().length);
      if (t.bytes().equals(expected)) identical++;
    }
    expect(got).toEqual(Array(5).fill(expected.length));
    expect(identical).toBe(5);
  }, 120_000);

  it('`cat log; exit` typed at the prompt: the whole log is on the terminal', async () => {
    const file = join(dir.path, 'big.txt');
    writeFileSync(file, bigLog());
    writeFileSync(join(dir.path, 'config.toml'), '[daemon]\nautostart = false\n');
    const t = dir.omnish();
    await ready(t);
    t.write(`cat ${file}; exit 4\r`);
    expect(await t.waitExit(30_000)).toEqual({ exitCode: 4 });
    const expected = onTerminal(bigLog());
    expect(t.bytes().indexOf(expected)).toBeGreaterThan(0);
  }, 60_000);

  it('a background job that keeps the terminal open does not hold up the exit', async () => {
    writeFileSync(join(dir.path, 'config.toml'), '[daemon]\nautostart = false\n');
    const t = dir.omnish();
    await ready(t);
    const started = Date.now();
    t.write('sleep 30 & exit 2\r');
    expect(await t.waitExit()).toEqual({ exitCode: 2 });
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('the recording holds every byte the terminal got, then the exit', async () => {
    const file = join(dir.path, 'big.txt');
    writeFileSync(file, bigLog());
    const t = dir.omnish({ args: [], env: { OMNISH_SHELL: burstShell(file) } });
    expect(await t.waitExit(30_000)).toEqual({ exitCode: 3 });
    const [meta] = await waitUntil(() => {
      const list = sessions(dir.path);
      return list[0]?.endedAt ? list : undefined;
    }, 'the session to end', 20_000);
    expect(meta).toMatchObject({ exitCode: 3 });
    const stored = new SessionStore(join(dir.path, 'data', 'sessions')).resolve(meta!.id);
    const records = [...readStream(join(stored.dir, STREAM_FILE))];
    const output = Buffer.concat(records.flatMap((r) => (r.kind === RecordKind.Output ? [r.data] : [])));
    expect(t.bytes().length).toBe(onTerminal(bigLog()).length);
    expect(output.length).toBe(t.bytes().length);
    expect(output.equals(t.bytes())).toBe(true);
    expect(records.filter((r) => r.kind === RecordKind.Gap)).toEqual([]);
    expect(records.at(-1)).toMatchObject({ kind: RecordKind.Exit, exitCode: 3, signal: null });
  }, 60_000);
});
