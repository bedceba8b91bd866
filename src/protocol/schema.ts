/**
 * Hand-written validators for every payload. Each one reads the known fields of a decoded map and
 * builds a fresh object in a fixed key order (which makes encoding deterministic and drops unknown
 * extra keys), or throws ProtocolError naming the field and its bound (LIMITS in messages.ts):
 * `SessionEnd.exitCode: expected an integer in 0…255 or nil, got 99999`.
 */
import { ProtocolError } from './errors.js';
import { LIMITS, PROTOCOL_VERSION, type MessageName, type PayloadOf, type Role } from './messages.js';

const HEX12 = /^[0-9a-f]{12}$/;
const ROLES: readonly Role[] = ['session', 'control'];

/** Short description of a bad value for error messages (never echoes long strings or tokens). */
function describe(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'nothing';
  if (typeof v === 'number') return String(v);
  if (typeof v === 'boolean') return String(v);
  if (typeof v === 'string') return v.length <= 16 ? JSON.stringify(v) : `a string of ${v.length} chars`;
  if (Array.isArray(v)) return 'an array';
  if (v instanceof Uint8Array) return 'binary data';
  return `a ${typeof v}`;
}

/** True for a map decoded from MessagePack (not an array, Buffer, Date, ...). */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Reads typed fields of one payload map; every failure names `Message.field`. */
class Fields {
  constructor(
    private readonly name: MessageName,
    private readonly p: Record<string, unknown>,
  ) {}

  private fail(field: string, expected: string): never {
    throw new ProtocolError('INVALID', `${this.name}.${field}: expected ${expected}, got ${describe(this.p[field])}`);
  }

  /** An integer in min…max; `unit` (e.g. 'µs') goes into the error message. */
  int(field: string, min: number, max: number, unit = ''): number {
    const v = this.p[field];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      this.fail(field, `an integer in ${min}…${max}${unit ? ` ${unit}` : ''}`);
    }
    return v;
  }

  /** An integer in min…max, or nil. */
  intOrNull(field: string, min: number, max: number): number | null {
    const v = this.p[field];
    if (v === null) return null;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) this.fail(field, `an integer in ${min}…${max} or nil`);
    return v;
  }

  /** A time in µs since session start: an integer in 0…LIMITS.maxTUs. */
  tUs(field: string): number {
    return this.int(field, 0, LIMITS.maxTUs, 'µs (100 years)');
  }

  /** A process id: 1…LIMITS.maxPid. */
  pid(field: string): number {
    return this.int(field, 1, LIMITS.maxPid);
  }

  /** An integer in 0…2^53-1 (counts, byte counts, ids). */
  uint(field: string): number {
    const v = this.p[field];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) this.fail(field, 'a non-negative integer');
    return v;
  }

  /** A string of at most `maxBytes` UTF-8 bytes (no cap when omitted: the frame's cap bounds it). */
  str(field: string, maxBytes = Infinity): string {
    const v = this.p[field];
    if (typeof v !== 'string') this.fail(field, 'a string');
    // A UTF-16 code unit is 1 to 3 UTF-8 bytes: count bytes only when the length cannot decide.
    if (v.length > maxBytes || (v.length * 3 > maxBytes && Buffer.byteLength(v, 'utf8') > maxBytes)) {
      this.fail(field, `a string of at most ${maxBytes} bytes`);
    }
    return v;
  }

  bool(field: string): boolean {
    const v = this.p[field];
    if (typeof v !== 'boolean') this.fail(field, 'a boolean');
    return v;
  }

  /** A session id: 12 lowercase hex characters (or "" when `allowEmpty`). */
  sessionId(field: string, allowEmpty = false): string {
    const v = this.p[field];
    if (typeof v !== 'string' || !(HEX12.test(v) || (allowEmpty && v === ''))) {
      this.fail(field, allowEmpty ? '12 lowercase hex characters or ""' : '12 lowercase hex characters');
    }
    return v;
  }

  oneOf<T extends string | number>(field: string, allowed: readonly T[]): T {
    const v = this.p[field];
    if (!allowed.includes(v as T)) this.fail(field, `one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`);
    return v as T;
  }

  /** Raw bytes; returned as a Buffer viewing the same memory (no copy). */
  bytes(field: string): Buffer {
    const v = this.p[field];
    if (!(v instanceof Uint8Array)) this.fail(field, 'binary data');
    return Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  }

  /** A string-keyed map. */
  map(field: string): Record<string, unknown> {
    const v = this.p[field];
    if (!isPlainObject(v)) this.fail(field, 'a map');
    return v;
  }

  /** An array of at most `maxItems` strings of at most `maxBytes` bytes each, or nothing. */
  optionalStrList(field: string, maxItems: number, maxBytes: number): string[] | undefined {
    const v = this.p[field];
    if (v === undefined) return undefined;
    const ok = Array.isArray(v) && v.length <= maxItems && v.every((s) => typeof s === 'string' && Buffer.byteLength(s, 'utf8') <= maxBytes);
    if (!ok) this.fail(field, `a list of at most ${maxItems} strings of at most ${maxBytes} bytes`);
    return [...(v as string[])];
  }

  optionalUint(field: string): number | undefined {
    return this.p[field] === undefined ? undefined : this.uint(field);
  }

  optionalStr(field: string, maxBytes = Infinity): string | undefined {
    return this.p[field] === undefined ? undefined : this.str(field, maxBytes);
  }

  raw(field: string): unknown {
    return this.p[field];
  }
}

type Validators = { [N in MessageName]: (f: Fields) => PayloadOf<N> };

const { maxUnixMs, maxListItems, maxExitCode, maxSignal, maxCells, maxPathBytes: PATH, maxNameBytes: NAME, maxTextBytes: TEXT } = LIMITS;
/** protocolVersion is a frozen field: wide enough for any future version. */
const MAX_VERSION = 2 ** 32 - 1;

const VALIDATORS: Validators = {
  Hello: (f) => ({
    protocolVersion: f.int('protocolVersion', 0, MAX_VERSION),
    token: f.str('token', NAME),
    role: f.oneOf('role', ROLES),
    clientVersion: f.str('clientVersion', NAME),
    pid: f.pid('pid'),
  }),
  SessionStart: (f) => ({
    sessionId: f.sessionId('sessionId'),
    resume: f.bool('resume'),
    startedAtMs: f.int('startedAtMs', 0, maxUnixMs, 'ms (Unix time)'),
    shell: f.str('shell', PATH),
    shellPid: f.pid('shellPid'),
    clientPid: f.pid('clientPid'),
    tty: f.str('tty', PATH),
    cwd: f.str('cwd', PATH),
    term: f.str('term', NAME),
    cols: f.int('cols', 1, maxCells),
    rows: f.int('rows', 1, maxCells),
    hostname: f.str('hostname', NAME),
    nonce: f.optionalStr('nonce', NAME),
    integration: f.optionalStr('integration', TEXT),
    relay: f.optionalStr('relay', TEXT),
    inputRecording: f.optionalStr('inputRecording', TEXT),
    sentBytes: f.optionalUint('sentBytes'),
  }),
  IoData: (f) => ({ dir: f.oneOf('dir', [0, 1] as const), tUs: f.tUs('tUs'), data: f.bytes('data') }),
  Resize: (f) => ({ tUs: f.tUs('tUs'), cols: f.int('cols', 1, maxCells), rows: f.int('rows', 1, maxCells) }),
  Gap: (f) => ({ tUs: f.tUs('tUs'), lostBytes: f.uint('lostBytes'), reason: f.str('reason', TEXT) }),
  SessionEnd: (f) => ({
    tUs: f.tUs('tUs'),
    exitCode: f.intOrNull('exitCode', 0, maxExitCode),
    signal: f.intOrNull('signal', 1, maxSignal),
  }),
  Request: (f) => ({ id: f.uint('id'), method: f.str('method', NAME), params: f.map('params') }),
  // Daemon → client: numbers bounded alike; free text (Response.error, Refused.message) only by the frame's cap.
  Welcome: (f) => {
    const out: PayloadOf<'Welcome'> = {
      protocolVersion: f.int('protocolVersion', 0, MAX_VERSION),
      daemonVersion: f.str('daemonVersion', NAME),
      daemonPid: f.pid('daemonPid'),
    };
    // Absent stays absent (an omnishd from before the field), so its Welcome encodes as it did.
    const methods = f.optionalStrList('methods', maxListItems, NAME);
    if (methods !== undefined) out.methods = methods;
    return out;
  },
  Response: (f) => {
    const out: PayloadOf<'Response'> = { id: f.uint('id'), ok: f.bool('ok') };
    const result = f.raw('result');
    if (result !== undefined) out.result = result;
    const error = f.optionalStr('error');
    if (error !== undefined) out.error = error;
    return out;
  },
  Event: (f) => ({ sessionId: f.sessionId('sessionId', true), kind: f.str('kind', NAME), data: f.map('data') }),
  Refused: (f) => ({ message: f.str('message') }),
};

/**
 * The readable version message, from the daemon's point of view when `name` is Hello (the peer is
 * an omnish) and from the client's when it is Welcome (the peer is an omnishd).
 * @param theirs - the peer's protocol version
 */
export function versionMismatchMessage(name: 'Hello' | 'Welcome', theirs: number, ours = PROTOCOL_VERSION): string {
  return name === 'Hello'
    ? `omnishd speaks protocol ${ours}, this omnish speaks ${theirs}`
    : `omnishd speaks protocol ${theirs}, this omnish speaks ${ours}`;
}

/**
 * Checks a decoded payload against the schema of message `name` and returns its fields.
 * A Hello or Welcome from a peer of another protocol version that fails validation is reported as
 * a version mismatch (code VERSION_MISMATCH), since its shape may legitimately differ.
 * @throws ProtocolError (INVALID or VERSION_MISMATCH)
 */
export function validatePayload<N extends MessageName>(name: N, payload: unknown): PayloadOf<N> {
  if (!isPlainObject(payload)) {
    throw new ProtocolError('INVALID', `${name}: expected a map as payload, got ${describe(payload)}`);
  }
  try {
    return VALIDATORS[name](new Fields(name, payload));
  } catch (err) {
    const v = payload.protocolVersion;
    if ((name === 'Hello' || name === 'Welcome') && typeof v === 'number' && v !== PROTOCOL_VERSION) {
      throw new ProtocolError('VERSION_MISMATCH', versionMismatchMessage(name, v), { cause: err });
    }
    throw err;
  }
}
