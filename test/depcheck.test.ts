/**
 * The layering check of `npm test` (.dependency-cruiser.mjs): it fails on a tree that breaks the
 * rules of docs/architecture.md, static and lazy imports alike, naming each rule; and omnish's own
 * tree passes. The bad tree is written to a temporary directory, so it is never part of the build.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTestDir } from './helpers/fixture.js';
import { ROOT } from './helpers/term.js';

const DEPCRUISE = join(ROOT, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');
const CONFIG = join(ROOT, '.dependency-cruiser.mjs');

const dir = useTestDir();

function write(files: Record<string, string>): void {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir.path, path)), { recursive: true });
    writeFileSync(join(dir.path, path), text);
  }
}

/** Runs the check in `cwd` as `npm run depcheck` does; returns its exit status and the violations it lists. */
function depcheck(cwd: string): { status: number | null; violations: string[]; output: string } {
  const r = spawnSync(process.execPath, [DEPCRUISE, 'src', '--config', CONFIG], { cwd, encoding: 'utf8', timeout: 60_000 });
  const output = r.stdout + r.stderr;
  const violations = output.split('\n').map((l) => l.trim()).filter((l) => l.startsWith('error ')).sort();
  return { status: r.status, violations, output };
}

describe('npm run depcheck', () => {
  it('fails on imports that point the wrong way, static or dynamic, and names the rule', () => {
    write({
      'package.json': '{ "type": "module" }\n',
      'tsconfig.json': '{ "compilerOptions": { "module": "NodeNext", "moduleResolution": "NodeNext", "strict": true }, "include": ["src"] }\n',
      // A stand-in for the OpenAI SDK.
      'node_modules/openai/package.json': '{ "name": "openai", "type": "module", "main": "index.js" }\n',
      'node_modules/openai/index.js': 'export default class OpenAI {}\n',
      'src/common/paths.ts': 'export const home = "/";\n',
      'src/llm/registry.ts': 'export const backends: string[] = [];\n',
      // Static: the protocol must import nothing of ours.
      'src/protocol/frame.ts': 'import { home } from "../common/paths.js";\nexport const frame = home;\n',
      // Dynamic: what eslint's no-restricted-imports let through.
      'src/client/entry.ts': 'export async function main(): Promise<string[]> {\n  const { backends } = await import("../llm/registry.js");\n  return backends;\n}\n',
      // Two steps away: a command the client runs loads a store module that loads an SDK lazily.
      'src/commands/ask.ts': 'import { load } from "../store/reader.js";\nexport const ask = load;\n',
      'src/store/reader.ts': 'export async function load(): Promise<unknown> {\n  return (await import("openai")).default;\n}\n',
      // A folder the table does not have yet.
      'src/native/addon.ts': 'import { home } from "../common/paths.js";\nexport const addon = home;\n',
    });
    const r = depcheck(dir.path);
    expect(r.status, r.output).not.toBe(0);
    expect(r.violations).toEqual([
      'error client-imports: src/client/entry.ts → src/llm/registry.ts',
      'error client-never-loads-llm: src/client/entry.ts → src/llm/registry.ts',
      'error client-never-loads-llm: src/commands/ask.ts → node_modules/openai/index.js',
      'error known-layer: src/native/addon.ts → src/common/paths.ts',
      'error llm-sdks-in-llm-only: src/store/reader.ts → node_modules/openai/index.js',
      'error protocol-imports: src/protocol/frame.ts → src/common/paths.ts',
    ]);
  }, 60_000);

  it("passes on omnish's own tree", () => {
    const r = depcheck(ROOT);
    expect(r.violations).toEqual([]);
    expect(r.status, r.output).toBe(0);
  }, 60_000);
});
