import { describe, expect, it, vi } from 'vitest';
import type { ExitStatus, Pty } from './pty.js';
import { END_WAIT_MS, runRelay, type OutputSink, type RelayFault } from './relay.js';
import type { Terminal } from './terminal.js';

/** A pty whose data, end of output and exit the test drives. */
function fakePty() {
  const on = { data: [] as Array<(d: Buffer) => void>, exit: [] as Array<(s: ExitStatus) => void>, end: [] as Array<() => void> };
  const killed: string[] = [];
  const pty: Pty = {
    pid: 1,
    onData: (l) => on.data.push(l),
    onExit: (l) => on.exit.push(l),
    onEnd: (l) => on.end.push(l),
    write: () => {},
    resize: () => {},
    foreground: () => '',
    kill: (sig = 'SIGHUP') => killed.push(sig),
  };
  return {
    pty,
    killed,
    data: (s: string) => on.data.forEach((l) => l(Buffer.from(s))),
    exit: (s: ExitStatus) => on.exit.forEach((l) => l(s)),
    end: () => on.end.forEach((l) => l()),
  };
}

function fakeTerminal(): Terminal & { shown: string[] } {
  const shown: string[] = [];
  return { shown, size: () => ({ cols: 80, rows: 24 }), write: (d) => shown.push(d.toString()), onInput: () => {}, onResize: () => {}, enterRaw: () => {}, restore: () => {}, close: () => {} };
}

/** A sink that logs its calls. */
function logSink(log: string[]): OutputSink {
  return { output: (d) => log.push(`out:${d.toString()}`), resize: () => {}, end: (s) => log.push(`end:${s.exitCode}`) };
}

describe('runRelay ends the session on exit and end of output', () => {
  it('waits for the end of output after the exit: the sinks get the last bytes, then end', async () => {
    const p = fakePty();
    const log: string[] = [];
    const relay = runRelay({ pty: p.pty, terminal: fakeTerminal(), sinks: [logSink(log)] });
    p.data('a');
    p.exit({ exitCode: 3 });
    p.data('tail');
    p.end();
    expect(await relay).toEqual({ exitCode: 3 });
    expect(log).toEqual(['out:a', 'out:tail', 'end:3']);
  });

  it('output that ends while the shell lives on: SIGHUP after END_WAIT_MS, status hung up', async () => {
    vi.useFakeTimers();
    try {
      const p = fakePty();
      const relay = runRelay({ pty: p.pty, terminal: fakeTerminal(), sinks: [] });
      p.end();
      await vi.advanceTimersByTimeAsync(END_WAIT_MS - 1);
      expect(p.killed).toEqual([]);
      await vi.advanceTimersByTimeAsync(1);
      expect(p.killed).toEqual(['SIGHUP']);
      expect(await relay).toEqual({ exitCode: 1, signal: 1 });
    } finally {
      vi.useRealTimers();
    }
  });

  it('an exit whose output never ends is taken after END_WAIT_MS', async () => {
    vi.useFakeTimers();
    try {
      const p = fakePty();
      const relay = runRelay({ pty: p.pty, terminal: fakeTerminal(), sinks: [] });
      p.exit({ exitCode: 0 });
      await vi.advanceTimersByTimeAsync(END_WAIT_MS);
      expect(await relay).toEqual({ exitCode: 0 });
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('runRelay outlives what rides on it', () => {
  it('a sink that throws is dropped, reported once, and the terminal keeps getting everything', async () => {
    const p = fakePty();
    const terminal = fakeTerminal();
    const faults: RelayFault[] = [];
    const broken: OutputSink = { output: () => { throw new Error('boom'); }, resize: () => {}, end: () => {} };
    const relay = runRelay({ pty: p.pty, terminal, sinks: [broken], onFault: (what) => faults.push(what) });
    p.data('one');
    p.data('two');
    p.exit({ exitCode: 0 });
    p.end();
    await relay;
    expect(terminal.shown).toEqual(['one', 'two']);
    expect(faults).toEqual(['recording']);
  });

  it('an output filter that throws is dropped: the raw bytes are shown, integration reported once', async () => {
    const p = fakePty();
    const terminal = fakeTerminal();
    const faults: RelayFault[] = [];
    const relay = runRelay({
      pty: p.pty,
      terminal,
      sinks: [],
      outputFilter: () => { throw new Error('bad mark'); },
      onFault: (what) => faults.push(what),
    });
    p.data('x');
    p.data('y');
    p.exit({ exitCode: 0 });
    p.end();
    await relay;
    expect(terminal.shown).toEqual(['x', 'y']);
    expect(faults).toEqual(['integration']);
  });
});
