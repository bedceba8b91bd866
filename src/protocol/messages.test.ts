import { pack } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import {
  FrameDecoder,
  LIMITS,
  MAX_HELLO_PAYLOAD_BYTES,
  MAX_PAYLOAD_BYTES,
  MessageType,
  PROTOCOL_VERSION,
  ProtocolError,
  checkHello,
  checkWelcome,
  encodeFrame,
  type Hello,
  type Message,
} from './index.js';

const TOKEN = 'ab'.repeat(32);
const hello: Hello = { type: 'Hello', protocolVersion: PROTOCOL_VERSION, token: TOKEN, role: 'session', clientVersion: '0.1.0', pid: 4242 };

/** One sample of every message type, in code order. */
const samples: Message[] = [
  hello,
  {
    type: 'SessionStart', sessionId: '0123456789ab', resume: false, startedAtMs: 1_700_000_000_123, shell: '/bin/bash',
    shellPid: 100, clientPid: 99, tty: '/dev/pts/3', cwd: '/home/u', term: 'xterm-256color', cols: 80, rows: 24, hostname: 'box',
  },
  { type: 'IoData', dir: 0, tUs: 1500, data: Buffer.from('hi\r\n') },
  { type: 'IoData', dir: 1, tUs: 2 ** 40, data: Buffer.alloc(300, 7) }, // > 255 bytes: bin16
  { type: 'Resize', tUs: 10, cols: 120, rows: 40 },
  { type: 'Gap', tUs: 11, lostBytes: 65536, reason: 'buffer full' },
  { type: 'SessionEnd', tUs: 12, exitCode: 0, signal: null },
  { type: 'SessionEnd', tUs: 13, exitCode: null, signal: 9 },
  { type: 'Request', id: 1, method: 'status', params: { verbose: true, n: [1, 2] } },
  { type: 'Welcome', protocolVersion: PROTOCOL_VERSION, daemonVersion: '0.1.0', daemonPid: 7 },
  { type: 'Welcome', protocolVersion: PROTOCOL_VERSION, daemonVersion: '0.1.0', daemonPid: 7, methods: ['ping', 'status'] },
  { type: 'Response', id: 1, ok: true, result: { sessions: 3 } },
  { type: 'Response', id: 2, ok: false, error: 'no such session' },
  { type: 'Event', sessionId: '0123456789ab', kind: 'explanation', data: { text: 'x' } },
  { type: 'Event', sessionId: '', kind: 'notice', data: {} },
  { type: 'Refused', message: 'bad auth token' },
];

/** A frame with a hand-made header and payload. */
function rawFrame(code: number, payload: Buffer | Uint8Array, length = payload.length): Buffer {
  const h = Buffer.alloc(7);
  h.write('OM', 0, 'latin1');
  h.writeUInt32BE(length, 2);
  h[6] = code;
  return Buffer.concat([h, payload]);
}

function decodeAll(bytes: Buffer, dec = new FrameDecoder()): Message[] {
  const out = dec.push(bytes);
  dec.end();
  return out;
}

function protocolError(fn: () => unknown): ProtocolError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ProtocolError);
    return err as ProtocolError;
  }
  throw new Error('expected a ProtocolError');
}

describe('round trip', () => {
  it('covers every message type', () => {
    const names = new Set(samples.map((m) => m.type));
    expect([...names].sort()).toEqual(Object.keys(MessageType).sort());
  });

  it.each(samples.map((m) => [m.type, m] as const))('%s survives encode/decode', (_name, msg) => {
    expect(decodeAll(encodeFrame(msg))).toEqual([msg]);
  });

  it('decodes IoData.data as a Buffer, also when sent as a plain Uint8Array', () => {
    const [m] = decodeAll(encodeFrame({ type: 'IoData', dir: 1, tUs: 0, data: new Uint8Array([1, 2, 3]) }));
    expect(m?.type === 'IoData' && Buffer.isBuffer(m.data)).toBe(true);
    expect(m).toEqual({ type: 'IoData', dir: 1, tUs: 0, data: Buffer.from([1, 2, 3]) });
  });

  it('ignores unknown extra payload keys (an optional field added later is compatible)', () => {
    const payload = pack({ message: 'hi', addedInV9: 1 });
    expect(decodeAll(rawFrame(MessageType.Refused, payload))).toEqual([{ type: 'Refused', message: 'hi' }]);
  });
});

describe('golden bytes (pinned: a change here is a protocol change)', () => {
  it('Hello', () => {
    const frame = encodeFrame({ ...hello, token: 'ab'.repeat(4) });
    expect(frame.toString('hex')).toBe(
      '4f4d000000490185af70726f746f636f6c56657273696f6e01a5746f6b656ea86162616261626162a4726f6c65a7' +
        '73657373696f6ead636c69656e7456657273696f6ea5302e312e30a3706964cd1092',
    );
  });

  it('IoData', () => {
    const frame = encodeFrame({ type: 'IoData', dir: 0, tUs: 1500, data: Buffer.from('hi\r\n') });
    expect(frame.toString('hex')).toBe('4f4d000000180383a364697200a3745573cd05dca464617461c40468690d0a');
  });

  it('Welcome, without and with the optional methods (added after protocol 1, no bump: a key appended to the map)', () => {
    const welcome = { type: 'Welcome', protocolVersion: 1, daemonVersion: '0.1.0', daemonPid: 7 } as const;
    const without = '83af70726f746f636f6c56657273696f6e01ad6461656d6f6e56657273696f6ea5302e312e30a96461656d6f6e50696407';
    expect(encodeFrame(welcome).toString('hex')).toBe(`4f4d0000003181${without}`);
    expect(encodeFrame({ ...welcome, methods: ['ping'] }).toString('hex')).toBe(
      `4f4d0000003f81${without.replace(/^83/, '84')}a76d6574686f647391a470696e67`,
    );
  });
});

describe('streaming', () => {
  const stream = Buffer.concat(samples.map(encodeFrame));
  const expected = samples;

  it('decodes many frames from one chunk', () => {
    expect(decodeAll(stream)).toEqual(expected);
  });

  it('decodes the same when split at every byte boundary', () => {
    for (let cut = 1; cut < stream.length; cut++) {
      const dec = new FrameDecoder();
      const out = [...dec.push(stream.subarray(0, cut)), ...dec.push(stream.subarray(cut))];
      dec.end();
      expect(out).toEqual(expected);
    }
  });

  it('decodes the same when fed one byte at a time', () => {
    const dec = new FrameDecoder();
    const out: Message[] = [];
    for (let i = 0; i < stream.length; i++) out.push(...dec.push(stream.subarray(i, i + 1)));
    dec.end();
    expect(out).toEqual(expected);
  });

  it('reassembles a large payload from many small chunks', () => {
    const big = { type: 'IoData', dir: 0, tUs: 1, data: Buffer.alloc(1_000_000, 0x61) } as const;
    const frame = encodeFrame(big);
    const dec = new FrameDecoder();
    const out: Message[] = [];
    for (let i = 0; i < frame.length; i += 1000) out.push(...dec.push(frame.subarray(i, i + 1000)));
    expect(out).toHaveLength(1);
    expect(out[0]?.type === 'IoData' && Buffer.compare(out[0].data, big.data) === 0).toBe(true); // toEqual is slow on 1 MB
    expect(dec.bufferedBytes).toBe(0);
  });

  it('an empty chunk and a clean end are no-ops', () => {
    const dec = new FrameDecoder();
    expect(dec.push(Buffer.alloc(0))).toEqual([]);
    expect(() => dec.end()).not.toThrow();
  });
});

describe('malformed input', () => {
  it('rejects a bad magic at the first wrong byte', () => {
    expect(protocolError(() => new FrameDecoder().push(Buffer.from('X'))).code).toBe('BAD_MAGIC');
    expect(protocolError(() => new FrameDecoder().push(Buffer.from('OX'))).code).toBe('BAD_MAGIC');
  });

  it('names a bad magic by its first wrong byte, however the bytes were chunked (found by the socket fuzz)', () => {
    const bad = Buffer.from([0x73, 0xed, 0xd2, 0x8c]);
    const whole = protocolError(() => new FrameDecoder().push(bad)).message;
    expect(whole).toBe('bad frame magic: byte 0 is 0x73, not 0x4f (a frame starts with "OM")');
    expect(protocolError(() => new FrameDecoder().push(bad.subarray(0, 1))).message).toBe(whole);
    expect(protocolError(() => new FrameDecoder().push(Buffer.from('OX'))).message).toBe('bad frame magic: byte 1 is 0x58, not 0x4d (a frame starts with "OM")');
    const split = new FrameDecoder();
    split.push(Buffer.from('O'));
    expect(protocolError(() => split.push(Buffer.from('X'))).message).toBe('bad frame magic: byte 1 is 0x58, not 0x4d (a frame starts with "OM")');
  });

  it('rejects an oversize length before the payload arrives', () => {
    const header = rawFrame(MessageType.IoData, Buffer.alloc(0), MAX_PAYLOAD_BYTES + 1).subarray(0, 6);
    const err = protocolError(() => new FrameDecoder().push(header));
    expect(err.code).toBe('TOO_LARGE');
    expect(err.message).toContain(String(MAX_PAYLOAD_BYTES + 1));
    // exactly at the cap is fine so far: the decoder waits for the payload
    const ok = rawFrame(MessageType.IoData, Buffer.alloc(0), MAX_PAYLOAD_BYTES);
    expect(new FrameDecoder().push(ok)).toEqual([]);
  });

  it('holds the first frame to firstFrameMaxPayloadBytes (the daemon: Hello before anything else), from its header alone', () => {
    const daemonSide = (): FrameDecoder => new FrameDecoder({ from: 'client', firstFrameMaxPayloadBytes: MAX_HELLO_PAYLOAD_BYTES });
    const over = rawFrame(MessageType.Hello, Buffer.alloc(0), MAX_HELLO_PAYLOAD_BYTES + 1).subarray(0, 6);
    const err = protocolError(() => daemonSide().push(over));
    expect(err.code).toBe('TOO_LARGE');
    expect(err.message).toBe(`first frame (the Hello) length ${MAX_HELLO_PAYLOAD_BYTES + 1} is over the ${MAX_HELLO_PAYLOAD_BYTES}-byte cap`);
    // any type: an 8 MiB IoData as first frame is refused the same way
    const io = rawFrame(MessageType.IoData, Buffer.alloc(0), MAX_PAYLOAD_BYTES).subarray(0, 7);
    expect(protocolError(() => daemonSide().push(io)).code).toBe('TOO_LARGE');
    // at the cap the decoder waits for the payload; after the first frame the full cap applies
    const dec = daemonSide();
    expect(dec.push(rawFrame(MessageType.Hello, Buffer.alloc(0), MAX_HELLO_PAYLOAD_BYTES).subarray(0, 7))).toEqual([]);
    const second = daemonSide();
    expect(second.push(encodeFrame(hello))).toEqual([hello]);
    expect(second.push(rawFrame(MessageType.IoData, Buffer.alloc(0), MAX_PAYLOAD_BYTES).subarray(0, 7))).toEqual([]);
    expect(second.bufferedBytes).toBe(0);
  });

  it('rejects a stream cut mid-frame at end()', () => {
    const frame = encodeFrame(hello);
    for (const cut of [3, 7, frame.length - 1]) {
      const dec = new FrameDecoder();
      expect(dec.push(frame.subarray(0, cut))).toEqual([]);
      const err = protocolError(() => dec.end());
      expect(err.code).toBe('TRUNCATED');
    }
  });

  it('rejects a payload that is not valid MessagePack', () => {
    for (const junk of [Buffer.alloc(0), Buffer.from([0xa5, 0x61]), Buffer.from([0x92, 0x01]), Buffer.from([0x01, 0x02])]) {
      expect(protocolError(() => decodeAll(rawFrame(MessageType.Refused, junk))).code).toBe('BAD_MSGPACK');
    }
  });

  it.each([
    [MessageType.IoData, { dir: 0, tUs: -1, data: Buffer.from('x') }, 'IoData.tUs: expected an integer in 0…3155760000000000 µs (100 years), got -1'],
    [MessageType.IoData, { dir: 2, tUs: 0, data: Buffer.from('x') }, 'IoData.dir: expected one of 0, 1'],
    [MessageType.IoData, { dir: 0, tUs: 0, data: 'text' }, 'IoData.data: expected binary data'],
    [MessageType.SessionStart, { sessionId: 'XYZ' }, 'SessionStart.sessionId: expected 12 lowercase hex characters'],
    [MessageType.Resize, { tUs: 0, cols: 1.5, rows: 2 }, 'Resize.cols: expected an integer in 1…65535, got 1.5'],
    [MessageType.Hello, { ...hello, role: 'admin' }, 'Hello.role: expected one of "session", "control"'],
    [MessageType.Request, { id: 1, method: 'x', params: [1] }, 'Request.params: expected a map, got an array'],
    [MessageType.Refused, [1, 2], 'Refused: expected a map as payload'],
  ])('rejects a schema-invalid payload (%#)', (code, payload, message) => {
    const err = protocolError(() => decodeAll(rawFrame(code, pack(payload))));
    expect(err.code).toBe('INVALID');
    expect(err.message).toContain(message);
  });

  it('keeps the valid messages decoded before a bad frame', () => {
    const bytes = Buffer.concat([encodeFrame(samples[4]!), Buffer.from('garbage')]);
    const err = protocolError(() => new FrameDecoder().push(bytes));
    expect(err.decoded).toEqual([samples[4]]);
  });

  it('stays dead after an error', () => {
    const dec = new FrameDecoder();
    protocolError(() => dec.push(Buffer.from('XX')));
    expect(protocolError(() => dec.push(encodeFrame(hello))).code).toBe('DECODER_FAILED');
  });

  it('refuses to encode a payload over the cap', () => {
    const huge: Message = { type: 'IoData', dir: 0, tUs: 0, data: Buffer.alloc(MAX_PAYLOAD_BYTES) };
    expect(protocolError(() => encodeFrame(huge)).code).toBe('TOO_LARGE');
  });

  it('refuses to encode an invalid message', () => {
    const bad = { type: 'Resize', tUs: Number.NaN, cols: 1, rows: 1 } as Message;
    expect(protocolError(() => encodeFrame(bad)).message).toContain('Resize.tUs');
  });
});

describe('bounds of client-supplied values (LIMITS)', () => {
  const start = samples[1] as Extract<Message, { type: 'SessionStart' }>;
  const { type: _s, ...startFields } = start;
  const base: Record<string, Record<string, unknown>> = {
    Hello: { ...hello, type: undefined },
    SessionStart: startFields,
    IoData: { dir: 0, tUs: 0, data: Buffer.from('x') },
    Resize: { tUs: 0, cols: 80, rows: 24 },
    Gap: { tUs: 0, lostBytes: 0, reason: 'r' },
    SessionEnd: { tUs: 0, exitCode: 0, signal: null },
    Request: { id: 0, method: 'm', params: {} },
    Welcome: { protocolVersion: PROTOCOL_VERSION, daemonVersion: 'v', daemonPid: 1 },
    Event: { sessionId: '', kind: 'k', data: {} },
  };
  const decode = (name: keyof typeof MessageType, field: string, value: unknown): Message[] =>
    decodeAll(rawFrame(MessageType[name], pack({ ...base[name], [field]: value })));
  const refusal = (name: keyof typeof MessageType, field: string, value: unknown): string => {
    const err = protocolError(() => decode(name, field, value));
    expect(err.code).toBe('INVALID');
    return err.message;
  };
  const PID = `an integer in 1…${2 ** 31 - 1}`;
  const T = 'an integer in 0…3155760000000000 µs (100 years)';

  // [message, field, largest/smallest accepted, refused, expected text]
  it.each([
    ['SessionEnd', 'exitCode', [0, 255, null], [99999, -1, 256, 1.5], 'an integer in 0…255 or nil'],
    ['SessionEnd', 'signal', [1, 127, null], [0, 128, 9.5], 'an integer in 1…127 or nil'],
    ['SessionEnd', 'tUs', [0, LIMITS.maxTUs], [LIMITS.maxTUs + 1, 2 ** 64 - 1, -1, 0.5, Number.POSITIVE_INFINITY], T],
    ['IoData', 'tUs', [0, LIMITS.maxTUs], [2 ** 64 - 1, 1e300, 10.25], T],
    ['Resize', 'tUs', [LIMITS.maxTUs], [LIMITS.maxTUs + 1], T],
    ['Gap', 'tUs', [LIMITS.maxTUs], [-5], T],
    ['Resize', 'cols', [1, 65535], [0, 65536, 1e9], 'an integer in 1…65535'],
    ['Resize', 'rows', [1, 65535], [0, 65536], 'an integer in 1…65535'],
    ['SessionStart', 'cols', [1, 65535], [0, 70000], 'an integer in 1…65535'],
    ['SessionStart', 'rows', [1, 65535], [0, 70000], 'an integer in 1…65535'],
    ['SessionStart', 'startedAtMs', [0, 253_402_300_799_999], [253_402_300_800_000, -1, 1.5, 2 ** 64 - 1], 'an integer in 0…253402300799999 ms (Unix time)'],
    ['SessionStart', 'shellPid', [1, 2 ** 31 - 1], [0, 2 ** 31, -1], PID],
    ['SessionStart', 'clientPid', [1, 2 ** 31 - 1], [0, 2 ** 32], PID],
    ['Hello', 'pid', [1, 2 ** 31 - 1], [0, 2 ** 31], PID],
    ['Welcome', 'daemonPid', [1], [0, 2 ** 40], PID],
    ['Gap', 'lostBytes', [0, Number.MAX_SAFE_INTEGER], [-1, 2 ** 53, 0.5], 'a non-negative integer'],
    ['Request', 'id', [0, Number.MAX_SAFE_INTEGER], [-1, 2 ** 64 - 1], 'a non-negative integer'],
  ] as const)('%s.%s: accepts %j, refuses %j', (name, field, accepted, refused, expected) => {
    for (const v of accepted) expect(decode(name, field, v)[0]).toMatchObject({ type: name, [field]: v });
    for (const v of refused) expect(refusal(name, field, v)).toBe(`${name}.${field}: expected ${expected}, got ${String(v)}`);
  });

  it.each([
    ['SessionStart', 'cwd', LIMITS.maxPathBytes],
    ['SessionStart', 'shell', LIMITS.maxPathBytes],
    ['SessionStart', 'tty', LIMITS.maxPathBytes],
    ['SessionStart', 'term', LIMITS.maxNameBytes],
    ['SessionStart', 'hostname', LIMITS.maxNameBytes],
    ['SessionStart', 'nonce', LIMITS.maxNameBytes],
    ['SessionStart', 'integration', LIMITS.maxTextBytes],
    ['Hello', 'token', LIMITS.maxNameBytes],
    ['Hello', 'clientVersion', LIMITS.maxNameBytes],
    ['Gap', 'reason', LIMITS.maxTextBytes],
    ['Request', 'method', LIMITS.maxNameBytes],
    ['Event', 'kind', LIMITS.maxNameBytes],
    ['Welcome', 'daemonVersion', LIMITS.maxNameBytes],
  ] as const)('%s.%s: at most %i bytes of UTF-8', (name, field, max) => {
    expect(decode(name, field, 'a'.repeat(max))).toHaveLength(1);
    expect(refusal(name, field, 'a'.repeat(max + 1))).toBe(`${name}.${field}: expected a string of at most ${max} bytes, got a string of ${max + 1} chars`);
    // counted in bytes, not characters: 'é' is 2 bytes
    expect(refusal(name, field, 'é'.repeat(max / 2 + 1))).toContain(`at most ${max} bytes`);
    expect(decode(name, field, 'é'.repeat(max / 2))).toHaveLength(1);
  });

  it('Welcome.methods: a list of at most 256 names of at most 256 bytes', () => {
    const names = (n: number, len = 4) => Array.from({ length: n }, () => 'm'.repeat(len));
    expect(decode('Welcome', 'methods', names(LIMITS.maxListItems))[0]).toMatchObject({ methods: names(LIMITS.maxListItems) });
    expect(decode('Welcome', 'methods', [])[0]).toMatchObject({ methods: [] });
    expect(decode('Welcome', 'methods', names(1, LIMITS.maxNameBytes))).toHaveLength(1);
    const expected = 'Welcome.methods: expected a list of at most 256 strings of at most 256 bytes';
    for (const bad of [names(LIMITS.maxListItems + 1), names(1, LIMITS.maxNameBytes + 1), [1], 'ping', {}]) {
      expect(refusal('Welcome', 'methods', bad)).toContain(expected);
    }
  });

  it('the senders refuse to encode what the daemon would refuse', () => {
    const bad = { type: 'SessionEnd', tUs: 1, exitCode: 99999, signal: null } as Message;
    expect(protocolError(() => encodeFrame(bad)).message).toBe('SessionEnd.exitCode: expected an integer in 0…255 or nil, got 99999');
  });
});

describe('unknown and unexpected types', () => {
  const unknown = rawFrame(0x7e, pack({ x: 1 }));
  const after = encodeFrame({ type: 'Refused', message: 'after' });

  it("throws as soon as the header arrives with onUnknown 'throw' (the daemon)", () => {
    const err = protocolError(() => new FrameDecoder().push(unknown.subarray(0, 7)));
    expect(err.code).toBe('UNKNOWN_TYPE');
    expect(err.message).toContain('0x7e');
  });

  it("skips the frame with onUnknown 'skip' (the client), even split across chunks", () => {
    const bytes = Buffer.concat([unknown, after]);
    for (let cut = 1; cut < bytes.length; cut++) {
      const dec = new FrameDecoder({ onUnknown: 'skip' });
      const out = [...dec.push(bytes.subarray(0, cut)), ...dec.push(bytes.subarray(cut))];
      dec.end();
      expect(out).toEqual([{ type: 'Refused', message: 'after' }]);
    }
  });

  it('treats a code of the wrong direction as unknown', () => {
    const err = protocolError(() => new FrameDecoder({ from: 'client' }).push(after));
    expect(err.message).toBe('Refused (0x84) is not expected from a client');
    expect(new FrameDecoder({ from: 'daemon', onUnknown: 'skip' }).push(encodeFrame(hello))).toEqual([]);
    expect(new FrameDecoder({ from: 'daemon' }).push(after)).toHaveLength(1);
  });
});

describe('handshake checks', () => {
  it('accepts a matching version and token', () => {
    expect(checkHello(hello, TOKEN)).toBeNull();
    expect(checkWelcome({ type: 'Welcome', protocolVersion: PROTOCOL_VERSION, daemonVersion: 'x', daemonPid: 1 })).toBeNull();
  });

  it('explains a version mismatch from either side', () => {
    expect(checkHello({ ...hello, protocolVersion: 2 }, TOKEN, 1)).toBe('omnishd speaks protocol 1, this omnish speaks 2');
    expect(checkWelcome({ type: 'Welcome', protocolVersion: 3, daemonVersion: 'x', daemonPid: 1 }, 2)).toBe(
      'omnishd speaks protocol 3, this omnish speaks 2',
    );
  });

  it('refuses a missing or wrong token', () => {
    expect(checkHello({ ...hello, token: '' }, TOKEN)).toBe('missing auth token');
    expect(checkHello({ ...hello, token: 'cd'.repeat(32) }, TOKEN)).toBe('bad auth token');
    expect(checkHello({ ...hello, token: TOKEN.slice(2) }, TOKEN)).toBe('bad auth token');
    expect(checkHello(hello, '')).toBe('bad auth token');
  });

  it('reports a Hello of another version that fails validation as a version mismatch', () => {
    const future = pack({ protocolVersion: PROTOCOL_VERSION + 1, token: TOKEN, role: 'viewer', clientVersion: '9', pid: 1 });
    const err = protocolError(() => decodeAll(rawFrame(MessageType.Hello, future)));
    expect(err.code).toBe('VERSION_MISMATCH');
    expect(err.message).toBe(`omnishd speaks protocol ${PROTOCOL_VERSION}, this omnish speaks ${PROTOCOL_VERSION + 1}`);
  });
});
