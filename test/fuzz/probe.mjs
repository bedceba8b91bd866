// The status probe of the socket fuzz (test/fuzz/rig.ts): a separate process, so that how long
// omnishd takes to answer is measured on an event loop of its own, not the fuzzer's, which is busy
// building and writing attacks. Every INTERVAL_MS it connects, says Hello with the token, asks
// `status` and prints one JSON line: {"ms": <connect to Response>, "connections": <the daemon's
// open connections, this one included>} or {"error": "<why>"} when there is no Response within
// DEADLINE_MS. It runs until its stdin closes.
//
// Usage: node test/fuzz/probe.mjs SOCKET TOKEN INTERVAL_MS DEADLINE_MS
import { performance } from 'node:perf_hooks';
import { UnixTransport } from '../../dist/transport/index.js';
import { PROTOCOL_VERSION } from '../../dist/protocol/index.js';

const [socket, token, intervalArg, deadlineArg] = process.argv.slice(2);
const intervalMs = Number(intervalArg);
const deadlineMs = Number(deadlineArg);
let running = true;
process.stdin.on('end', () => (running = false));
process.stdin.resume();

/** One status request; resolves to its time in ms and the daemon's connection count. @throws Error when it fails or takes longer than deadlineMs */
async function statusOnce() {
  const t0 = performance.now();
  const conn = await new UnixTransport(socket, { connectTimeoutMs: deadlineMs }).connect();
  try {
    return await new Promise((resolve, reject) => {
      const left = deadlineMs - (performance.now() - t0);
      const timer = setTimeout(() => reject(new Error(`no status answer within ${deadlineMs} ms`)), left);
      conn.onClose(() => reject(new Error('omnishd closed the probe connection')));
      conn.onMessage((msg) => {
        if (msg.type === 'Welcome') return void conn.send({ type: 'Request', id: 1, method: 'status', params: {} });
        clearTimeout(timer);
        if (msg.type === 'Response' && msg.ok) resolve({ ms: performance.now() - t0, connections: msg.result.daemon.connections });
        else reject(new Error(`status answered ${JSON.stringify(msg).slice(0, 200)}`));
      });
      conn.send({ type: 'Hello', protocolVersion: PROTOCOL_VERSION, token, role: 'control', clientVersion: 'fuzz-probe', pid: process.pid });
    });
  } finally {
    conn.destroy();
  }
}

while (running) {
  const started = Date.now();
  try {
    process.stdout.write(`${JSON.stringify(await statusOnce())}\n`);
  } catch (err) {
    process.stdout.write(`${JSON.stringify({ error: err.message })}\n`);
  }
  await new Promise((r) => setTimeout(r, Math.max(0, intervalMs - (Date.now() - started))));
}
