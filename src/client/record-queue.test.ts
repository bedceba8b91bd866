import { describe, expect, it } from 'vitest';
import type { Message } from '../protocol/index.js';
import { BATCH_BYTES, CAP_REASON, PAUSE_REASON, RecordQueue, type QueueOutlet, type QueueTimers } from './record-queue.js';

const KiB = 1024;

/**
 * Plays a socket: each message sent adds its payload to `bufferedBytes` (as Node's writable buffer
 * would while the peer does not read) and send() reports backpressure at `hwm`, like socket.write.
 */
class FakeOutlet implements QueueOutlet {
  readonly sent: Message[] = [];
  bufferedBytes = 0;
  closed = false;
  constructor(private readonly hwm = 64 * KiB) {}

  send(msg: Message): boolean {
    this.sent.push(msg);
    if (msg.type === 'IoData') this.bufferedBytes += msg.data.length;
    return this.bufferedBytes < this.hwm;
  }

  /** The peer read everything. */
  drainAll(): void {
    this.bufferedBytes = 0;
  }
}

/** Timers that fire only when the test says so. */
class ManualTimers implements QueueTimers {
  private pending = new Map<number, () => void>();
  private next = 0;
  setTimeout(cb: () => void): unknown {
    this.pending.set(++this.next, cb);
    return this.next;
  }
  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }
  get count(): number {
    return this.pending.size;
  }
  fireAll(): void {
    const cbs = [...this.pending.values()];
    this.pending.clear();
    for (const cb of cbs) cb();
  }
}

function chunk(size: number, fill: number): Buffer {
  return Buffer.alloc(size, fill);
}

function queueWith(capBytes: number, outlet?: FakeOutlet): { q: RecordQueue; timers: ManualTimers } {
  const timers = new ManualTimers();
  const q = new RecordQueue({ capBytes, timers });
  q.setOutlet(outlet);
  return { q, timers };
}

function ioBytes(msgs: Message[]): number {
  return msgs.reduce((n, m) => n + (m.type === 'IoData' ? m.data.length : 0), 0);
}

describe('RecordQueue batching', () => {
  it('merges 4 KiB reads into IoData of at most 64 KiB, in order, stamped with the first read', () => {
    const out = new FakeOutlet(Infinity);
    const { q } = queueWith(8 * 1024 * KiB, out);
    const input: Buffer[] = [];
    for (let i = 0; i < 40; i++) {
      input.push(chunk(4000 + i, i));
      q.output(input[i]!, 1000 + i);
    }
    q.flush();
    const io = out.sent.filter((m) => m.type === 'IoData');
    expect(io.length).toBeGreaterThan(1);
    for (const m of io) expect(m.data.length).toBeLessThanOrEqual(BATCH_BYTES);
    expect(Buffer.concat(io.map((m) => m.data)).equals(Buffer.concat(input))).toBe(true);
    // The second batch starts with the read that did not fit into the first.
    const firstLen = io[0]!.data.length;
    let sum = 0;
    const k = input.findIndex((b) => (sum += b.length) > firstLen);
    expect(io.map((m) => m.tUs)).toEqual([1000, 1000 + k, ...io.slice(2).map((m) => m.tUs)]);
  });

  it('cuts a write larger than a batch into batches', () => {
    const out = new FakeOutlet(Infinity);
    const { q } = queueWith(8 * 1024 * KiB, out);
    const big = Buffer.from(Array.from({ length: 200 * KiB }, (_, i) => i % 251));
    q.output(big, 7);
    q.flush();
    expect(out.sent.map((m) => (m.type === 'IoData' ? m.data.length : -1))).toEqual([64 * KiB, 64 * KiB, 64 * KiB, 8 * KiB]);
    expect(Buffer.concat(out.sent.map((m) => (m.type === 'IoData' ? m.data : Buffer.alloc(0)))).equals(big)).toBe(true);
  });

  it('seals a partial batch when its timer fires, and tells the owner', () => {
    const timers = new ManualTimers();
    let queued = 0;
    const q = new RecordQueue({ capBytes: 1024 * KiB, timers, onQueued: () => queued++ });
    q.output(chunk(10, 1), 5);
    q.output(chunk(10, 2), 6);
    expect(timers.count).toBe(1);
    expect(queued).toBe(0);
    timers.fireAll();
    expect(queued).toBe(1);
    const out = new FakeOutlet();
    q.setOutlet(out);
    q.flush();
    expect(out.sent).toEqual([{ type: 'IoData', dir: 0, tUs: 5, data: Buffer.concat([chunk(10, 1), chunk(10, 2)]) }]);
  });

  it('keeps output, resizes and the end in the order they happened', () => {
    const out = new FakeOutlet(Infinity);
    const { q, timers } = queueWith(1024 * KiB, out);
    q.output(chunk(3, 1), 1);
    q.push({ type: 'Resize', tUs: 2, cols: 100, rows: 30 });
    q.output(chunk(3, 2), 3);
    q.push({ type: 'SessionEnd', tUs: 4, exitCode: 0, signal: null });
    expect(timers.count).toBe(0); // every push sealed the open batch
    expect(q.flush()).toBe(true);
    expect(out.sent.map((m) => [m.type, 'tUs' in m ? m.tUs : undefined])).toEqual([
      ['IoData', 1], ['Resize', 2], ['IoData', 3], ['SessionEnd', 4],
    ]);
    expect(q.isEmpty).toBe(true);
  });
});

describe('RecordQueue backpressure and cap', () => {
  it('stops writing at backpressure and resumes only after drained()', () => {
    const out = new FakeOutlet(64 * KiB);
    const { q } = queueWith(8 * 1024 * KiB, out);
    for (let i = 0; i < 64; i++) q.output(chunk(4 * KiB, i), i); // 4 batches of 64 KiB
    expect(q.flush()).toBe(false);
    expect(out.sent).toHaveLength(1); // the first frame filled the socket's buffer
    expect(q.isBlocked).toBe(true);
    q.output(chunk(4 * KiB, 99), 99);
    q.flush();
    expect(out.sent).toHaveLength(1); // still blocked: nothing more piles up in the socket
    out.drainAll();
    q.drained();
    q.flush();
    expect(out.sent).toHaveLength(2);
    out.drainAll();
    q.drained();
    q.flush();
    out.drainAll();
    q.drained();
    q.flush();
    out.drainAll();
    q.drained();
    expect(q.flush()).toBe(true);
    expect(out.sent.map((m) => ('tUs' in m ? m.tUs : undefined))).toEqual([0, 16, 32, 48, 99]);
  });

  it('counts what the socket buffers against the cap', () => {
    const out = new FakeOutlet(Infinity);
    const { q } = queueWith(100 * KiB, out);
    q.output(chunk(60 * KiB, 1), 1);
    q.flush();
    expect(out.bufferedBytes).toBe(60 * KiB);
    expect(q.heldBytes).toBe(60 * KiB); // handed to the socket, but still in this process
    q.output(chunk(30 * KiB, 2), 2);
    expect(q.heldBytes).toBe(90 * KiB);
    q.output(chunk(20 * KiB, 3), 3); // 110 KiB > cap: dropped although the queue holds only 30
    expect(q.heldBytes).toBe(90 * KiB);
    out.drainAll();
    q.output(chunk(20 * KiB, 4), 4); // the socket took its bytes: room again
    q.flush();
    expect(out.sent.map((m) => (m.type === 'Gap' ? `gap ${m.lostBytes} ${m.reason}` : m.type === 'IoData' ? `io ${m.data.length}` : m.type))).toEqual([
      `io ${60 * KiB}`, `io ${30 * KiB}`, `gap ${20 * KiB} ${CAP_REASON}`, `io ${20 * KiB}`,
    ]);
  });

  it('records one gap exactly where output was dropped, with its first timestamp and every byte counted', () => {
    const { q } = queueWith(16 * KiB); // no daemon: the queue alone fills up
    q.output(chunk(10 * KiB, 1), 10);
    q.output(chunk(5 * KiB, 2), 20);
    q.output(chunk(4 * KiB, 3), 30); // over the cap: dropped
    q.output(chunk(3 * KiB, 4), 40); // the same gap grows
    q.output(chunk(1 * KiB, 5), 50); // would fit, but no room for a batch: no sliver between gaps
    const out = new FakeOutlet(Infinity);
    q.setOutlet(out);
    q.flush();
    expect(out.sent).toEqual([
      { type: 'IoData', dir: 0, tUs: 10, data: Buffer.concat([chunk(10 * KiB, 1), chunk(5 * KiB, 2)]) },
      { type: 'Gap', tUs: 30, lostBytes: 8 * KiB, reason: CAP_REASON },
    ]);
    out.drainAll(); // the daemon took it: room again
    q.output(chunk(1 * KiB, 6), 60);
    q.output(chunk(16 * KiB, 7), 70); // over again: a new gap after the kept output
    q.flush();
    expect(out.sent.slice(2)).toEqual([
      { type: 'IoData', dir: 0, tUs: 60, data: chunk(1 * KiB, 6) },
      { type: 'Gap', tUs: 70, lostBytes: 16 * KiB, reason: CAP_REASON },
    ]);
  });

  it('keeps a pause gap apart from a cap gap', () => {
    const out = new FakeOutlet(Infinity);
    const { q } = queueWith(4 * KiB);
    q.pause(1);
    q.output(chunk(100, 1), 2);
    expect(q.isPaused).toBe(true);
    q.resume();
    q.output(chunk(5 * KiB, 2), 3);
    q.setOutlet(out);
    q.flush();
    expect(out.sent).toEqual([
      { type: 'Gap', tUs: 1, lostBytes: 100, reason: PAUSE_REASON },
      { type: 'Gap', tUs: 3, lostBytes: 5 * KiB, reason: CAP_REASON },
    ]);
  });

  it('sends nothing to a closed outlet and keeps it for the next one', () => {
    const dead = new FakeOutlet(Infinity);
    const { q } = queueWith(1024 * KiB, dead);
    dead.closed = true;
    q.output(chunk(10, 1), 1);
    expect(q.flush()).toBe(false);
    expect(dead.sent).toEqual([]);
    const next = new FakeOutlet(Infinity);
    q.setOutlet(next);
    expect(q.flush()).toBe(true);
    expect(next.sent).toHaveLength(1);
  });

  it('counts what it handed to outlets as the store does (output bytes, gap bytes), a closed one included', () => {
    const first = new FakeOutlet(Infinity);
    const { q } = queueWith(4 * KiB, first);
    q.output(chunk(100, 1), 1);
    q.push({ type: 'Resize', tUs: 2, cols: 90, rows: 30 }); // no bytes of the stream
    q.flush();
    expect(q.sentBytes).toBe(100);
    first.closed = true; // the daemon died with those 100 bytes unread: they count as sent (and lost)
    q.setOutlet(undefined);
    q.output(chunk(3 * KiB, 2), 3);
    q.output(chunk(2 * KiB, 3), 4); // over the cap: a gap of 2 KiB
    expect(q.sentBytes).toBe(100); // held, not sent
    q.setOutlet(new FakeOutlet(Infinity));
    q.flush();
    expect(q.sentBytes).toBe(100 + 3 * KiB + 2 * KiB);
  });

  it('under any mix of reads and a slow socket: bounded, in order, and every byte kept or counted', () => {
    let seed = 42;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const cap = 256 * KiB;
    const out = new FakeOutlet(64 * KiB);
    const { q, timers } = queueWith(cap, out);
    const kept: Buffer[] = [];
    let produced = 0;
    for (let i = 0; i < 5000; i++) {
      const data = Buffer.alloc(1 + rand(8 * KiB), i % 256);
      produced += data.length;
      const before = q.heldBytes;
      q.output(data, i);
      if (q.heldBytes > before) kept.push(data);
      expect(q.heldBytes).toBeLessThanOrEqual(cap);
      if (rand(4) === 0) timers.fireAll();
      if (rand(3) === 0) q.flush();
      if (rand(60) === 0) {
        out.drainAll();
        q.drained();
        q.flush();
      }
    }
    out.drainAll();
    q.drained();
    while (!q.flush()) {
      out.drainAll();
      q.drained();
    }
    const io = out.sent.filter((m) => m.type === 'IoData');
    const lost = out.sent.reduce((n, m) => n + (m.type === 'Gap' ? m.lostBytes : 0), 0);
    expect(lost).toBeGreaterThan(0);
    expect(ioBytes(out.sent) + lost).toBe(produced);
    for (const m of io) expect(m.data.length).toBeLessThanOrEqual(BATCH_BYTES);
    // equals(), not toEqual(): a diff of megabytes would take the test runner minutes.
    expect(Buffer.concat(io.map((m) => m.data)).equals(Buffer.concat(kept))).toBe(true);
    // Two gaps never follow each other: a drop right after a gap lengthens it.
    out.sent.forEach((m, i) => {
      if (m.type === 'Gap') expect(out.sent[i + 1]?.type).not.toBe('Gap');
    });
  });
});
