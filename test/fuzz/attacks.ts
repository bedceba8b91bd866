/**
 * The hostile connections of the socket fuzz (test/fuzz.test.ts, bench/fuzz.ts), as fast-check
 * arbitraries. An Attack is what one connection does: an optional valid handshake (the preamble),
 * then bytes, then how it ends. The families follow the threat list of issue 13: random bytes,
 * bad magic, header lengths from 0 to 2^32-1, truncated frames, valid frames with invalid payloads
 * (wrong types, missing fields, out-of-range numbers, deep nesting, type confusion), wrong
 * versions and tokens, floods of small frames, and payloads built to be expensive to decode.
 *
 * Whether the bytes break the protocol is judged by the protocol's own decoder (`breaks`): a
 * connection that does must be closed by the daemon without the peer's help.
 */
import fc from 'fast-check';
import { pack } from 'msgpackr';
import {
  FrameDecoder, LIMITS, MAX_HELLO_PAYLOAD_BYTES, MAX_PAYLOAD_BYTES, MessageType, PROTOCOL_VERSION, ProtocolError, REQUEST_METHODS,
  checkHello, encodeFrame, type ClientMessage, type Message,
} from '../../src/protocol/index.js';
import { frameOf } from '../helpers/peer.js';

/** What the connection does before its bytes: nothing, or a valid Hello (and for a session a SessionStart). */
export type Preamble = 'none' | 'control' | 'session';
/** How it ends: half-close (FIN), destroy, or wait for the daemon to close it (only when the bytes break the protocol). */
export type Ending = 'end' | 'destroy' | 'wait';

export interface Attack {
  /** Which family made it (figures, failure reports). */
  family: string;
  preamble: Preamble;
  /** Written one chunk at a time, after the preamble. */
  chunks: Buffer[];
  ending: Ending;
  /** The bytes break the protocol (the decoder throws on them): the daemon must close by itself. */
  breaks: boolean;
  /**
   * Before authentication, what the daemon answers: the one Refused message, or null for a close
   * without one. Undefined when not predicted (after a handshake, or when the peer destroys).
   */
  refused?: string | null;
}

/** The bytes of one attack, as one buffer. */
export const attackBytes = (a: Attack): Buffer => Buffer.concat(a.chunks);

/** Total bytes an attack writes after its preamble. */
export const attackSize = (a: Attack): number => a.chunks.reduce((n, c) => n + c.length, 0);

// ---------------------------------------------------------------- valid messages

const hex = (n: number): fc.Arbitrary<string> => fc.stringMatching(new RegExp(`^[0-9a-f]{${n}}$`));
/** Strings of at most 40 code points: at most 160 UTF-8 bytes, within every name bound. */
const text = fc.string({ unit: 'binary', maxLength: 40 });
const tUs = fc.integer({ min: 0, max: LIMITS.maxTUs });
const pid = fc.integer({ min: 1, max: LIMITS.maxPid });
const cells = fc.integer({ min: 1, max: LIMITS.maxCells });
/** Keys that have bitten JavaScript parsers before. */
const nastyKey = fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', '', 'type');

const hello = fc.record({
  type: fc.constant('Hello' as const), protocolVersion: fc.constant(PROTOCOL_VERSION), token: hex(64),
  role: fc.constantFrom('session' as const, 'control' as const), clientVersion: text, pid,
});
const sessionStart = fc.record(
  {
    type: fc.constant('SessionStart' as const), sessionId: hex(12), resume: fc.boolean(),
    startedAtMs: fc.integer({ min: 0, max: LIMITS.maxUnixMs }), shell: text, shellPid: pid, clientPid: pid, tty: text, cwd: text,
    term: text, cols: cells, rows: cells, hostname: text, nonce: hex(16), integration: text,
  },
  { requiredKeys: ['type', 'sessionId', 'resume', 'startedAtMs', 'shell', 'shellPid', 'clientPid', 'tty', 'cwd', 'term', 'cols', 'rows', 'hostname'] },
);
const ioData = fc.record({ type: fc.constant('IoData' as const), dir: fc.constantFrom(0 as const, 1 as const), tUs, data: fc.uint8Array({ maxLength: 2048 }) });
const resize = fc.record({ type: fc.constant('Resize' as const), tUs, cols: cells, rows: cells });
const gap = fc.record({ type: fc.constant('Gap' as const), tUs, lostBytes: fc.maxSafeNat(), reason: text });
const sessionEnd = fc.record({
  type: fc.constant('SessionEnd' as const), tUs,
  exitCode: fc.option(fc.integer({ min: 0, max: LIMITS.maxExitCode })), signal: fc.option(fc.integer({ min: 1, max: LIMITS.maxSignal })),
});
/** Params values: JSON-like, small, with the nasty keys among the ordinary ones. */
const paramValue = fc.letrec((tie) => ({
  leaf: fc.oneof(fc.constant(null), fc.boolean(), fc.integer(), fc.double(), text, fc.uint8Array({ maxLength: 64 })),
  node: fc.oneof({ depthSize: 'small', maxDepth: 4 }, tie('leaf'), fc.array(tie('node'), { maxLength: 4 }), fc.dictionary(fc.oneof(text, nastyKey), tie('node'), { maxKeys: 4 })),
})).node;
/** Every method (with plausible and implausible params), and names that are not methods. */
const request = fc.record({
  type: fc.constant('Request' as const), id: fc.maxSafeNat(),
  method: fc.oneof(fc.constantFrom(...REQUEST_METHODS), fc.constantFrom('bogus', '__proto__', 'constructor', 'toString', ''), text),
  params: fc.dictionary(fc.oneof(fc.constantFrom('scope', 'session', 'recent', 'question', 'dryRun', 'path', 'value'), nastyKey, text), paramValue, { maxKeys: 5 }),
});

/** Any valid message a client sends (valid on its own: not necessarily right for the connection's phase). */
export const clientMessage: fc.Arbitrary<ClientMessage> = fc.oneof(hello, sessionStart, ioData, resize, gap, sessionEnd, request);

// ---------------------------------------------------------------- raw payload building

/** A MessagePack map from already-encoded values (so a value can be any bytes, even ones msgpackr would not write). */
function packMap(entries: ReadonlyArray<readonly [string, Buffer]>): Buffer {
  const n = entries.length;
  const head = n < 16 ? Buffer.from([0x80 | n]) : Buffer.from([0xde, n >> 8, n & 0xff]);
  return Buffer.concat([head, ...entries.flatMap(([k, v]) => [pack(k), v])]);
}

/** `depth` nested one-element arrays around nil: recursion depth for a naive decoder. */
const nested = (depth: number): Buffer => Buffer.concat([Buffer.alloc(depth, 0x91), Buffer.from([0xc0])]);

/** Values of the wrong type (or out of range) for any field, pre-encoded. */
const badValue: fc.Arbitrary<Buffer> = fc.oneof(
  fc.constantFrom(-1, -0.5, 0, 1.5, 2 ** 31, 2 ** 32, 2 ** 53, 2 ** 64, Number.NaN, Infinity, -Infinity, LIMITS.maxTUs + 1, LIMITS.maxCells + 1, 256).map((n) => pack(n)),
  fc.oneof(fc.boolean(), fc.constant(null), text, fc.array(fc.integer(), { maxLength: 3 }), fc.uint8Array({ maxLength: 8 })).map((v) => pack(v)),
  fc.integer({ min: 257, max: 70_000 }).map((n) => pack('é'.repeat(n))), // over every string bound, in bytes not chars
  fc.integer({ min: 1, max: 100_000 }).map(nested), // deep nesting: over LIMITS.maxNesting, or not
  fc.constant(Buffer.from([0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])), // u64 2^64-1: not a JS number
  fc.constantFrom(Buffer.from([0xd4, 0x65, 0x00]), Buffer.from([0xc1]), Buffer.from([0xd6, 0xff, 0, 0, 0, 1])), // extensions, a never-used byte
);

/** One mutation of a valid message's payload: a field dropped, replaced by a bad value, or added; or a payload that is not a map. */
function mutatedPayload(msg: ClientMessage): fc.Arbitrary<Buffer> {
  const { type: _type, ...fields } = msg as Message & Record<string, unknown>;
  const entries = Object.entries(fields).map(([k, v]) => [k, pack(v)] as const);
  const keys = entries.map(([k]) => k);
  return fc.oneof(
    fc.constantFrom(...keys).map((drop) => packMap(entries.filter(([k]) => k !== drop))),
    fc.tuple(fc.constantFrom(...keys), badValue).map(([k, v]) => packMap(entries.map(([ek, ev]) => [ek, ek === k ? v : ev] as const))),
    fc.tuple(fc.oneof(nastyKey, text), badValue).map(([k, v]) => packMap([...entries, [k, v]])),
    fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.uint8Array({ maxLength: 64 })).map((v) => pack(v)), // not a map at all
  );
}

/**
 * Payloads built to be expensive to decode, about `size` bytes: the shapes that blocked omnishd for
 * seconds before src/protocol/plain.ts (per value: msgpackr Error extensions, empty bins and maps,
 * timestamps, map entries), and a deep nest.
 */
export function expensivePayload(shape: 'errors' | 'bins' | 'maps' | 'dates' | 'keys' | 'deep', size: number): Buffer {
  if (shape === 'deep') return nested(size);
  // One array32 (or, for 'keys', map32) of `unit`s, filled natively: an 8 MiB case must not cost the fuzzer a second.
  const unit = Buffer.from({ errors: [0xd4, 0x65, 0x00, 0x92, 0xa0, 0xa0], bins: [0xc4, 0x00], maps: [0x80], dates: [0xd6, 0xff, 1, 2, 3, 4], keys: [0xa1, 0x6b, 0xc0] }[shape]);
  const n = Math.floor((size - 5) / unit.length);
  const b = Buffer.alloc(5 + n * unit.length);
  b[0] = shape === 'keys' ? 0xdf : 0xdd;
  b.writeUInt32BE(n, 1);
  b.fill(unit, 5);
  return b;
}

// ---------------------------------------------------------------- families

/** Attack bytes before they are chunked and judged. */
interface Draft {
  family: string;
  preamble: Preamble;
  bytes: Buffer;
}

const preamble = fc.constantFrom<Preamble>('none', 'control', 'session');
const authed = fc.constantFrom<Preamble>('control', 'session');
const clientCode = fc.constantFrom(...Object.values(MessageType).filter((c) => c < 0x80));

const families: Record<string, fc.Arbitrary<Draft>> = {
  'random bytes': fc.record({
    preamble,
    bytes: fc.tuple(fc.boolean(), fc.uint8Array({ minLength: 1, maxLength: 4096 })).map(([om, b]) => Buffer.concat([om ? Buffer.from('OM') : Buffer.alloc(0), b])),
  }).map((d) => ({ family: 'random bytes', ...d })),

  'bad magic': fc.record({
    preamble,
    bytes: fc.tuple(fc.integer({ min: 0, max: 0xffff }).filter((m) => m !== 0x4f4d), clientMessage).map(([magic, msg]) => {
      const f = encodeFrame(msg);
      f.writeUInt16BE(magic, 0);
      return f;
    }),
  }).map((d) => ({ family: 'bad magic', ...d })),

  // Header lengths over the whole u32 range (boundaries weighted in), with at most 4 KiB of the payload behind them.
  'header length': fc.record({
    preamble,
    bytes: fc.tuple(
      fc.oneof(
        fc.integer({ min: 0, max: 2 ** 32 - 1 }),
        fc.constantFrom(0, 1, MAX_HELLO_PAYLOAD_BYTES - 1, MAX_HELLO_PAYLOAD_BYTES, MAX_HELLO_PAYLOAD_BYTES + 1, MAX_PAYLOAD_BYTES - 1, MAX_PAYLOAD_BYTES, MAX_PAYLOAD_BYTES + 1, 2 ** 31, 2 ** 32 - 1),
      ),
      fc.integer({ min: 0, max: 255 }),
      fc.uint8Array({ maxLength: 4096 }),
    ).map(([length, code, body]) => frameOf(code, body.subarray(0, length), length)),
  }).map((d) => ({ family: 'header length', ...d })),

  truncated: fc.record({
    preamble,
    bytes: fc.tuple(fc.array(clientMessage, { minLength: 1, maxLength: 3 }), fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true })).map(([msgs, at]) => {
      const all = Buffer.concat(msgs.map((m) => encodeFrame(m)));
      return all.subarray(0, Math.floor(all.length * at));
    }),
  }).map((d) => ({ family: 'truncated', ...d })),

  'invalid payload': fc.record({
    preamble,
    bytes: fc.tuple(clientMessage, fc.option(clientCode, { freq: 4 })).chain(([msg, code]) =>
      mutatedPayload(msg).map((payload) => frameOf(code ?? MessageType[msg.type], payload)),
    ),
  }).map((d) => ({ family: 'invalid payload', ...d })),

  'wrong version': fc.tuple(
    hello,
    fc.oneof(fc.integer({ min: 0, max: 2 ** 32 - 1 }).filter((v) => v !== PROTOCOL_VERSION), fc.constantFrom(-1, 1.5, 2 ** 32, 2 ** 53)),
    fc.boolean(),
  ).map(([h, version, broken]) => {
    const { type: _type, ...fields } = h;
    // Another version may have another shape: with `broken`, a field of ours is missing.
    const payload = { ...fields, protocolVersion: version, ...(broken ? { role: undefined, pid: 'x' } : {}) };
    return { family: 'wrong version', preamble: 'none' as const, bytes: frameOf(MessageType.Hello, pack(payload)) };
  }),

  'bad token': fc.tuple(hello, fc.oneof(hex(64), fc.constant(''), text)).map(([h, token]) => ({
    family: 'bad token', preamble: 'none' as const, bytes: encodeFrame({ ...h, token }),
  })),

  'small-frame flood': fc.record({
    preamble,
    msg: fc.oneof(ioData.map((m) => ({ ...m, data: m.data.subarray(0, 16) })), resize, gap, request.map((r) => ({ ...r, method: 'ping', params: {} })), hello),
    n: fc.integer({ min: 2, max: 5000 }),
  }).map(({ preamble: p, msg, n }) => {
    const one = encodeFrame(msg);
    return { family: 'small-frame flood', preamble: p, bytes: Buffer.concat(Array.from({ length: n }, () => one)) };
  }),

  'expensive payload': fc.record({
    preamble: authed,
    shape: fc.constantFrom('errors' as const, 'bins' as const, 'maps' as const, 'dates' as const, 'keys' as const, 'deep' as const),
    size: fc.oneof({ arbitrary: fc.integer({ min: 1024, max: 1 << 20 }), weight: 3 }, { arbitrary: fc.constant(MAX_PAYLOAD_BYTES - 16), weight: 1 }),
    code: fc.constantFrom(MessageType.Request, MessageType.IoData, MessageType.SessionStart),
  }).map(({ preamble: p, shape, size, code }) => ({ family: 'expensive payload', preamble: p, bytes: frameOf(code, expensivePayload(shape, size)) })),
};

/** The family names, in a fixed order (figures). */
export const FAMILIES = Object.keys(families);

// ---------------------------------------------------------------- judging

/** What the protocol's own decoder makes of `bytes` as the daemon reads them after `preamble`. */
function decode(p: Preamble, bytes: Buffer): { msgs: Message[]; error?: ProtocolError } {
  const dec = new FrameDecoder({ from: 'client', onUnknown: 'throw', firstFrameMaxPayloadBytes: p === 'none' ? MAX_HELLO_PAYLOAD_BYTES : undefined });
  try {
    return { msgs: dec.push(bytes) };
  } catch (err) {
    if (!(err instanceof ProtocolError)) throw err;
    return { msgs: [...err.decoded], error: err };
  }
}

/**
 * Before authentication the daemon's answer follows from the bytes: the first message if it is a
 * Hello (with a token that cannot be the daemon's), or the protocol error, is answered by a
 * Refused; any other first message closes the connection without one; too few bytes, at the
 * peer's end, likewise (a truncated Hello says nothing).
 */
function refusalBeforeAuth(msgs: Message[], error: ProtocolError | undefined): string | null {
  const first = msgs[0];
  if (first) return first.type === 'Hello' ? checkHello(first, 'not the token') : null;
  return error ? error.message : null;
}

/** Splits `bytes` at a few random places (a frame's header and payload may then arrive apart). */
const chunked = (bytes: Buffer): fc.Arbitrary<Buffer[]> =>
  fc.uniqueArray(fc.integer({ min: 1, max: Math.max(1, bytes.length - 1) }), { maxLength: bytes.length > 1 ? 6 : 0 }).map((cuts) => {
    const at = [0, ...cuts.sort((a, b) => a - b), bytes.length];
    return at.slice(1).map((end, i) => bytes.subarray(at[i], end)).filter((c) => c.length > 0);
  });

/** One hostile connection, of any family (weighted toward the families that need authentication to reach deep code). */
export const attack: fc.Arbitrary<Attack> = fc
  .oneof(...FAMILIES.map((f) => families[f]!))
  .chain((d) => fc.tuple(fc.constant(d), chunked(d.bytes), fc.constantFrom<Ending>('end', 'destroy', 'wait')))
  .map(([d, chunks, wanted]) => {
    const { msgs, error } = decode(d.preamble, d.bytes);
    const breaks = error !== undefined;
    const ending: Ending = wanted === 'wait' && !breaks ? 'end' : wanted;
    const refused = d.preamble === 'none' && ending !== 'destroy' ? refusalBeforeAuth(msgs, error) : undefined;
    return { family: d.family, preamble: d.preamble, chunks, ending, breaks, refused };
  });

/** One case of the fuzz: 1 to 4 hostile connections at once. */
export const fuzzCase = fc.array(attack, { minLength: 1, maxLength: 4 });

/** A short description of an attack for failure reports (the bytes themselves are in fast-check's counterexample). */
export function describeAttack(a: Attack): string {
  const head = attackBytes(a).subarray(0, 16).toString('hex');
  return `${a.family} (${a.preamble}, ${attackSize(a)} bytes in ${a.chunks.length} chunks, then ${a.ending}${a.breaks ? ', breaks the protocol' : ''}; starts ${head})`;
}
