/**
 * What `status` costs as the store fills: creates ended sessions in a temporary store, N at a
 * time, and times omnishd's status handler (its store count) after each step, in this process.
 * docs/reliability.md has the figures.
 *
 * Usage: npm run build && npx tsc -p bench/tsconfig.json && node .bench/js/bench/store-count.js [N ...]
 * (default 1000 2000 5000 sessions)
 */
import { join } from 'node:path';
import pino from 'pino';
import { stateHandlers, type DaemonState } from '../src/daemon/control.js';
import { SessionManager } from '../src/daemon/sessions.js';
import { SessionStore } from '../src/store/index.js';
import { tempDir } from '../test/helpers/env.js';

const targets = (process.argv.length > 2 ? process.argv.slice(2) : ['1000', '2000', '5000']).map(Number);
const dir = tempDir('omnish-store-count-');
try {
  const store = new SessionStore(join(dir.path, 'sessions'));
  const state: DaemonState = { sessions: new SessionManager(store, pino({ level: 'silent' })), socket: '', startedAtMs: Date.now(), connections: () => 1 };
  const ctx = { emit: () => undefined, signal: new AbortController().signal };
  let n = 0;
  for (const target of targets) {
    for (; n < target; n++) {
      const id = n.toString(16).padStart(12, '0');
      store.create({ id, hostname: 'h', pid: 1, clientPid: 1, tty: '', shell: '/bin/sh', cwd: '/', term: 'xterm', cols: 80, rows: 24, startedAt: new Date().toISOString() }).end(0, null, 'exit', 0);
    }
    const { status } = stateHandlers(); // a fresh table: its first status counts
    const t0 = performance.now();
    await status(state, {}, ctx);
    const ms = performance.now() - t0;
    process.stdout.write(`${target} sessions: status took ${ms.toFixed(0)} ms (${((ms / target) * 1000).toFixed(0)} µs a session)\n`);
  }
} finally {
  dir.cleanup();
}
