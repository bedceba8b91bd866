import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StoreError } from '../common/errors.js';
import { appendEvent, readEvents } from './events.js';

let dir: string;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'omnish-events-'));
  file = join(dir, 'events.jsonl');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('events.jsonl', () => {
  it('appends one line per event and reads them back in order', () => {
    expect(readEvents(dir)).toEqual([]);
    appendEvent(dir, { type: 'command', line: 'echo "a\nb"', exit: 0 });
    appendEvent(dir, { type: 'failure', tUs: 1234 });
    expect(readFileSync(file, 'utf8').split('\n')).toHaveLength(3);
    expect(readEvents(dir)).toEqual([{ type: 'command', line: 'echo "a\nb"', exit: 0 }, { type: 'failure', tUs: 1234 }]);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('skips a torn last line', () => {
    appendEvent(dir, { n: 1 });
    appendFileSync(file, '{"n": 2, "tor');
    expect(readEvents(dir)).toEqual([{ n: 1 }]);
  });

  it('cuts a torn last line before appending, so the next event stays whole', () => {
    appendEvent(dir, { n: 1 });
    appendFileSync(file, '{"n": 2, "tor');
    appendEvent(dir, { n: 3 });
    expect(readEvents(dir)).toEqual([{ n: 1 }, { n: 3 }]);
    writeFileSync(file, `{"n": 1}\n${'x'.repeat(200_000)}`); // torn line longer than the search block
    appendEvent(dir, { n: 4 });
    expect(readEvents(dir)).toEqual([{ n: 1 }, { n: 4 }]);
    writeFileSync(file, '{"only": "torn');
    appendEvent(dir, { n: 5 });
    expect(readEvents(dir)).toEqual([{ n: 5 }]);
  });

  it('throws StoreError with the line number for a corrupt complete line', () => {
    writeFileSync(file, '{"n": 1}\nnot json\n{"n": 3}\n');
    expect(() => readEvents(dir)).toThrow(StoreError);
    expect(() => readEvents(dir)).toThrow(/events\.jsonl:2: not a JSON object/);
  });
});
