/**
 * What a client's payload may be made of, checked on its bytes before msgpackr decodes it: plain
 * MessagePack (nil, booleans, numbers, strings, binary, arrays, maps), at most LIMITS.maxValues
 * values nested at most LIMITS.maxNesting deep, and of the extension types only the timestamp (and
 * msgpackr's `undefined`).
 *
 * Why before decoding: the cost of decoding is per value, not per byte. Within the 8 MiB frame cap
 * a payload can hold millions of values, and msgpackr's extensions build Error, RegExp, Set, BigInt
 * and cyclic objects from them: an 8 MiB payload of Error extensions took omnishd 12 s to decode,
 * one of empty `bin`s 2.3 s, with its event loop blocked for everyone meanwhile. No message of a
 * client needs more than a few dozen values. The walk reads only type bytes and lengths (binary
 * and string bodies are skipped), so checking an 8 MiB IoData costs nothing.
 */
import { ProtocolError } from './errors.js';
import { LIMITS } from './messages.js';

/**
 * The extension types a client may send: -1, the timestamp (a TOML date in `config-set`'s value),
 * and 0, which msgpackr writes for a field whose value is `undefined` (an absent optional field of
 * SessionStart goes on the wire that way) and reads back as undefined.
 */
const ALLOWED_EXT = new Set([0xff, 0x00]);

/** Fixed-size bodies after the type byte, by type byte (ints, floats). */
const FIXED: Readonly<Record<number, number>> = {
  0xca: 4, 0xcb: 8, 0xcc: 1, 0xcd: 2, 0xce: 4, 0xcf: 8, 0xd0: 1, 0xd1: 2, 0xd2: 4, 0xd3: 8,
};

/** fixext 1/2/4/8/16: body size by type byte. */
const FIXEXT: Readonly<Record<number, number>> = { 0xd4: 1, 0xd5: 2, 0xd6: 4, 0xd7: 8, 0xd8: 16 };

/**
 * Checks that `payload` is one plain MessagePack value within the limits above, and nothing after it.
 * @param name - the message's name, for the error message (`Request payload holds more than …`)
 * @throws ProtocolError (BAD_MSGPACK) naming what is wrong: too many values, too deep, another
 *   extension type, the byte 0xc1, a value cut short, bytes after the value
 */
export function checkPlainPayload(payload: Uint8Array, name: string, limits: { maxValues: number; maxNesting: number } = LIMITS): void {
  const fail = (why: string): never => {
    throw new ProtocolError('BAD_MSGPACK', `${name} payload ${why}`);
  };
  const end = payload.length;
  let pos = 0;
  /** Reads an n-byte unsigned big-endian length at pos. */
  const length = (n: 1 | 2 | 4): number => {
    if (end - pos < n) fail('ends inside a MessagePack value');
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 256 + payload[pos++]!;
    return v;
  };
  let values = 0;
  // Values still to read in each open array or map, outermost first; [0] is the payload's one value.
  const remaining: number[] = [1];
  for (;;) {
    while (remaining.length > 0 && remaining[remaining.length - 1] === 0) remaining.pop();
    if (remaining.length === 0) break;
    remaining[remaining.length - 1]!--;
    if (++values > limits.maxValues) fail(`holds more than ${limits.maxValues} MessagePack values`);
    if (pos >= end) fail('ends inside a MessagePack value');
    const t = payload[pos++]!;
    let skip = 0;
    let items = 0;
    if (t <= 0x7f || t >= 0xe0 || t === 0xc0 || t === 0xc2 || t === 0xc3) {
      // fixint, nil, false, true: the type byte is the value
    } else if (t <= 0x8f) items = (t & 0x0f) * 2;
    else if (t <= 0x9f) items = t & 0x0f;
    else if (t <= 0xbf) skip = t & 0x1f;
    else if (FIXED[t] !== undefined) skip = FIXED[t];
    else if (t === 0xc4 || t === 0xd9) skip = length(1);
    else if (t === 0xc5 || t === 0xda) skip = length(2);
    else if (t === 0xc6 || t === 0xdb) skip = length(4);
    else if (t === 0xdc) items = length(2);
    else if (t === 0xdd) items = length(4);
    else if (t === 0xde) items = length(2) * 2;
    else if (t === 0xdf) items = length(4) * 2;
    else if (t === 0xc7 || t === 0xc8 || t === 0xc9 || FIXEXT[t] !== undefined) {
      skip = FIXEXT[t] ?? length(t === 0xc7 ? 1 : t === 0xc8 ? 2 : 4);
      if (pos >= end) fail('ends inside a MessagePack value');
      const ext = payload[pos++]!;
      if (!ALLOWED_EXT.has(ext)) fail(`uses MessagePack extension type ${ext << 24 >> 24}; the protocol uses none but the timestamp (-1)`);
    } else fail(`holds the byte 0x${t.toString(16)}, which MessagePack never uses`);
    if (end - pos < skip) fail('ends inside a MessagePack value');
    pos += skip;
    if (items === 0) continue;
    // Each item takes at least a byte: a count the rest cannot hold is refused before it is walked.
    if (items > end - pos) fail('ends inside a MessagePack value');
    if (remaining.length > limits.maxNesting) fail(`nests arrays and maps more than ${limits.maxNesting} deep`);
    remaining.push(items);
  }
  if (pos !== end) fail(`has ${end - pos} bytes after its value`);
}
