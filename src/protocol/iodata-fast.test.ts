/**
 * The decoder reads IoData frames in place (frame.ts readIoData) instead of through msgpackr: it
 * must give what the general path gives (check the payload is plain, unpack, validate) for every
 * payload, the valid ones and the broken ones.
 */
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { FrameDecoder, HEADER_BYTES, LIMITS, MessageType, encodeFrame, type Message } from './index.js';
import { checkPlainPayload } from './plain.js';
import { validatePayload } from './schema.js';

const packr = new Packr({ useRecords: false, mapsAsObjects: true, variableMapSize: true, int64AsType: 'number' });

/** The general path, as frame.ts takes it for every other frame. */
function general(payload: Buffer): Message | string {
  try {
    checkPlainPayload(payload, 'IoData');
    return { type: 'IoData', ...validatePayload('IoData', packr.unpack(payload)) } as Message;
  } catch {
    return 'error';
  }
}

function decoded(payload: Buffer): Message | string {
  const frame = Buffer.alloc(HEADER_BYTES + payload.length);
  frame.writeUInt16BE(0x4f4d, 0);
  frame.writeUInt32BE(payload.length, 2);
  frame[6] = MessageType.IoData;
  payload.copy(frame, HEADER_BYTES);
  try {
    return new FrameDecoder({ from: 'client' }).push(frame)[0] ?? 'nothing';
  } catch {
    return 'error';
  }
}

const sizes = fc.constantFrom(0, 1, 31, 255, 256, 65535, 65536, 70000);
const message = fc.record({
  dir: fc.constantFrom(0, 1),
  tUs: fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: LIMITS.maxTUs })),
  size: sizes,
});

describe('IoData read in place', () => {
  it('decodes what encodeFrame wrote, data included', () => {
    fc.assert(
      fc.property(message, ({ dir, tUs, size }) => {
        const data = Buffer.alloc(size, 0x5a);
        const frame = encodeFrame({ type: 'IoData', dir: dir as 0 | 1, tUs, data });
        const [m, ...rest] = new FrameDecoder({ from: 'client' }).push(frame);
        expect(rest).toEqual([]);
        expect(m?.type === 'IoData' && { dir: m.dir, tUs: m.tUs }).toEqual({ dir, tUs });
        expect(m?.type === 'IoData' && Buffer.compare(m.data, data) === 0).toBe(true); // toEqual is slow on large buffers
      }),
      { seed: 7, numRuns: 200 },
    );
  });

  it('agrees with the general path on payloads with a byte changed, cut short or extended', () => {
    fc.assert(
      fc.property(message, fc.nat(), fc.nat({ max: 255 }), fc.constantFrom('set', 'cut', 'extend'), ({ dir, tUs, size }, at, byte, how) => {
        const frame = encodeFrame({ type: 'IoData', dir: dir as 0 | 1, tUs, data: Buffer.alloc(Math.min(size, 300), 0x5a) });
        let payload = Buffer.from(frame.subarray(HEADER_BYTES));
        const i = at % payload.length;
        if (how === 'set') payload[i] = byte;
        else if (how === 'cut') payload = payload.subarray(0, i);
        else payload = Buffer.concat([payload, Buffer.from([byte])]);
        expect(decoded(payload)).toEqual(general(payload));
      }),
      { seed: 8, numRuns: 2000 },
    );
  });
});
