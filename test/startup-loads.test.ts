/**
 * Start-up loads what the invocation needs and nothing else (docs/benchmarks.md "Start-up"): the
 * evidence is the list of modules the process actually loaded, not a timing. A preload registers a
 * module loader hook that appends every ES module to a file as it loads (so a process that execs
 * the shell still leaves its list), and at exit adds every CommonJS module in require's cache.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTestDir } from './helpers/fixture.js';
import { OMNISH, ready, ROOT, testEnv } from './helpers/term.js';

const dir = useTestDir();

/** What no plain CLI command needs: the LLM SDKs, the terminal emulator, the daemon's logger, secretlint, node-pty, SQLite, the MCP SDK and zod. */
const HEAVY = /node_modules\/(@anthropic-ai\/sdk|openai|@xterm\/headless|pino|@secretlint|@lydell\/node-pty|better-sqlite3|@modelcontextprotocol\/sdk|zod)\//;

/**
 * Runs `omnish ARGS` with the recording preload.
 * @returns its exit status and the modules it loaded, as paths relative to the checkout (packages as node_modules/NAME/...)
 */
function loadedBy(args: string[]): { status: number | null; stderr: string; modules: string[] } {
  const list = join(dir.path, 'loaded.txt');
  const hooks = join(dir.path, 'hooks.mjs');
  const preload = join(dir.path, 'preload.mjs');
  writeFileSync(list, '');
  writeFileSync(hooks, `import { appendFileSync } from 'node:fs';
export async function load(url, context, next) {
  appendFileSync(${JSON.stringify(list)}, url + '\\n');
  return next(url, context);
}
`);
  writeFileSync(preload, `import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
import { pathToFileURL } from 'node:url';
register(${JSON.stringify(`file://${hooks}`)});
const require = createRequire(import.meta.url);
process.on('exit', () => appendFileSync(${JSON.stringify(list)}, Object.keys(require.cache).map((p) => pathToFileURL(p).href + '\\n').join('')));
`);
  const r = spawnSync(process.execPath, ['--import', preload, OMNISH, ...args], { env: testEnv(dir.path), encoding: 'utf8', timeout: 20_000 });
  const modules = readFileSync(list, 'utf8').split('\n').filter((u) => u.startsWith('file://')).map((u) => {
    const path = decodeURIComponent(new URL(u).pathname);
    const pkg = /\/node_modules\/(.*)$/.exec(path);
    return pkg ? `node_modules/${pkg[1]}` : path.startsWith(`${ROOT}/`) ? path.slice(ROOT.length + 1) : path;
  });
  return { status: r.status, stderr: r.stderr, modules: [...new Set(modules)] };
}

/** The modules of omnish's own dist/commands/ among `modules`. */
const commandModules = (modules: string[]): string[] => modules.filter((m) => m.startsWith('dist/commands/'));

describe('what an invocation loads', () => {
  it('--version: the entry and the version, no parser, no command, no shell code', () => {
    const r = loadedBy(['--version']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.modules.filter((m) => !m.startsWith('bin/'))).toEqual(['dist/client/entry.js', 'dist/common/version.js']);
  });

  it('--help: the table and the parser, but no command\'s module and nothing heavy', () => {
    const r = loadedBy(['--help']);
    expect(r.status, r.stderr).toBe(0);
    expect(commandModules(r.modules).sort()).toEqual(['dist/commands/cli.js', 'dist/commands/commander.js', 'dist/commands/index.js', 'dist/commands/io.js', 'dist/commands/registry.js']);
    expect(r.modules.filter((m) => HEAVY.test(m) || m === 'dist/client/main.js')).toEqual([]);
  });

  it('sessions: its own module and the store, no other command, no transport, nothing heavy', () => {
    const r = loadedBy(['sessions']);
    expect(r.status, r.stderr).toBe(0);
    const commands = commandModules(r.modules);
    expect(commands).toContain('dist/commands/sessions.js');
    expect(commands.filter((m) => /\/(status|ask|doctor|config|export|replay|show|daemon|help)\.js$/.test(m))).toEqual([]);
    expect(r.modules.filter((m) => HEAVY.test(m) || /^dist\/(transport|client\/main)/.test(m) || m.startsWith('node_modules/msgpackr'))).toEqual([]);
  });

  it('status: the control request path, no other command, nothing heavy', () => {
    const r = loadedBy(['status']);
    expect(r.status, r.stderr).toBe(3); // no daemon in the test directory
    expect(commandModules(r.modules).filter((m) => /\/(sessions|ask|doctor|config|export|replay|show|daemon|help)\.js$/.test(m))).toEqual([]);
    expect(r.modules.filter((m) => HEAVY.test(m) || m === 'dist/client/main.js')).toEqual([]);
  });

  it('help mcp: the mcp command\'s own module, not its server, the MCP SDK or zod', () => {
    const r = loadedBy(['help', 'mcp']);
    expect(r.status, r.stderr).toBe(0);
    expect(commandModules(r.modules)).toContain('dist/commands/mcp.js');
    expect(commandModules(r.modules).filter((m) => /\/mcp-/.test(m))).toEqual([]);
    expect(r.modules.filter((m) => HEAVY.test(m))).toEqual([]);
  });

  it('a shell invocation (-c CMD) never loads the command table or the parser', () => {
    const r = loadedBy(['-c', 'exit 4']);
    expect(r.status, r.stderr).toBe(4);
    expect(r.modules).toContain('dist/client/main.js');
    expect(commandModules(r.modules)).toEqual([]);
    expect(r.modules.filter((m) => m.startsWith('node_modules/commander'))).toEqual([]);
  });

  it('a wrapped shell is spawned before node:crypto or node:child_process load (native relay)', async () => {
    // Node's own list of the internal modules it has loaded, taken when the addon is asked to spawn.
    const list = join(dir.path, 'at-spawn.txt');
    const preload = join(dir.path, 'at-spawn.cjs');
    writeFileSync(preload, `const dlopen = process.dlopen;
process.dlopen = function (mod, filename, ...rest) {
  const r = dlopen.call(this, mod, filename, ...rest);
  if (!/omnish_relay/.test(filename)) return r;
  const real = mod.exports;
  const wrapped = Object.create(real);
  Object.defineProperty(wrapped, 'startRelay', { value: (...a) => {
    require('node:fs').writeFileSync(${JSON.stringify(list)}, process.moduleLoadList.join('\\n'));
    return real.startRelay(...a);
  } });
  mod.exports = wrapped;
  return r;
};
`);
    const t = dir.omnish({ args: [], env: { OMNISH_SHELL: '/bin/bash', OMNISH_RELAY: 'native', NODE_OPTIONS: `--require ${preload}` } });
    await ready(t);
    t.write('exit\r');
    await t.waitExit();
    const loaded = readFileSync(list, 'utf8').split('\n');
    expect(loaded.length).toBeGreaterThan(50);
    expect(loaded.filter((m) => /^NativeModule (crypto|child_process|internal\/crypto\/.*|dgram)$/.test(m))).toEqual([]);
  });
});

