/**
 * Hand-written validators for every payload. Each one reads the known fields of a decoded map and
 * builds a fresh object in a fixed key order (which makes encoding deterministic and drops unknown
 * extra keys), or throws ProtocolError naming the field: `IoData.tUs: expected a non-negative number`.
 */
import { ProtocolError } from './errors.js';
import { PROTOCOL_VERSION, type MessageName, type PayloadOf, type Role } from './messages.js';

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

  /** A finite number >= 0 (times in µs/ms may be fractional). */
  num(field: string): number {
    const v = this.p[field];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) this.fail(field, 'a non-negative number');
    return v;
  }

  /** An integer in 0…2^53-1 (counts, pids, sizes, ids). */
  uint(field: string): number {
    const v = this.p[field];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) this.fail(field, 'a non-negative integer');
    return v;
  }

  /** A non-negative integer or null. */
  uintOrNull(field: string): number | null {
    return this.p[field] === null ? null : this.uint(field);
  }

  str(field: string): string {
    const v = this.p[field];
    if (typeof v !== 'string') this.fail(field, 'a string');
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

  optionalStr(field: string): string | undefined {
    return this.p[field] === undefined ? undefined : this.str(field);
  }

  raw(field: string): unknown {
    return this.p[field];
  }
}

type Validators = { [N in MessageName]: (f: Fields) => PayloadOf<N> };

const VALIDATORS: Validators = {
  Hello: (f) => ({
    protocolVersion: f.uint('protocolVersion'),
    token: f.str('token'),
    role: f.oneOf('role', ROLES),
    clientVersion: f.str('clientVersion'),
    pid: f.uint('pid'),
  }),
  SessionStart: (f) => ({
    sessionId: f.sessionId('sessionId'),
    resume: f.bool('resume'),
    startedAtMs: f.num('startedAtMs'),
    shell: f.str('shell'),
    shellPid: f.uint('shellPid'),
    clientPid: f.uint('clientPid'),
    tty: f.str('tty'),
    cwd: f.str('cwd'),
    term: f.str('term'),
    cols: f.uint('cols'),
    rows: f.uint('rows'),
    hostname: f.str('hostname'),
    nonce: f.optionalStr('nonce'),
    integration: f.optionalStr('integration'),
  }),
  IoData: (f) => ({ dir: f.oneOf('dir', [0, 1] as const), tUs: f.num('tUs'), data: f.bytes('data') }),
  Resize: (f) => ({ tUs: f.num('tUs'), cols: f.uint('cols'), rows: f.uint('rows') }),
  Gap: (f) => ({ tUs: f.num('tUs'), lostBytes: f.uint('lostBytes'), reason: f.str('reason') }),
  SessionEnd: (f) => ({ tUs: f.num('tUs'), exitCode: f.uintOrNull('exitCode'), signal: f.uintOrNull('signal') }),
  Request: (f) => ({ id: f.uint('id'), method: f.str('method'), params: f.map('params') }),
  Welcome: (f) => ({
    protocolVersion: f.uint('protocolVersion'),
    daemonVersion: f.str('daemonVersion'),
    daemonPid: f.uint('daemonPid'),
  }),
  Response: (f) => {
    const out: PayloadOf<'Response'> = { id: f.uint('id'), ok: f.bool('ok') };
    const result = f.raw('result');
    if (result !== undefined) out.result = result;
    const error = f.optionalStr('error');
    if (error !== undefined) out.error = error;
    return out;
  },
  Event: (f) => ({ sessionId: f.sessionId('sessionId', true), kind: f.str('kind'), data: f.map('data') }),
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
