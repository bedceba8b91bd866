#!/usr/bin/env node
// omnishd launcher: hands over to the built daemon.
import module from 'node:module';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';

// As in bin/omnish.js: on Node >= 22.1, the compiled code of the daemon's modules is cached per user,
// and any failure leaves the cache off.
if (typeof module.enableCompileCache === 'function') {
  try {
    const xdg = process.env.XDG_CACHE_HOME;
    const base = xdg && isAbsolute(xdg) ? xdg : join(process.env.HOME || homedir(), '.cache');
    module.enableCompileCache(join(base, 'omnish', 'node-compile-cache'));
  } catch {
    // No home, an unwritable cache: start as without it.
  }
}

const { main } = await import('../dist/daemon/main.js');
await main(process.argv.slice(2));
