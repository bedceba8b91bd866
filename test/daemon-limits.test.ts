/**
 * What a peer that has not authenticated can cost the real omnishd, and what the daemon makes of
 * out-of-range values from one that has: both end that one connection with a Refused naming why.
 */
import { describe, expect, it } from 'vitest';
import { MAX_HELLO_PAYLOAD_BYTES, MAX_PAYLOAD_BYTES, MessageType, type Message } from '../src/protocol/index.js';
import { omnish, startDaemon, waitDaemon } from './helpers/daemon.js';
import { useTestDir } from './helpers/fixture.js';
import { daemonSocket, daemonToken, helloFrame, rawFrame, rawPeer as rawPeerAt, sessionStartFrame } from './helpers/peer.js';
import { memBytes as rssBytes } from './helpers/procs.js';
import { waitUntil } from './helpers/wait.js';

const dir = useTestDir();
const rawPeer = (): ReturnType<typeof rawPeerAt> => rawPeerAt(daemonSocket(dir.path));

async function runningDaemon(): Promise<number> {
  startDaemon(dir.path);
  return waitDaemon(dir.path);
}

describe('limits before authentication', () => {
  it('refuses 100 connections that each open with an 8 MiB frame, and its memory stays at its baseline', { timeout: 90_000 }, async () => {
    const pid = await runningDaemon();
    const baseline = rssBytes(pid);
    // One 8 MiB payload shared by every peer (the test itself must not hold 800 MB).
    const header = Buffer.from([0x4f, 0x4d, 0, 0, 0, 0, MessageType.Hello]);
    header.writeUInt32BE(MAX_PAYLOAD_BYTES, 2);
    const payload = Buffer.alloc(MAX_PAYLOAD_BYTES, 0x61);
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, rssBytes(pid))), 20);
    try {
      const peers = Array.from({ length: 100 }, () => {
        const p = rawPeer();
        p.sock.write(header);
        p.sock.write(payload);
        return p;
      });
      // One more sends the header alone: the daemon refuses on the length, and with no payload
      // write of its own to fail, this peer always reads the Refused.
      const headerOnly = rawPeer();
      headerOnly.sock.write(header);
      // Each peer is refused: it reads the Refused, or (on a loaded machine) its own write of the
      // payload fails with EPIPE first because the daemon has already closed, and Node then drops
      // the unread Refused with the socket. Either way the daemon ended the connection.
      await waitUntil(() => peers.every((p) => p.received().length > 0 || p.sock.destroyed) || undefined, 'every hostile connection refused', 30_000);
      await waitUntil(() => headerOnly.received().length > 0 || undefined, 'the Refused of the header-only peer', 30_000);
      const refused = [headerOnly, ...peers.filter((p) => p.received().length > 0)];
      for (const p of refused) {
        expect(p.received()).toEqual([
          { type: 'Refused', message: `first frame (the Hello) length ${MAX_PAYLOAD_BYTES} is over the ${MAX_HELLO_PAYLOAD_BYTES}-byte cap` },
        ]);
      }
      for (const p of [headerOnly, ...peers]) p.sock.destroy();
      await Promise.all([headerOnly, ...peers].map((p) => p.closed));
    } finally {
      clearInterval(sampler);
    }
    const after = rssBytes(pid);
    // Before the cap the daemon buffered every payload: 307 → 864 MB, still 888 MB after the close.
    const mb = (n: number): string => `${(n / 2 ** 20).toFixed(1)} MB`;
    const figures = `baseline ${mb(baseline)}, peak ${mb(peak)}, after ${mb(after)}`;
    expect(peak - baseline, figures).toBeLessThan(30 * 2 ** 20);
    expect(after - baseline, figures).toBeLessThan(30 * 2 ** 20);
    // The daemon still serves.
    expect(omnish(dir.path, ['status', '--json']).status).toBe(0);
  });

  it('drops a connection that never says Hello', { timeout: 20_000 }, async () => {
    await runningDaemon();
    const peer = rawPeer();
    const t0 = Date.now();
    await peer.closed;
    expect(peer.received()).toEqual([{ type: 'Refused', message: 'no Hello within 5 s' }]);
    expect(Date.now() - t0).toBeGreaterThan(4000);
  });
});

describe('out-of-range values from an authenticated client', () => {
  /** A session connection past Welcome and SessionStart, on which `bad` is then sent. */
  async function sessionThenSend(bad: Buffer): Promise<Message[]> {
    await runningDaemon();
    const peer = rawPeer();
    peer.sock.write(helloFrame(daemonToken(dir.path), 'session'));
    await waitUntil(() => peer.received().length > 0 || undefined, 'Welcome');
    expect(peer.received()[0]?.type).toBe('Welcome');
    peer.sock.write(sessionStartFrame('0123456789ab'));
    peer.sock.write(bad);
    await peer.closed;
    return peer.received().slice(1);
  }

  it('an exit code of 99999 ends the connection with a Refused naming the field and its bound', async () => {
    const bad = rawFrame(MessageType.SessionEnd, { tUs: 10, exitCode: 99999, signal: null });
    expect(await sessionThenSend(bad)).toEqual([{ type: 'Refused', message: 'SessionEnd.exitCode: expected an integer in 0…255 or nil, got 99999' }]);
  });

  it('a timestamp of 2^64-1 µs is refused, not silently dropped', async () => {
    // msgpack uint64 0xffffffffffffffff, written by hand: JavaScript numbers cannot spell it exactly.
    // {dir: 0, tUs: <uint64 0xff..ff>, data: <bin "x">}
    const body = Buffer.concat([
      Buffer.from([0x83, 0xa3, ...Buffer.from('dir'), 0x00, 0xa3, ...Buffer.from('tUs'), 0xcf]),
      Buffer.alloc(8, 0xff),
      Buffer.from([0xa4, ...Buffer.from('data'), 0xc4, 0x01, 0x78]),
    ]);
    const h = Buffer.from([0x4f, 0x4d, 0, 0, 0, 0, MessageType.IoData]);
    h.writeUInt32BE(body.length, 2);
    const [refused] = await sessionThenSend(Buffer.concat([h, body]));
    expect(refused).toMatchObject({ type: 'Refused', message: expect.stringMatching(/^IoData\.tUs: expected an integer in 0…\d+ µs/) as string });
  });
});
