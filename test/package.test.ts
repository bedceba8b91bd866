/**
 * The package as users get it: `npm pack`, then `npm install --ignore-scripts` of the tarball into a
 * fresh prefix. Nothing may need a compiler or an install script (node-pty comes prebuilt from
 * @lydell/node-pty's per-platform packages, omnish's own addon from its prebuilds/), the installed
 * copy loads that prebuilt addon, and the installed `omnish` runs a real session.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { arch } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { useTestDir } from './helpers/fixture.js';
import { ROOT, runIn, Term, testEnv } from './helpers/term.js';

const dir = useTestDir();

/** Runs npm quietly; offline-first, since every dependency is in the cache after the project's own install. */
function npm(args: string[], cwd: string): string {
  return execFileSync('npm', [...args, '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, npm_config_update_notifier: 'false' },
  });
}

describe('the packed package', () => {
  it('installs with --ignore-scripts into a fresh prefix and runs a recorded session', async () => {
    const packDir = join(dir.path, 'pack');
    mkdirSync(packDir);
    // The tarball is built from dist/ as it is (npm test builds first); --ignore-scripts skips prepare,
    // and prepack with it, so the prebuilt addons are built here (outside build/, which stays as it is).
    execFileSync(join(ROOT, 'scripts', 'prebuilds.sh'), { encoding: 'utf8', stdio: 'pipe' });
    npm(['pack', '--ignore-scripts', '--pack-destination', packDir, ROOT], packDir);
    const tarball = readdirSync(packDir).find((f) => f.endsWith('.tgz'));
    expect(tarball).toBeDefined();
    const prefix = join(dir.path, 'prefix');
    mkdirSync(prefix);
    npm(['install', '--ignore-scripts', '--omit=dev', join(packDir, tarball as string)], prefix);
    const installed = join(prefix, 'node_modules', 'omnish');
    // No native build happened: node-pty's binary is the prebuilt one.
    expect(existsSync(join(prefix, 'node_modules', 'node-pty'))).toBe(false);
    // The installed loader finds omnish's addon among the shipped prebuilds: no build/ was shipped.
    expect(existsSync(join(installed, 'build'))).toBe(false);
    const probe = `const { loadNativeAddon } = await import(${JSON.stringify(pathToFileURL(join(installed, 'dist', 'client', 'native', 'addon.js')).href)});
      const r = loadNativeAddon(); console.log(JSON.stringify({ loaded: r.addon !== undefined, path: r.path, error: r.error }));`;
    const load = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', probe], { encoding: 'utf8' })) as {
      loaded: boolean;
      path?: string;
      error?: string;
    };
    expect(load).toEqual({ loaded: true, path: join(installed, 'prebuilds', `linux-${arch()}`, 'omnish_relay.napi.glibc.node') });

    // OMNISH_RELAY=native: the installed copy must run the C relay from its prebuild, whichever relay the suite runs.
    const env = testEnv(dir.path, { OMNISH_RELAY: 'native' });
    const t = dir.track(new Term(process.execPath, [join(installed, 'bin', 'omnish.js'), '--norc', '--noprofile'], { env }));
    // Wrapped, not the plain-shell fallback: the session has an id, and stderr said nothing.
    expect(await runIn(t, 'echo "packed-${OMNISH_SESSION:+wrapped}"', 20_000)).toBe('packed-wrapped\n');
    expect(t.text()).not.toContain('omnish:');
    const status = `${JSON.stringify(process.execPath)} ${JSON.stringify(join(installed, 'bin', 'omnish.js'))} status`;
    // The recorder registers the session a moment after the shell starts: ask until status lists it.
    let mine: string | undefined;
    for (const deadline = Date.now() + 20_000; !mine && Date.now() < deadline; ) {
      mine = (await runIn(t, status, 20_000)).split('\n').find((l) => l.startsWith('this session:'));
    }
    expect(mine).toContain('relay: native');
    t.write('exit 3\r');
    expect((await t.waitExit()).exitCode).toBe(3);
    // The installed CLI talks to the daemon that session started, and sees the session it recorded.
    const sessions = execFileSync(process.execPath, [join(installed, 'bin', 'omnish.js'), 'sessions'], {
      env: testEnv(dir.path),
      encoding: 'utf8',
    });
    expect(sessions).toMatch(/bash/);
  }, 120_000);
});
