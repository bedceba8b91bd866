/**
 * Hostile terminal output, bounded (issue 13, item 2; docs/reliability.md): an unterminated OSC
 * string, `yes`, random bytes and many short lines through the real omnish and omnishd, then an
 * ordinary command. What must hold: the store has what the terminal got, byte for byte and without
 * a gap; client and daemon memory stay within a bound that does not grow with the output; each
 * command's record has its own command line, exit status and output range; the context built
 * afterwards stays within its token budget and shows the ordinary command.
 *
 * CI sizes here; the issue's full sizes (100 MB OSC, 1 GB of yes, …) are `npm run soak -- --hostile-only`.
 * The mark parsers' own bounds (a 100 MB OSC, marks split at every boundary) are in
 * test/native-marks.test.ts and src/daemon/commands.test.ts.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTestDir } from './helpers/fixture.js';
import { hostileCommands, runHostile, type HostileSizes } from './load/hostile.js';
import { compileTerm, mib } from './load/rig.js';
import { SUITE_MEMORY_ENV } from './fuzz/rig.js';

const dir = useTestDir();

/** Large enough that buffering any one of them whole would break the memory bounds below. */
const SIZES: HostileSizes = { osc: 32e6, yes: 50e6, random: 16e6, lines: 1e6 };
/**
 * What each process may grow by over its baseline (after a first short session), bytes. Measured:
 * the client grows by 1 to 3 MiB with the native relay, about 21 MiB with the JS relay (V8's heap
 * under a high allocation rate; it holds at most its 8 MiB record cap). omnishd grows by 35 to 37 MiB under any stream at full speed (its JS heap,
 * capped at 32 MB here, fills; frames in flight), whether 120 MB or 1.2 GB go through it
 * (docs/reliability.md). Either one keeping the 32 MB OSC whole would cross these.
 */
const CLIENT_GROWTH = 40 * 2 ** 20;
const DAEMON_GROWTH = 48 * 2 ** 20;

describe('hostile terminal output', () => {
  it('an unterminated 32 MB OSC, 50 MB of yes, 16 MB of random bytes, a million lines: recorded exactly, memory bounded, commands attributed, context within budget', { timeout: 240_000 }, async () => {
    const term = compileTerm(join(dir.path, 'term'));
    const run = await runHostile(term, dir.path, SIZES, { timeoutMs: 120_000, daemonEnv: SUITE_MEMORY_ENV });
    const figures = `client ${mib(run.client.baseline)} → peak ${mib(run.client.peak)}; daemon ${mib(run.daemon.baseline)} → peak ${mib(run.daemon.peak)}, after ${mib(run.daemon.after)}; ${run.term.bytes} bytes in ${run.seconds.toFixed(1)} s`;
    console.log(`hostile output: ${figures}`);

    // A daemon whose heap is capped (and that also indexes every command) can fall more than the
    // client's 8 MiB cap behind a relay at full speed on a loaded machine (the JavaScript relay
    // often, the native one seen once on Node 24 in CI); what is dropped is then a gap, by design:
    // every byte is either stored, in place, or counted by a gap.
    const lost = run.store.lostBytes;
    expect(run.store).toEqual({ termBytes: run.term.bytes, storedBytes: run.term.bytes - lost, gaps: run.store.gaps, lostBytes: lost, firstDifference: -1 });
    expect(run.client.peak - run.client.baseline, figures).toBeLessThan(CLIENT_GROWTH);
    expect(run.daemon.peak - run.daemon.baseline, figures).toBeLessThan(DAEMON_GROWTH);

    // One record per command line typed, in order, each with its own line and status.
    const typed = hostileCommands(SIZES);
    const records = run.commands.filter((r) => r.command !== null && !r.command.startsWith('exit'));
    expect(records.map((r) => r.command)).toEqual(typed.map((c, k) => `${c.cmd}; printf '%s:%s\\n' END${k} 42`));
    expect(records.map((r) => r.exitCode)).toEqual(typed.map(() => 0));
    const size = (k: number): number => records[k]!.outputEnd - records[k]!.outputStart;
    /** A command's recorded size: exactly `bytes`, less at most what gaps dropped. */
    const sized = (k: number, bytes: number): void => {
      if (lost === 0) return void expect(size(k)).toBe(bytes);
      expect(size(k)).toBeGreaterThanOrEqual(bytes - lost);
      expect(size(k)).toBeLessThanOrEqual(bytes);
    };
    const endLine = (k: number): number => `END${k}:42\r\n`.length;
    // The pty turns each \n into \r\n: the ranges are exactly each command's output.
    sized(0, '\x1b]133;A;'.length + SIZES.osc + endLine(0));
    sized(1, SIZES.yes * 1.5 + endLine(1));
    let seqBytes = 0;
    for (let n = 1; n <= SIZES.lines; n++) seqBytes += String(n).length + 2;
    sized(3, seqBytes + endLine(3));
    sized(4, 'after-42\r\n'.length + endLine(4));
    // Random bytes may hold an ONLCR-doubled \n anywhere: only the lower bound is exact.
    expect(size(2)).toBeGreaterThanOrEqual(SIZES.random + endLine(2) - lost);

    expect(run.context.approxTokens).toBeLessThanOrEqual(run.context.maxTokens);
    expect(run.context.user).toContain('after-42');
    expect(run.context.user).toMatch(/\$ seq 1000000;/);
  });
});
