import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeDirs } from './fs.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function temp(): string {
  const d = mkdtempSync(join(tmpdir(), 'omnish-fs-'));
  dirs.push(d);
  return d;
}

describe('makeDirs', () => {
  it('creates missing parents with the mode given, and accepts what exists', () => {
    const root = temp();
    const deep = join(root, 'a', 'b', 'c');
    makeDirs(deep, 0o700);
    expect(statSync(deep).isDirectory()).toBe(true);
    expect(statSync(join(root, 'a')).mode & 0o777).toBe(0o700);
    expect(() => makeDirs(deep)).not.toThrow();
  });

  it('fails at once under /proc, where Node 20 recursive mkdir never returns', () => {
    const t0 = Date.now();
    let err: NodeJS.ErrnoException | undefined;
    try {
      makeDirs('/proc/omnish-none/x');
    } catch (e) {
      err = e as NodeJS.ErrnoException;
    }
    expect(err?.code).toBe('ENOENT');
    expect(err?.message).toBe('cannot create directory /proc/omnish-none: no such file or directory (ENOENT)');
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it('names the errno when a file stands in the way', () => {
    const root = temp();
    writeFileSync(join(root, 'f'), '');
    expect(() => makeDirs(join(root, 'f', 'sub'))).toThrow(/ENOTDIR/);
  });
});
