/** Reading config.toml again: what a good edit, a broken one, a fix and a run-time change do to the config in force. */
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { configReload } from '../commands/config.js';
import type { CommandIo } from '../commands/io.js';
import { defaultConfig } from '../config/config.js';
import { SessionStore } from '../store/index.js';
import { loadOrCreateToken, UnixTransport, type TransportServer } from '../transport/index.js';
import { ConfigReloader } from './config-reload.js';
import { configHandlers, setAtRunTime } from './config-requests.js';
import { stateHandlers, type DaemonState, type RequestHandlers } from './control.js';
import { serveConnection } from './server.js';
import { SessionManager } from './sessions.js';

let dir: string;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'omnish-reload-'));
  file = join(dir, 'config.toml');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Replaces the file as an editor does. */
function save(text: string): void {
  writeFileSync(`${file}.tmp`, text);
  renameSync(`${file}.tmp`, file);
}

const backend = (name: string) => `[llm.${name}]\nbackend = "anthropic"\nmodel = "m-${name}"\napi_key_env = "K"\n`;

/** A reloader on `file` with fakes of the services, a clock that moves by hand, and a log that records. */
function reloader() {
  let now = 1_000_000;
  const log = { info: vi.fn(), warn: vi.fn(), error: vi.fn() };
  const r = new ConfigReloader(file, log, () => now);
  const llm = { reconfigure: vi.fn() };
  const sessions = { setEventsConfig: vi.fn() };
  r.attach({ llm, sessions });
  return { r, log, llm, sessions, tick: (ms: number) => (now += ms), targets: { config: r.config, llm, sessions, log } };
}

describe('ConfigReloader', () => {
  it('a backend added to the file is in force after the reload; the services are told; the same text again changes nothing', () => {
    save(`[llm]\ndefault = "a"\n${backend('a')}`);
    const { r, llm, log, tick } = reloader();
    const llmSection = r.config.llm;
    tick(5000);
    save(`[llm]\ndefault = "b"\n${backend('a')}${backend('b')}`);
    const result = r.reload('test');
    expect(result).toMatchObject({ outcome: 'reloaded', changed: ['llm.default', '[llm.b] added'], newShellsOnly: [] });
    expect(result.config).toEqual({ file, source: 'file', loadedAtMs: 1_005_000, problem: null });
    expect(r.config.llm).toBe(llmSection); // changed in place: the services hold this object
    expect(r.config.llm.default).toBe('b');
    expect(Object.keys(r.config.llm.backends)).toEqual(['a', 'b']);
    expect(llm.reconfigure).toHaveBeenCalledOnce();
    expect(log.info).toHaveBeenCalledWith(expect.objectContaining({ file, trigger: 'test', changed: ['llm.default', '[llm.b] added'] }), 'config reloaded');
    save(`[llm]\ndefault = "b"\n${backend('a')}${backend('b')}`);
    expect(r.reload('test').outcome).toBe('unchanged');
    expect(log.info).toHaveBeenCalledOnce(); // an identical text is not even parsed again
  });

  it('a broken edit keeps the config in force and is reported with file, line and key, once; a fix clears it', () => {
    save('[store]\nmax_age_days = 7\n');
    const { r, log, tick } = reloader();
    const before = structuredClone(r.config);
    tick(1000);
    save('[store]\nmax_age_days = 7\nmax_total_mb = -1\n');
    const broken = r.reload('test');
    expect(broken.outcome).toBe('invalid');
    expect(broken.config.problem).toEqual({
      file, line: 3, col: 1, key: 'store.max_total_mb', error: 'store.max_total_mb must be a number of MB, 0 or more (0 = no limit)', sinceMs: 1_001_000,
    });
    expect(broken.config).toMatchObject({ source: 'file', loadedAtMs: 1_000_000 });
    expect(r.config).toEqual(before);
    expect(log.error).toHaveBeenCalledWith(
      expect.objectContaining({ file, line: 3, key: 'store.max_total_mb', err: expect.stringContaining('max_total_mb') }),
      'config file does not load; keeping the configuration in force',
    );
    // Asked again, the same broken text: the same problem, not logged again.
    expect(r.reload('test').config.problem).toEqual(broken.config.problem);
    expect(log.error).toHaveBeenCalledOnce();
    // Broken differently: the new place, broken since the first failure.
    tick(1000);
    save('[store\n');
    expect(r.reload('test').config.problem).toMatchObject({ line: 1, sinceMs: 1_001_000 });
    expect(r.reload('test').config.problem?.key).toBeUndefined();
    tick(1000);
    save('[store]\nmax_age_days = 8\n');
    expect(r.reload('test')).toMatchObject({ outcome: 'reloaded', changed: ['store.max_age_days'], config: { problem: null, loadedAtMs: 1_003_000 } });
    expect(r.config.store.maxAgeDays).toBe(8);
    expect(log.info).toHaveBeenLastCalledWith(expect.anything(), 'config file loads again; reloaded');
  });

  it('a file broken at start: the defaults run, the problem is reported, the first good reading applies', () => {
    save('[llm]\ndefault = "nope"\n');
    const { r, log } = reloader();
    expect(r.config).toEqual(defaultConfig());
    expect(r.status()).toMatchObject({ source: 'defaults', problem: { line: 2, key: 'llm.default' } });
    expect(log.error).toHaveBeenCalledWith(expect.objectContaining({ trigger: 'start' }), 'config file does not load; running on the defaults');
    save(backend('a'));
    expect(r.reload('test')).toMatchObject({ outcome: 'reloaded', config: { source: 'file', problem: null } });
    expect(r.config.llm.default).toBe('a');
  });

  it('a value set at run time stays through an edit of other keys, and gives way when the file changes it', () => {
    save(`[llm]\ndefault = "a"\n${backend('a')}${backend('b')}[store]\nmax_age_days = 7\n`);
    const { r, targets } = reloader();
    expect(setAtRunTime(targets, { path: ['llm', 'default'], value: 'b' }).ok).toBe(true);
    save(`[llm]\ndefault = "a"\n${backend('a')}${backend('b')}[store]\nmax_age_days = 9\n`);
    expect(r.reload('test').changed).toEqual(['store.max_age_days']);
    expect(r.config.llm.default).toBe('b');
    save(`[llm]\ndefault = "a"\nfallback = ["b"]\n${backend('a')}${backend('b')}[store]\nmax_age_days = 9\n`);
    // With default "b" kept, a fallback of ["b"] would not validate: the file applies as written.
    expect(r.reload('test').changed).toEqual(['llm.default', 'llm.fallback']);
    expect(r.config.llm).toMatchObject({ default: 'a', fallback: ['b'] });
    expect(targets.log.warn).toHaveBeenCalledWith(expect.objectContaining({ dropped: ['llm.default'] }), expect.stringContaining('the file applies'));
  });

  it('a backend removed from the file is gone; [shell] keys are for new shells; a removed file means the defaults', () => {
    save(`[llm]\ndefault = "a"\n${backend('a')}${backend('b')}`);
    const { r } = reloader();
    save(`[shell]\ncommand = "/bin/zsh"\n${backend('a')}`);
    const result = r.reload('test');
    expect(result.changed).toEqual(['shell.command', '[llm.b] removed']);
    expect(result.newShellsOnly).toEqual(['shell.command']);
    expect(Object.keys(r.config.llm.backends)).toEqual(['a']);
    rmSync(file);
    expect(r.reload('test')).toMatchObject({ outcome: 'reloaded', config: { source: 'defaults', problem: null } });
    expect(r.config).toEqual(defaultConfig());
  });
});

describe('config-set with a reloader', () => {
  const state = {} as DaemonState;
  const ctx = { emit: () => undefined, signal: new AbortController().signal };

  it('::config llm.default NAME sees the tables of the file as it is now, before the watch has fired', async () => {
    save(backend('a'));
    const { r, targets } = reloader();
    const handlers = configHandlers(targets, r);
    save(`[llm]\ndefault = "a"\n${backend('a')}${backend('new')}`);
    expect(await handlers['config-set'](state, { path: ['llm', 'default'], value: 'new' }, ctx)).toEqual({ ok: true, value: 'new' });
    expect(await handlers['config-set'](state, { path: ['llm', 'default'], value: 'nope' }, ctx)).toEqual({
      ok: false, error: 'cannot set llm.default: llm.default must name a [llm.<name>] table (have: a, new)',
    });
    // With the file broken, the refusal says why the tables may not be all there.
    save(`[llm]\ndefault = "a"\n${backend('a')}${backend('new')}${backend('other')}nonsense\n`);
    const refused = await handlers['config-set'](state, { path: ['llm', 'default'], value: 'other' }, ctx);
    expect(refused.ok).toBe(false);
    expect(refused.error).toMatch(new RegExp(`\\(have: a, new\\); note: ${file.replace(/[.]/g, '\\.')}:\\d+:\\d+: .*, so omnishd still runs with the configuration it had$`));
  });
});

describe('omnish config reload, against a reloader on a real socket', () => {
  const servers: TransportServer[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) await server.close();
    vi.unstubAllEnvs();
  });

  /** Serves the config requests of `reloader` (the rest of the table answers nothing useful) and points `request` at it. */
  async function serve(targets: ReturnType<typeof reloader>): Promise<void> {
    const runtime = join(dir, 'run');
    const socket = join(runtime, 'omnish.sock');
    const token = loadOrCreateToken(runtime);
    const silent = pino({ level: 'silent' });
    const sessions = new SessionManager(new SessionStore(join(dir, 'sessions')), silent);
    const unused = () => {
      throw new Error('not in this test');
    };
    const handlers: RequestHandlers = {
      ...stateHandlers(), gc: unused, ask: unused, context: unused, 'doctor-llm': unused, 'index-rebuild': unused, suggestion: unused, 'threads-rm': unused,
      ...configHandlers(targets.targets, targets.r),
    };
    const state: DaemonState = { sessions, socket, startedAtMs: Date.now(), connections: () => 1, config: () => targets.r.status() };
    servers.push(await new UnixTransport(socket).listen((conn) => serveConnection(conn, state, handlers, token, silent)));
    vi.stubEnv('OMNISH_SOCKET', socket);
    vi.stubEnv('OMNISH_CONFIG', file);
  }

  function io(): CommandIo & { text: () => { out: string; err: string; code: number } } {
    let out = '';
    let err = '';
    let code = 0;
    return {
      out: (t) => void (out += t), err: (t) => void (err += t), raw: () => undefined, isTTY: false, atPrompt: false,
      setExitCode: (c) => void (code = c), text: () => ({ out, err, code }),
    };
  }

  it('says what changed, which keys wait for new shells, and exits 1 on a broken file', async () => {
    save(backend('a'));
    const t = reloader();
    await serve(t);
    save(`[shell]\ncommand_prefix = ",,"\n${backend('a')}${backend('b')}[llm]\ndefault = "b"\n`);
    let run = io();
    await configReload(run);
    expect(run.text()).toEqual({
      out: `reloaded ${file}: shell.command_prefix, llm.default, [llm.b] added\n` +
        'shell.command_prefix: omnish shells started from now on use the new value; a running shell needs a restart to take it\n',
      err: '', code: 0,
    });
    run = io();
    await configReload(run);
    expect(run.text()).toEqual({ out: `${file}: unchanged, omnishd already runs with it\n`, err: '', code: 0 });
    save('[shell]\ncommand_prefix = ""\n');
    run = io();
    await configReload(run);
    const { out, err, code } = run.text();
    expect({ out, code }).toEqual({ out: '', code: 1 });
    expect(err.split('\n')).toEqual([
      `${file}:2:1: shell.command_prefix must be 1 to 8 printable ASCII characters without spaces, such as "::"`,
      expect.stringMatching(/^omnishd keeps the configuration it read at \S.*$/),
      '',
    ]);
    run = io();
    await configReload(run, { json: true });
    expect(JSON.parse(run.text().out)).toMatchObject({ outcome: 'invalid', config: { problem: { line: 2, key: 'shell.command_prefix' } } });
    expect(run.text().code).toBe(1);
  });
});
