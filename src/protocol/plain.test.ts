import fc from 'fast-check';
import { pack } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { ProtocolError } from './errors.js';
import { FrameDecoder, encodeFrame } from './frame.js';
import { LIMITS, MAX_PAYLOAD_BYTES, MessageType } from './messages.js';
import { checkPlainPayload } from './plain.js';

const small = { maxValues: 50, maxNesting: 4 };

function why(payload: Uint8Array, limits = small): string | null {
  try {
    checkPlainPayload(payload, 'Request', limits);
    return null;
  } catch (err) {
    if (!(err instanceof ProtocolError)) throw err;
    expect(err.code).toBe('BAD_MSGPACK');
    return err.message;
  }
}

/** JSON-like values (what a client puts in params), with their value count and nesting as plain.ts counts them. */
const plainValue = fc.letrec((tie) => ({
  leaf: fc.oneof(fc.constant(null), fc.boolean(), fc.integer(), fc.double(), fc.string(), fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b))),
  node: fc.oneof({ depthSize: 'small' }, tie('leaf'), fc.array(tie('node'), { maxLength: 5 }), fc.dictionary(fc.string({ maxLength: 4 }), tie('node'), { maxKeys: 5 })),
})).node;

function shape(v: unknown): { values: number; nesting: number } {
  if (Array.isArray(v)) {
    const inner = v.map(shape);
    return { values: 1 + inner.reduce((n, s) => n + s.values, 0), nesting: v.length ? 1 + Math.max(...inner.map((s) => s.nesting)) : 0 };
  }
  if (v !== null && typeof v === 'object' && !Buffer.isBuffer(v)) {
    const inner = Object.values(v).map(shape);
    const keys = inner.length;
    return { values: 1 + keys + inner.reduce((n, s) => n + s.values, 0), nesting: keys ? 1 + Math.max(...inner.map((s) => s.nesting)) : 0 };
  }
  return { values: 1, nesting: 0 };
}

describe('plain payloads (what a client may send)', () => {
  it('accepts a value exactly when its count and nesting are within the limits (fast-check, seed 1)', () => {
    fc.assert(
      fc.property(plainValue, (v) => {
        const { values, nesting } = shape(v);
        const ok = values <= small.maxValues && nesting <= small.maxNesting;
        const problem = why(pack(v));
        expect(problem === null, `${values} values, nesting ${nesting}: ${problem}`).toBe(ok);
      }),
      { seed: 1, numRuns: 500 },
    );
  });

  it('names what is wrong', () => {
    expect(why(pack(Array.from({ length: 60 }, () => 0)))).toBe('Request payload holds more than 50 MessagePack values');
    expect(why(pack([[[[[1]]]]]))).toBe('Request payload nests arrays and maps more than 4 deep');
    expect(why(pack([[[[1]]]]))).toBeNull();
    // msgpackr's Error (0x65) and Set (0x73) extensions, as a hostile peer writes them.
    expect(why(Buffer.from([0xd4, 0x65, 0x00]))).toBe('Request payload uses MessagePack extension type 101; the protocol uses none but the timestamp (-1)');
    expect(why(Buffer.from([0xc7, 0x01, 0xf3, 0x00]))).toMatch(/extension type -13;/);
    expect(why(pack(new Date(0)))).toBeNull(); // `omnish config set KEY 1979-05-27` sends one
    expect(why(pack({ nonce: undefined }))).toBeNull(); // msgpackr writes undefined as extension 0
    expect(why(Buffer.from([0xc1]))).toBe('Request payload holds the byte 0xc1, which MessagePack never uses');
    expect(why(Buffer.from([0x81, 0xa1]))).toBe('Request payload ends inside a MessagePack value');
    expect(why(Buffer.from([0xc0, 0xc0]))).toBe('Request payload has 1 bytes after its value');
    // A count the rest of the payload cannot hold is refused without walking it.
    expect(why(Buffer.from([0xdd, 0xff, 0xff, 0xff, 0xff, 0xc0]))).toBe('Request payload ends inside a MessagePack value');
  });

  it('walks an 8 MiB binary as one value', () => {
    expect(why(pack({ data: Buffer.alloc(MAX_PAYLOAD_BYTES - 100) }), LIMITS)).toBeNull();
  });

  it('refuses, in milliseconds, the 8 MiB payloads that once blocked omnishd for seconds', () => {
    const n = MAX_PAYLOAD_BYTES;
    const errors = Buffer.concat([Buffer.from([0xdd, 0, 0x15, 0x55, 0x55]), Buffer.alloc(n - 5)]);
    for (let o = 5; o + 6 <= n; o += 6) errors.set([0xd4, 0x65, 0x00, 0x92, 0xa0, 0xa0], o); // 12 s in msgpackr
    const emptyBins = Buffer.concat([Buffer.from([0xdd, 0, 0x3f, 0xff, 0xfd]), Buffer.alloc(n - 5)]);
    for (let o = 5; o + 2 <= n; o += 2) emptyBins[o] = 0xc4; // 2.3 s
    for (const payload of [errors, emptyBins]) {
      const h = Buffer.from([0x4f, 0x4d, 0, 0, 0, 0, MessageType.Request]);
      h.writeUInt32BE(payload.length, 2);
      const frame = Buffer.concat([h, payload]);
      // CPU time, not wall time: a loaded machine must not fail this, a decode of seconds must.
      const cpu = process.cpuUsage();
      expect(() => new FrameDecoder({ from: 'client' }).push(frame)).toThrow(/payload (uses MessagePack extension|holds more than)/);
      const { user, system } = process.cpuUsage(cpu);
      expect((user + system) / 1000).toBeLessThan(200);
    }
  });

  it('the client refuses to encode what the daemon would refuse; daemon messages are not walked', () => {
    const params = { list: Array.from({ length: LIMITS.maxValues }, (_, i) => i) };
    expect(() => encodeFrame({ type: 'Request', id: 1, method: 'config-set', params })).toThrow(/holds more than 10000 MessagePack values/);
    expect(encodeFrame({ type: 'Response', id: 1, ok: true, result: params }).length).toBeGreaterThan(LIMITS.maxValues);
  });
});
