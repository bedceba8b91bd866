/** The checks of `omnish doctor` that can be isolated: versions, config errors, permissions, the judging of daemon answers. */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DaemonUnavailableError } from '../common/errors.js';
import { ConnectError } from '../transport/index.js';
import {
  checkConfig, checkNode, checkPrivateFile, checkShellIntegration, checkSocketDir, checkStty, checkWritableDir, compareVersions, configFix,
} from './doctor-checks.js';
import type { DoctorLlmResult } from '../protocol/index.js';
import { bounded, daemonConfigResult, daemonResult, llmResults, renderResults } from './doctor.js';

let tmp: string;
beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), 'omnish-doctor-'));
});
afterEach(() => {
  chmodSync(tmp, 0o700);
  rmSync(tmp, { recursive: true, force: true });
});

describe('versions', () => {
  it('compares numerically, ignoring a leading v and pre-release suffixes', () => {
    expect(compareVersions('20.10.0', '20.9.0')).toBeGreaterThan(0);
    expect(compareVersions('v20.0.0', '20')).toBe(0);
    expect(compareVersions('19.9.9', '20.0.0')).toBeLessThan(0);
    expect(compareVersions('0.1.0-beta.2', '0.1.0')).toBe(0);
  });
  it('Node 20 and later pass, older fails with what to install', () => {
    expect(checkNode('20.0.0').status).toBe('ok');
    expect(checkNode('22.3.1').status).toBe('ok');
    expect(checkNode('18.19.0')).toMatchObject({ status: 'fail', detail: expect.stringContaining('v18.19.0 is too old'), fix: expect.stringContaining('Node.js 20') });
  });
});

describe('config', () => {
  it('no file: defaults, ok', () => {
    expect(checkConfig(join(tmp, 'none.toml')).result).toMatchObject({ status: 'ok', detail: expect.stringContaining('defaults apply') });
  });
  it('an unknown key is named, with what to do about it', () => {
    const path = join(tmp, 'config.toml');
    writeFileSync(path, '[shell]\ncolour = "red"\n');
    const { result, config } = checkConfig(path);
    expect(config).toBeUndefined();
    expect(result).toMatchObject({ status: 'fail', detail: `${path}:2:1: unknown key shell.colour` });
    expect(result.fix).toMatch(/^remove or correct shell\.colour on line 2 of .*config\.toml \(.*default\.toml lists every key\)$/);
  });
  it('a syntax error names its line', () => {
    const path = join(tmp, 'config.toml');
    writeFileSync(path, '[daemon]\nautostart = \n');
    const { result } = checkConfig(path);
    expect(result.detail).toMatch(/config\.toml:2:\d+: /);
    expect(result.fix).toBe(`correct the TOML syntax on line 2 of ${path}`);
  });
  it('a bad value names its key and line and points at the documented template; an unreadable file says so', () => {
    const problem = { file: '/c.toml', line: 4, col: 1, key: 'daemon.autostart', error: 'daemon.autostart must be true or false' };
    expect(configFix(problem)).toMatch(/^correct daemon\.autostart on line 4 of \/c\.toml \(.*default\.toml documents every key\)$/);
    expect(configFix({ file: '/c.toml', error: 'cannot read: EACCES' })).toBe('make /c.toml a file you can read (chmod 600 /c.toml), or remove it to use the defaults');
  });
});

describe('permissions', () => {
  it('socket directory: missing is fine, 0700 is ok, readable by others warns, writable by others fails', () => {
    const dir = join(tmp, 'run');
    expect(checkSocketDir(dir).status).toBe('ok');
    mkdirSync(dir, { mode: 0o700 });
    expect(checkSocketDir(dir)).toMatchObject({ status: 'ok', detail: `${dir} (mode 0700, yours)` });
    chmodSync(dir, 0o755);
    expect(checkSocketDir(dir)).toMatchObject({ status: 'warn', fix: `chmod 700 ${dir}` });
    chmodSync(dir, 0o777);
    const r = checkSocketDir(dir);
    expect(r).toMatchObject({ status: 'fail', fix: `chmod 700 ${dir}` });
    expect(r.detail).toContain('world-writable (mode 0777)');
  });
  it('socket directory that is a file fails', () => {
    writeFileSync(join(tmp, 'f'), '');
    expect(checkSocketDir(join(tmp, 'f'))).toMatchObject({ status: 'fail', detail: expect.stringContaining('not a directory') });
  });
  it('socket: 0600 ok; looser fails with chmod; a plain file in its place fails', async () => {
    const path = join(tmp, 'omnish.sock');
    const server: Server = createServer();
    await new Promise<void>((r) => server.listen(path, r));
    try {
      chmodSync(path, 0o600);
      expect(checkPrivateFile('socket', path, 'socket', 'omnish daemon restart').status).toBe('ok');
      chmodSync(path, 0o666);
      expect(checkPrivateFile('socket', path, 'socket', 'omnish daemon restart')).toMatchObject({ status: 'fail', fix: expect.stringContaining(`chmod 600 ${path}`) });
    } finally {
      await new Promise((r) => server.close(r));
    }
    writeFileSync(path, '');
    expect(checkPrivateFile('socket', path, 'socket', 'x')).toMatchObject({ status: 'fail', detail: `${path} is not a socket` });
  });
  it('token: missing is fine; 0644 fails and is to be replaced, not only chmod-ed; a symlink fails', () => {
    const path = join(tmp, 'token');
    expect(checkPrivateFile('token', path, 'file', 'omnish daemon restart').status).toBe('ok');
    writeFileSync(path, 'x', { mode: 0o600 });
    expect(checkPrivateFile('token', path, 'file', 'omnish daemon restart')).toMatchObject({ status: 'ok', detail: `${path} (mode 0600)` });
    chmodSync(path, 0o644);
    expect(checkPrivateFile('token', path, 'file', 'omnish daemon restart')).toMatchObject({ status: 'fail', fix: expect.stringMatching(/^rm .*token && omnish daemon restart/) });
    rmSync(path);
    symlinkSync('/etc/hostname', path);
    expect(checkPrivateFile('token', path, 'file', 'r').detail).toContain('is not a regular file');
  });
  it('writable directories: existing, creatable, and not writable', () => {
    expect(checkWritableDir('data directory', tmp, 'X').detail).toBe(tmp);
    expect(checkWritableDir('data directory', join(tmp, 'a', 'b'), 'X')).toMatchObject({ status: 'ok', detail: expect.stringContaining('created on first use') });
    if (process.getuid?.() === 0) return; // root writes anywhere
    chmodSync(tmp, 0o500);
    expect(checkWritableDir('data directory', join(tmp, 'a'), 'OMNISH_DATA_DIR')).toMatchObject({ status: 'fail', fix: expect.stringContaining('OMNISH_DATA_DIR') });
  });
});

describe('shell and stty', () => {
  it('bash gets integration; sh is a warning with the reason and what to set', () => {
    expect(checkShellIntegration(undefined, { PATH: process.env.PATH, OMNISH_SHELL: '/bin/bash' })).toMatchObject({ status: 'ok', detail: 'bash (/bin/bash, from $OMNISH_SHELL)' });
    const sh = checkShellIntegration(undefined, { PATH: process.env.PATH, OMNISH_SHELL: '/bin/sh' });
    expect(sh).toMatchObject({ status: 'warn', detail: expect.stringContaining("unsupported shell 'sh'"), fix: expect.stringContaining('[shell] command') });
  });
  it('stty is looked up on PATH', () => {
    expect(checkStty({ PATH: process.env.PATH }).status).toBe('ok');
    expect(checkStty({ PATH: tmp })).toMatchObject({ status: 'fail', fix: expect.stringContaining('coreutils') });
  });
});

describe('daemon and llm answers', () => {
  const notRunning = new DaemonUnavailableError('omnishd is not running', { cause: new ConnectError('no socket', 'ENOENT') });
  it('not running is a warning (it starts on demand); a hung or refusing daemon fails', () => {
    expect(daemonResult(notRunning, '0.1.0', true)).toMatchObject({ status: 'warn', fix: expect.stringContaining('omnish daemon start') });
    expect(daemonResult(notRunning, '0.1.0', false).detail).toContain('autostart = false');
    expect(daemonResult(new DaemonUnavailableError('omnishd did not answer in time'), '0.1.0', true).status).toBe('fail');
  });
  it('a daemon of another version fails with restart as the fix', () => {
    const status = (version: string) => ({ daemon: { pid: 42, version, uptimeS: 1 } });
    expect(daemonResult(status('0.1.0'), '0.1.0', true)).toMatchObject({ status: 'ok', detail: 'omnishd 0.1.0 running (pid 42)' });
    expect(daemonResult(status('0.0.9'), '0.1.0', true)).toMatchObject({ status: 'fail', fix: expect.stringContaining('omnish daemon restart') });
  });
  it("omnishd's configuration: which file, whether it has taken the file as it is", () => {
    const now = Date.parse('2026-03-04T12:30:00');
    const at = Date.parse('2026-03-04T12:03:00');
    const since = Date.parse('2026-03-04T12:05:00');
    const problem = { file: '/c.toml', line: 3, col: 1, key: 'store.max_total_mb', error: 'store.max_total_mb must be a number of MB, 0 or more', sinceMs: since };
    const answer = (config: object) => ({ daemon: { pid: 42, version: '0.1.0', uptimeS: 1 }, config: { file: '/c.toml', source: 'file', loadedAtMs: at, problem: null, ...config } as never });
    expect(daemonConfigResult(notRunning, '/c.toml', true)).toEqual([]);
    expect(daemonConfigResult({ daemon: { pid: 42, version: '0.0.9', uptimeS: 1 } }, '/c.toml', true)).toEqual([]); // too old to say
    expect(daemonConfigResult(answer({}), '/c.toml', true, now)).toEqual([{ name: 'daemon config', status: 'ok', detail: 'omnishd runs with /c.toml as read at 12:03' }]);
    expect(daemonConfigResult(answer({ file: '/other.toml' }), '/c.toml', true, now)[0]).toMatchObject({ status: 'warn', detail: 'omnishd reads /other.toml, this omnish reads /c.toml' });
    expect(daemonConfigResult(answer({ problem }), '/c.toml', false, now)[0]).toMatchObject({
      status: 'warn',
      detail: 'omnishd keeps the configuration it read at 12:03: the file does not load since 12:05 (/c.toml:3:1: store.max_total_mb must be a number of MB, 0 or more)',
    });
    expect(daemonConfigResult(answer({ problem, source: 'defaults' }), '/c.toml', false, now)[0]?.detail).toMatch(/^omnishd runs on the defaults until the file loads: /);
    expect(daemonConfigResult(answer({ problem }), '/c.toml', true, now)[0]).toMatchObject({ status: 'warn', fix: "run 'omnish config reload'" });
  });
  it('one line per backend; no backend is a warning that says how to configure one', () => {
    const b = { kind: 'openai_compat', model: 'm', baseUrl: 'http://x/v1', ms: 12 };
    const report: DoctorLlmResult = {
      source: 'config', pid: 1, backends: [
        { ...b, name: 'main', role: 'default', ok: true },
        { ...b, name: 'spare', role: 'fallback', ok: false, error: 'spare: authentication failed (401)', reason: 'auth' },
        { ...b, name: 'busy', role: 'fallback', ok: false, error: 'busy: rate limited (429)', reason: 'rate_limit' },
      ],
    };
    const [main, spare, busy] = llmResults(report);
    expect(main).toMatchObject({ name: 'llm main', status: 'ok', detail: 'openai_compat m at http://x/v1: answered in 12 ms' });
    expect(spare).toMatchObject({ name: 'llm spare', status: 'fail', fix: expect.stringContaining('api_key_cmd / api_key_env of [llm.spare]') });
    expect(busy?.status).toBe('warn');
    const [none] = llmResults({ source: 'none', pid: 1, backends: [], problem: 'no LLM backend is configured' });
    expect(none).toMatchObject({ name: 'llm', status: 'warn', fix: expect.stringMatching(/\[llm\.NAME\].*ANTHROPIC_API_KEY/) });
  });
});

describe('running and rendering', () => {
  it('a check that hangs or throws becomes a failure, not a hang or a crash', async () => {
    const started = Date.now();
    const [late] = await bounded('slow', 100, () => new Promise(() => undefined));
    expect(late).toMatchObject({ name: 'slow', status: 'fail', detail: 'no answer within 0.1 s' });
    expect(Date.now() - started).toBeLessThan(2000);
    const [thrown] = await bounded('bad', 100, () => {
      throw new Error('boom');
    });
    expect(thrown).toMatchObject({ status: 'fail', detail: 'check failed: boom' });
  });
  it('renders ✓, ! and ✗ lines with aligned names, fixes and a summary', () => {
    const text = renderResults([
      { name: 'node', status: 'ok', detail: 'v20' },
      { name: 'llm', status: 'warn', detail: 'none', fix: 'add one' },
      { name: 'config', status: 'fail', detail: 'bad key', fix: 'remove it' },
    ]);
    expect(text).toBe('✓ node    v20\n! llm     none — fix: add one\n✗ config  bad key — fix: remove it\n\n1 problem, 1 warning\n');
  });
});
