#!/usr/bin/env node
// omnishd launcher: hands over to the built daemon.
const { main } = await import('../dist/daemon/main.js');
await main(process.argv.slice(2));
