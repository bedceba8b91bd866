import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { handOverNonce, NONCE_DIR_PREFIX, NONCE_FILE_ENV } from './nonce-file.js';
import { waitUntil } from './testing.js';

const parents: string[] = [];
function parent(): string {
  const dir = mkdtempSync(join(tmpdir(), 'omnish-nonce-test-'));
  parents.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of parents.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('handOverNonce', () => {
  it('writes the nonce to a 0600 file in a new 0700 directory and puts only the path in the environment', () => {
    const h = handOverNonce('abc123', { parent: parent() });
    expect(readFileSync(h.path, 'utf8')).toBe('abc123\n');
    expect(statSync(h.path).mode & 0o777).toBe(0o600);
    expect(statSync(dirname(h.path)).mode & 0o777).toBe(0o700);
    expect(dirname(h.path)).toContain(NONCE_DIR_PREFIX);
    expect(h.env).toEqual({ [NONCE_FILE_ENV]: h.path });
    expect(JSON.stringify(h.env)).not.toContain('abc123');
    h.remove();
    expect(existsSync(dirname(h.path))).toBe(false);
    h.remove(); // idempotent
  });

  it('removes the file after the deadline when the shell never read it', async () => {
    const h = handOverNonce('abc123', { parent: parent(), deadlineMs: 50 });
    expect(existsSync(h.path)).toBe(true);
    await waitUntil(() => !existsSync(dirname(h.path)), () => 'the nonce directory to go', 2000);
  });

  it('gives each session its own directory', () => {
    const p = parent();
    const [a, b] = [handOverNonce('a', { parent: p }), handOverNonce('b', { parent: p })];
    expect(dirname(a.path)).not.toBe(dirname(b.path));
    a.remove();
    b.remove();
  });
});
