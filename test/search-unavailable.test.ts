/**
 * Search without SQLite: where neither `node:sqlite` nor better-sqlite3 loads (an old Node and a
 * failed native build), `omnish search` says so in one line and exits 1, `omnish status` says
 * search is off and why, and recording is unaffected. Both bindings are taken away in every omnish
 * and omnishd process: `--no-experimental-sqlite` where Node has node:sqlite, and a preload that
 * makes `require('better-sqlite3')` fail as a missing package does.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTestDir } from './helpers/fixture.js';
import { omnish, sessions, startDaemon, waitDaemon } from './helpers/daemon.js';
import { runIn, testEnv, waitUntil } from './helpers/term.js';

const dir = useTestDir();

/** NODE_OPTIONS for a Node without either binding. */
function withoutSqlite(): string {
  const preload = join(dir.path, 'no-better-sqlite3.cjs');
  writeFileSync(preload, `const Module = require('node:module');
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (request === 'better-sqlite3') { const e = new Error("Cannot find module 'better-sqlite3'"); e.code = 'MODULE_NOT_FOUND'; throw e; }
  return resolve.call(this, request, ...rest);
};
`);
  const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
  const hasNodeSqlite = major > 22 || (major === 22 && minor >= 5);
  return `--require ${preload}${hasNodeSqlite ? ' --no-experimental-sqlite' : ''}`;
}

describe('search without SQLite', () => {
  it('says so in one line; status says search is off; recording goes on', async () => {
    const env = { NODE_OPTIONS: withoutSqlite() };
    startDaemon(dir.path, { env: testEnv(dir.path, env) });
    await waitDaemon(dir.path);

    const t = dir.omnish({ args: [], env: { ...env, OMNISH_SHELL: '/bin/bash' } });
    expect(await runIn(t, 'echo recorded-$((6*7))')).toContain('recorded-42');

    const search = omnish(dir.path, ['search', 'recorded'], env);
    expect(search.status).toBe(1);
    expect(search.stdout).toBe('');
    const lines = search.stderr.trim().split('\n');
    expect(lines, search.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/^omnish: search needs SQLite: .*better-sqlite3 does not load/);

    const status = await waitUntil(() => {
      const r = omnish(dir.path, ['status'], env);
      return /search index: off \(search needs SQLite/.test(r.stdout) ? r : undefined;
    }, () => `status never said search is off: ${omnish(dir.path, ['status'], env).stdout}`, 10_000);
    expect(status.status).toBe(0);

    // The session was recorded all the same.
    const id = sessions(dir.path).find((s) => s.active)?.id;
    expect(id).toBeDefined();
    const shown = await waitUntil(() => {
      const r = omnish(dir.path, ['commands', id!, '--json']);
      return r.status === 0 && r.stdout.includes('recorded-$((6*7))') ? r : undefined;
    }, () => 'the command was never recorded', 10_000);
    expect(shown.stdout).toContain('echo');
    t.write('exit\r');
    await t.waitExit();
  });
});
