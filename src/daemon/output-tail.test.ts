import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OUTPUT_TAIL_BYTES, OutputTail } from './commands.js';

/** What the tail must return: the last OUTPUT_TAIL_BYTES of [start, end) of everything added, if still held. */
function model(stream: Buffer, heldFrom: number, start: number, end: number): Buffer {
  const from = Math.max(start, end - OUTPUT_TAIL_BYTES, heldFrom);
  const to = Math.min(end, stream.length);
  return from >= to ? Buffer.alloc(0) : stream.subarray(from, to);
}

describe('OutputTail', () => {
  it('returns the tail of any range as the whole stream has it, for chunks of any size', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 150_000 }), { minLength: 1, maxLength: 12 }),
        fc.integer({ min: 0, max: 100 }),
        fc.integer({ min: 0, max: 100 }),
        (sizes, a, b) => {
          const capacity = OUTPUT_TAIL_BYTES + 64 * 1024;
          const tail = new OutputTail(capacity);
          const parts = sizes.map((n, i) => Buffer.alloc(n, i + 1).map((_, j) => (i * 31 + j) & 0xff) as Buffer);
          let offset = 0;
          for (const p of parts) {
            tail.add(offset, p);
            offset += p.length;
          }
          const stream = Buffer.concat(parts);
          const [lo, hi] = [Math.min(a, b), Math.max(a, b)].map((x) => Math.floor((stream.length * x) / 100));
          const expected = model(stream, Math.max(0, stream.length - capacity), lo!, hi!);
          expect(tail.bytes(lo!, hi!).equals(expected)).toBe(true);
        },
      ),
      { seed: 20261202, numRuns: 200 },
    );
  });

  it('starts afresh at a chunk that does not follow the last one', () => {
    const tail = new OutputTail();
    tail.add(0, Buffer.from('abc'));
    tail.add(10, Buffer.from('xyz'));
    expect(tail.bytes(0, 13).toString()).toBe('xyz');
  });
});
