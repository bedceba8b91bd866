/**
 * The frames the native relay's thread writes itself (frames.c) are byte for byte what
 * src/protocol encodes: the daemon cannot tell which relay a session came from.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadNativeAddon } from '../src/client/native/addon.js';
import { CAP_REASON, PAUSE_REASON } from '../src/client/record-limits.js';
import { encodeFrame } from '../src/protocol/frame.js';
import { INPUT_HIDDEN_REASON, LIMITS } from '../src/protocol/messages.js';

const { addon, error } = loadNativeAddon();
if (!addon) throw new Error(`the native addon does not load (the build makes it): ${error}`);

const EDGES = [0, 1, 127, 128, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, 2 ** 40, LIMITS.maxTUs];

describe('native frames', () => {
  it('IoData: every integer width of tUs, every bin width of the data', () => {
    for (const tUs of EDGES) {
      for (const size of [0, 1, 255, 256, 65535, 65536, 70000]) {
        const data = Buffer.alloc(size, 0xab);
        expect(addon.encodeIoData(tUs, data).equals(encodeFrame({ type: 'IoData', dir: 0, tUs, data }))).toBe(true);
      }
    }
  });

  it('IoData input (dir 1, the recorded keystrokes) encodes as src/protocol does', () => {
    for (const tUs of EDGES) {
      for (const size of [0, 1, 255, 256, 4096]) {
        const data = Buffer.alloc(size, 0x61);
        expect(addon.encodeIoData(tUs, data, 1).equals(encodeFrame({ type: 'IoData', dir: 1, tUs, data }))).toBe(true);
      }
    }
    expect(() => addon.encodeIoData(0, Buffer.alloc(1), 2 as 1)).toThrow(/encodeIoData/);
  });

  it('IoData and Gap: random values encode as src/protocol does', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: LIMITS.maxTUs }), fc.uint8Array({ maxLength: 600 }), (tUs, bytes) => {
        const data = Buffer.from(bytes);
        expect(addon.encodeIoData(tUs, data).equals(encodeFrame({ type: 'IoData', dir: 0, tUs, data }))).toBe(true);
      }),
      { seed: 12, numRuns: 300 },
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: LIMITS.maxTUs }),
        fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
        fc.constantFrom(CAP_REASON, PAUSE_REASON, INPUT_HIDDEN_REASON, 'x'.repeat(40), 'y'.repeat(300)),
        (tUs, lostBytes, reason) => {
          expect(addon.encodeGap(tUs, lostBytes, reason).equals(encodeFrame({ type: 'Gap', tUs, lostBytes, reason }))).toBe(true);
        },
      ),
      { seed: 13, numRuns: 300 },
    );
  });

  it('Resize: random sizes encode as src/protocol does', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: LIMITS.maxTUs }), fc.integer({ min: 1, max: 65535 }), fc.integer({ min: 1, max: 65535 }), (tUs, cols, rows) => {
        expect(addon.encodeResize(tUs, cols, rows).equals(encodeFrame({ type: 'Resize', tUs, cols, rows }))).toBe(true);
      }),
      { seed: 14, numRuns: 300 },
    );
  });
});
