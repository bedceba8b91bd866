#!/usr/bin/env node
// omnish launcher: hands over to the built code. If that cannot even load (a broken install),
// the user still gets a shell: one line on stderr, then the plain shell, never a lockout.
import { realpathSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const self = fileURLToPath(import.meta.url);
const launch = { argv0: process.argv0, args: process.argv.slice(2), selfPaths: [self, realpathSync(self)] };

try {
  const { main } = await import('../dist/client/entry.js');
  await main(launch);
} catch (err) {
  if (err && err.code !== 'ERR_MODULE_NOT_FOUND' && !String(err.message).includes('node_modules')) throw err;
  process.stderr.write(`omnish: cannot load (${err.message.split('\n')[0]}); starting the plain shell\n`);
  const envShell = process.env.SHELL;
  const shell = envShell && !/omnish(\.js)?$/.test(envShell) ? envShell : '/bin/sh';
  const child = spawn(shell, launch.args, { stdio: 'inherit' });
  child.on('exit', (code) => process.exit(code ?? 1));
}
