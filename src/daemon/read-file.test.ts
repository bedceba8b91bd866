import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readFileInScope } from './read-file.js';

const root = mkdtempSync(join(tmpdir(), 'omnish-readfile-'));
const project = join(root, 'project');
const outside = join(root, 'outside');
mkdirSync(join(project, 'src'), { recursive: true });
mkdirSync(outside);
writeFileSync(join(project, 'src', 'main.c'), 'int main(void) { return 0; }\n');
writeFileSync(join(project, 'big.log'), 'x'.repeat(5000));
writeFileSync(join(project, 'blob.bin'), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2]));
writeFileSync(join(outside, 'notes.txt'), 'outside text\n');
symlinkSync(join(outside, 'notes.txt'), join(project, 'link.txt'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const scope = { cwd: project, contextText: '', maxBytes: 1024 };

describe('readFileInScope', () => {
  it('reads a text file under the session directory, relative or absolute', () => {
    expect(readFileInScope('src/main.c', scope).text).toBe('int main(void) { return 0; }\n');
    expect(readFileInScope(join(project, 'src', 'main.c'), scope).bytes).toBe(29);
  });

  it('caps what it returns and says how much was left', () => {
    const r = readFileInScope('big.log', scope);
    expect(r.bytes).toBe(1024);
    expect(r.text).toMatch(/\[… 3976 more bytes not read: read_file returns at most 1024 bytes …\]$/);
  });

  it('refuses paths outside, symlinks that lead outside, binaries, directories and missing files', () => {
    expect(() => readFileInScope('../outside/notes.txt', scope)).toThrow(/reads only files under the session's directory/);
    expect(() => readFileInScope('link.txt', scope)).toThrow(/reads only files under/);
    expect(() => readFileInScope('/etc/passwd', scope)).toThrow(/reads only files under/);
    expect(() => readFileInScope('blob.bin', scope)).toThrow(/not a text file/);
    expect(() => readFileInScope('src', scope)).toThrow(/not a regular file/);
    expect(() => readFileInScope('nope.txt', scope)).toThrow(/no such file/);
  });

  it('reads a file outside when the context names it', () => {
    const path = join(outside, 'notes.txt');
    expect(readFileInScope(path, { ...scope, contextText: `cat ${path}\nouch` }).text).toBe('outside text\n');
    expect(() => readFileInScope(path, { ...scope, contextText: `cat ${path}.bak` })).toThrow(/reads only files under/);
  });
});
