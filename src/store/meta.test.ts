import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StoreError } from '../common/errors.js';
import { readMeta, updateMeta, writeMeta, type SessionMeta } from './meta.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'omnish-meta-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const META: SessionMeta = {
  id: 'a1b2c3d4e5f6', hostname: 'box', pid: 4242, clientPid: 4241, tty: '/dev/pts/3', shell: '/bin/bash',
  cwd: '/home/u', term: 'xterm-256color', cols: 120, rows: 40, startedAt: '2026-11-21T13:53:03.123Z',
  endedAt: null, exitCode: null, signal: null, active: true, endReason: null, formatVersion: 1,
};

describe('meta.json', () => {
  it('round-trips, as a 0600 file', () => {
    writeMeta(dir, META);
    expect(readMeta(dir)).toEqual(META);
    expect(statSync(join(dir, 'meta.json')).mode & 0o777).toBe(0o600);
  });

  it('updates by replacing the file (rename), leaving no temp file behind', () => {
    writeMeta(dir, META);
    const before = statSync(join(dir, 'meta.json')).ino;
    writeFileSync(join(dir, 'meta.json.tmp'), '{"half": '); // debris of a crash mid-update
    const after = updateMeta(dir, { active: false, endedAt: '2026-11-21T14:00:00.000Z', exitCode: 0, endReason: 'exit' });
    expect(after).toEqual({ ...META, active: false, endedAt: '2026-11-21T14:00:00.000Z', exitCode: 0, endReason: 'exit' });
    expect(readMeta(dir)).toEqual(after);
    expect(statSync(join(dir, 'meta.json')).ino).not.toBe(before);
    expect(existsSync(join(dir, 'meta.json.tmp'))).toBe(false);
  });

  it('rejects an invalid patch and leaves the file as it was', () => {
    writeMeta(dir, META);
    const text = readFileSync(join(dir, 'meta.json'), 'utf8');
    expect(() => updateMeta(dir, { cols: 'wide' as unknown as number })).toThrow(/field 'cols'/);
    expect(readFileSync(join(dir, 'meta.json'), 'utf8')).toBe(text);
  });

  it('throws StoreError naming the problem for missing, broken, invalid or newer meta', () => {
    expect(() => readMeta(dir)).toThrow(StoreError);
    writeFileSync(join(dir, 'meta.json'), '{"id": "a1b2');
    expect(() => readMeta(dir)).toThrow(/not valid JSON/);
    writeFileSync(join(dir, 'meta.json'), '[]');
    expect(() => readMeta(dir)).toThrow(/not a JSON object/);
    writeFileSync(join(dir, 'meta.json'), JSON.stringify({ ...META, endReason: 'boredom' }));
    expect(() => readMeta(dir)).toThrow(/field 'endReason'/);
    writeFileSync(join(dir, 'meta.json'), JSON.stringify({ ...META, formatVersion: 2 }));
    expect(() => readMeta(dir)).toThrow(/format version 2 is newer/);
  });

  it('keeps fields it does not know (written by a newer omnish)', () => {
    writeFileSync(join(dir, 'meta.json'), JSON.stringify({ ...META, title: 'deploy' }));
    expect(updateMeta(dir, { rows: 50 })).toMatchObject({ title: 'deploy', rows: 50 });
  });
});
