import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appendEvent, readEvents } from './events.js';
import { lastCommandSeq, readCommandRecords, type CommandRecord } from './records.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'omnish-records-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const command = (seq: number): CommandRecord => ({
  type: 'command', seq, command: `cmd${seq}`, cwd: '/srv', startedAtUs: seq * 1000, endedAtUs: seq * 1000 + 500, exitCode: 0,
  outputStart: seq * 100, outputEnd: seq * 100 + 50, altScreen: false,
});

describe('readCommandRecords', () => {
  it('returns the command records oldest first, skipping other records and incomplete ones', () => {
    appendEvent(dir, command(1));
    appendEvent(dir, { type: 'event', kind: 'nonzero-exit', seq: 1, exitCode: 2, tUs: 1500 });
    appendEvent(dir, { type: 'explanation', seq: 1, question: 'q', backend: 'b', model: 'm', answer: 'a' });
    appendEvent(dir, { type: 'command', seq: 2, command: 'half' }); // a broken writer: no times or offsets
    appendEvent(dir, { ...command(3), outputEnd: '350' }); // a number of the wrong type
    appendEvent(dir, command(4));
    expect(readCommandRecords(dir)).toEqual([command(1), command(4)]);
  });

  it('is empty for a session without events.jsonl', () => {
    expect(readCommandRecords(dir)).toEqual([]);
  });
});

describe('lastCommandSeq', () => {
  it('is the highest seq of the command records, 0 without any', () => {
    expect(lastCommandSeq([])).toBe(0);
    appendEvent(dir, command(3));
    appendEvent(dir, command(2));
    appendEvent(dir, { type: 'event', kind: 'rule', seq: 9, tUs: 1 });
    expect(lastCommandSeq(readEvents(dir))).toBe(3);
  });
});
