/**
 * The client's memory is bounded for real: with omnishd stopped (SIGSTOP, so its socket stays open
 * but nobody reads it), a burst of output far over the recorder's cap does not grow omnish by more
 * than the cap plus a margin, what did not fit is a gap in the store with the exact byte count, and
 * once the daemon runs again the session is recorded on after the gap.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CAP_REASON } from '../src/client/record-queue.js';
import { readStream, RecordKind, SessionStore, STREAM_FILE, type StreamRecord } from '../src/store/index.js';
import { useTestDir } from './helpers/fixture.js';
import { sessions, waitDaemon } from './helpers/daemon.js';
import { ready, runIn, waitUntil } from './helpers/term.js';

const dir = useTestDir();

const MiB = 1024 * 1024;
/** Output produced while the daemon is stopped: 16 times the recorder's default cap. */
const BURST_BYTES = 128 * MiB;
/** The recorder's default cap (RecorderOptions.capBytes). */
const CAP_BYTES = 8 * MiB;
/** What the relay itself may grow by under such a burst (V8 heap, buffers awaiting GC). */
const MARGIN_BYTES = 60 * MiB;
const Z = 0x5a;

/** A memory figure of process `pid` from /proc/PID/status, in bytes. */
function memBytes(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
  if (!m) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(m[1]) * 1024;
}

function countByte(data: Buffer, byte: number): number {
  let n = 0;
  for (let i = data.indexOf(byte); i !== -1; i = data.indexOf(byte, i + 1)) n++;
  return n;
}

describe('recording with omnishd not reading', () => {
  it('keeps the client within the cap, records a gap with the lost bytes, and records on after it', async () => {
    const t = dir.omnish();
    await ready(t);
    const daemon = await waitDaemon(dir.path);
    const id = await waitUntil(() => sessions(dir.path).find((s) => s.active)?.id, 'the session to register');
    expect(readFileSync(`/proc/${t.pid}/cmdline`, 'latin1')).toContain('omnish.js'); // t.pid is omnish itself
    const baseline = memBytes(t.pid, 'VmRSS');
    const done = join(dir.path, 'burst-done');
    let peak = baseline;
    process.kill(daemon, 'SIGSTOP');
    try {
      // 'Z' spelled \132 so the echoed command line holds none; `read` keeps the next prompt back
      // until the daemon reads again, so the only bytes dropped are the burst's.
      t.write(`head -c ${BURST_BYTES} /dev/zero | tr '\\0' '\\132'; touch "$HOME/burst-done"; read -r _\r`);
      await waitUntil(() => {
        t.forget(); // the terminal need not keep 128 MiB of Z
        peak = Math.max(peak, memBytes(t.pid, 'VmRSS'));
        return existsSync(done);
      }, 'the burst to end', 120_000);
      peak = Math.max(peak, memBytes(t.pid, 'VmHWM'));
    } finally {
      process.kill(daemon, 'SIGCONT');
    }
    expect(peak - baseline).toBeLessThan(CAP_BYTES + MARGIN_BYTES);

    const stream = join(new SessionStore(join(dir.path, 'data', 'sessions')).resolve(id).dir, STREAM_FILE);
    const records = (): StreamRecord[] => [...readStream(stream)];
    // The gap is the last thing queued during the burst: once it is on disk, all before it is too.
    await waitUntil(() => records().some((r) => r.kind === RecordKind.Gap), 'the gap on disk', 30_000);
    t.write('\r'); // ends `read`
    expect(await runIn(t, 'echo after-$((6*7))')).toContain('after-42');
    const isMarker = (r: StreamRecord): boolean => r.kind === RecordKind.Output && r.data.includes('after-42');
    const all = await waitUntil(() => {
      const rs = records();
      return rs.some(isMarker) ? rs : undefined;
    }, 'output after the gap on disk', 30_000);

    const gaps = all.flatMap((r) => (r.kind === RecordKind.Gap ? [r] : []));
    expect(gaps).toHaveLength(1); // one stall, one gap
    for (const g of gaps) expect(g.reason).toBe(CAP_REASON);
    const lost = gaps.reduce((n, g) => n + g.lostBytes, 0);
    const storedZ = all.reduce((n, r) => n + (r.kind === RecordKind.Output ? countByte(r.data, Z) : 0), 0);
    // Every byte of the burst is either in the store or counted by a gap; most of it was dropped.
    expect(storedZ + lost).toBe(BURST_BYTES);
    expect(lost).toBeGreaterThan(BURST_BYTES - 2 * CAP_BYTES);
    // The output after the burst is recorded after the gap.
    expect(all.findIndex(isMarker)).toBeGreaterThan(all.lastIndexOf(gaps[gaps.length - 1]!));
  });
});
