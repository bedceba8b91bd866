/**
 * The omnish wire protocol, between `omnish` (client) and `omnishd` (daemon). Specified in
 * docs/protocol.md; this file is the source of truth for codes and fields.
 *
 * Every message is one frame:
 *
 *    0        2                        6         7
 *    +--------+------------------------+---------+---------------------------------+
 *    |  "OM"  |  length (u32 BE)       |  type   |  payload (MessagePack, msgpackr) |
 *    | 4f 4d  |  payload bytes only    |  (u8)   |  one map, `length` bytes         |
 *    +--------+------------------------+---------+---------------------------------+
 *
 * - magic: the two bytes 0x4f 0x4d ("OM"); anything else is a protocol error.
 * - length: size of the payload in bytes, not counting the 7 header bytes; at most
 *   MAX_PAYLOAD_BYTES (MAX_HELLO_PAYLOAD_BYTES for the first frame a client sends, its Hello),
 *   checked before a byte of the payload is buffered.
 * - type: a code from MessageType. Client→daemon codes are 0x01…0x7f, daemon→client 0x81…0xff.
 * - payload: a MessagePack map of the message's fields (the `type` field below is the header byte,
 *   it is not repeated in the payload). Unknown extra keys are ignored, so adding an optional field
 *   is compatible; anything else is a protocol change. A client's payload is plain MessagePack of
 *   at most LIMITS.maxValues values nested at most LIMITS.maxNesting deep (plain.ts).
 *
 * Codes are never renumbered or reused; a retired type stays here as a comment.
 * Bump PROTOCOL_VERSION if this changes (codes, fields, meaning or units).
 *
 * Frozen across all versions, so mismatched peers can always tell each other why: the header, the
 * codes of Hello, Welcome and Refused, and their fields `protocolVersion`, `token` and `message`.
 */

/** Version spoken by this build. Hello and Welcome carry it; peers must match exactly. */
export const PROTOCOL_VERSION = 1;

/** Largest payload a frame may carry, in bytes (8 MiB). Larger length fields are a protocol error. */
export const MAX_PAYLOAD_BYTES = 8 * 1024 * 1024;

/**
 * Largest payload of the first frame of a connection on the daemon's side, in bytes (16 KiB). The
 * first frame must be a Hello (about 150 bytes), and until it is accepted the peer is nobody: a
 * larger length field is a protocol error before any of the payload is buffered, so connections
 * that never authenticate cannot make the daemon hold more than this each.
 */
export const MAX_HELLO_PAYLOAD_BYTES = 16 * 1024;

/**
 * Bounds of the values in payloads, enforced on decode (and encode) by schema.ts; a value outside
 * them is a protocol error naming the field and the bound. Strings are measured in UTF-8 bytes.
 * Tightening one is a protocol change; loosening one is not, as long as the store can hold it.
 */
export const LIMITS = {
  /** Largest `tUs`: µs since session start, 100 years. (The store keeps u64 µs; 2^64-1 was once accepted and lost.) */
  maxTUs: 100 * 365.25 * 24 * 3600 * 1_000_000,
  /** Largest `startedAtMs`, Unix ms: 9999-12-31T23:59:59.999Z, the last instant with a 4-digit ISO year (session directories are named by it). */
  maxUnixMs: 253_402_300_799_999,
  /** Largest process id: pid_t is a signed 32-bit integer (and 0 is no process). */
  maxPid: 2 ** 31 - 1,
  /** Largest exit code: wait(2) keeps 8 bits. */
  maxExitCode: 255,
  /** Largest signal number: a shell reports death by signal n as exit status 128 + n, at most 255. */
  maxSignal: 127,
  /** Largest terminal width or height, in cells: struct winsize holds unsigned shorts. */
  maxCells: 65_535,
  /** Longest path (shell, tty, cwd), in bytes: PATH_MAX. */
  maxPathBytes: 4096,
  /** Longest name or version (token, term, hostname, method, kind, ...), in bytes. */
  maxNameBytes: 256,
  /** Longest short text for humans (Gap.reason, SessionStart.integration), in bytes. */
  maxTextBytes: 1024,
  /** Most entries of a list of names (Welcome.methods). */
  maxListItems: 256,
  /**
   * Most MessagePack values in one payload a client sends, each nil, number, string, binary, array,
   * map, map key and timestamp counting one (plain.ts: decoding costs per value, not per byte).
   */
  maxValues: 10_000,
  /** Deepest nesting of arrays and maps in a payload a client sends; the payload's own map is level 1. */
  maxNesting: 32,
} as const;

/** The two magic bytes that open every frame, "OM" (0x4f 0x4d), as a big-endian u16. */
export const FRAME_MAGIC = 0x4f4d;

/** Size of the frame header in bytes: magic (2) + length (4) + type (1). */
export const HEADER_BYTES = 7;

/** Message type codes, by name. Never renumber; bump PROTOCOL_VERSION on any change. */
export const MessageType = {
  // client → daemon (0x01…0x7f)
  Hello: 0x01,
  SessionStart: 0x02,
  IoData: 0x03,
  Resize: 0x04,
  Gap: 0x05,
  SessionEnd: 0x06,
  Request: 0x07,
  // daemon → client (0x81…0xff)
  Welcome: 0x81,
  Response: 0x82,
  Event: 0x83,
  Refused: 0x84,
} as const;

/** Name of a message type, e.g. 'IoData'. */
export type MessageName = keyof typeof MessageType;
/** Numeric code of a message type, e.g. 0x03. */
export type MessageCode = (typeof MessageType)[MessageName];

const NAMES = new Map<number, MessageName>(
  (Object.keys(MessageType) as MessageName[]).map((name) => [MessageType[name], name]),
);

/** Name of a type code, or undefined for a code this build does not know. */
export function messageName(code: number): MessageName | undefined {
  return NAMES.get(code);
}

/** True for codes a client sends (0x01…0x7f); false for daemon→client codes (0x80…0xff). */
export function isClientCode(code: number): boolean {
  return code < 0x80;
}

/** A session's id: 12 lowercase hex characters (48 random bits). A unique prefix names it in commands. */
export type SessionId = string;

/** What a connection is for: streaming one terminal session, or request/response commands. */
export type Role = 'session' | 'control';

/** Direction of IoData bytes. */
export const IoDir = {
  /** Bytes the shell's pty produced (what the terminal shows). */
  Output: 0,
  /** Bytes the user typed (sent only when input recording is on, and never keys typed with echo off). */
  Input: 1,
} as const;
export type IoDir = (typeof IoDir)[keyof typeof IoDir];

/**
 * Reason of the Gap, with lostBytes 0, that marks where a client recording input left keys out
 * because the pty did not echo them (a password prompt, a full-screen program): one per stretch,
 * and on purpose without their number.
 */
export const INPUT_HIDDEN_REASON = 'input hidden (echo off)';

// ---------------------------------------------------------------- client → daemon

/** 0x01 — first frame on every connection. Answered by Welcome, or Refused and close. */
export interface Hello {
  type: 'Hello';
  /** PROTOCOL_VERSION of the sender. Frozen field. */
  protocolVersion: number;
  /** Auth token: hex string read from `<runtime dir>/token` (64 hex chars). Frozen field. */
  token: string;
  /** What the connection is for. */
  role: Role;
  /** The client's package version, e.g. "0.1.0" (for logs only). */
  clientVersion: string;
  /** Process id of the client (omnish). */
  pid: number;
}

/** 0x02 — session identity; the first frame after Welcome on a 'session' connection. */
export interface SessionStart {
  type: 'SessionStart';
  /** The session's id (12 hex chars), chosen by the client. */
  sessionId: SessionId;
  /** True when re-registering an existing session after a daemon restart or reconnect. */
  resume: boolean;
  /** When the session started: Unix time in ms. All `tUs` fields count from this instant. */
  startedAtMs: number;
  /** Path of the wrapped shell, e.g. "/bin/bash". */
  shell: string;
  /** Process id of the wrapped shell. */
  shellPid: number;
  /** Process id of the client (omnish). */
  clientPid: number;
  /** Path of the user's terminal device, e.g. "/dev/pts/3" ("" if unknown). */
  tty: string;
  /** Working directory of the shell at start (absolute path). */
  cwd: string;
  /** Value of $TERM, e.g. "xterm-256color" ("" if unset). */
  term: string;
  /** Terminal width in columns (character cells). */
  cols: number;
  /** Terminal height in rows (character cells). */
  rows: number;
  /** Host name of the machine the client runs on. */
  hostname: string;
  /**
   * Per-session secret carried by the shell integration's marks (OSC 133/633 `omnish=<nonce>`);
   * marks without it are ignored. Absent when shell integration is off.
   */
  nonce?: string;
  /** Shell integration state: the shell name ('bash', 'zsh', 'fish') or `off: <reason>`. */
  integration?: string;
  /** Which relay the client runs: `native`, or `js (why)`. Optional: added after protocol 1, no bump. */
  relay?: string;
  /**
   * Input recording for `omnish status`: `on`, `off`, or `off (why)` (asked for, not possible).
   * Optional: added after protocol 1, no bump; absent means off (no client before it recorded input).
   */
  inputRecording?: string;
  /**
   * On a resume: bytes this client handed to the earlier connections of the session, counted as
   * the store counts them (output and input payload bytes, plus the `lostBytes` of Gaps). The
   * daemon compares it with what the session's stream holds and records the difference, the data
   * in flight when the connection was lost, as a gap (0 when nothing was lost): an outage is never
   * silent. Optional: added after protocol 1, no bump; without it no such gap is written.
   */
  sentBytes?: number;
}

/** 0x03 — bytes of the session, in order. Decoded `data` is a Buffer. */
export interface IoData {
  type: 'IoData';
  /** Direction: 0 = output from the shell, 1 = input typed by the user (see IoDir). */
  dir: IoDir;
  /** When the client read the bytes: µs since session start (SessionStart.startedAtMs). */
  tUs: number;
  /** The raw bytes, untouched. */
  data: Uint8Array;
}

/** 0x04 — the terminal was resized. */
export interface Resize {
  type: 'Resize';
  /** When: µs since session start. */
  tUs: number;
  /** New width in columns. */
  cols: number;
  /** New height in rows. */
  rows: number;
}

/** 0x05 — data the client could not send (buffer cap reached, daemon away). Every drop is visible. */
export interface Gap {
  type: 'Gap';
  /** When the gap started: µs since session start. */
  tUs: number;
  /** Bytes lost (IoData payload bytes, both directions); 0 for the INPUT_HIDDEN_REASON marker. */
  lostBytes: number;
  /** Why, for humans: e.g. "buffer full", "daemon unreachable". */
  reason: string;
}

/** 0x06 — the session is over; the client closes the connection after sending it. */
export interface SessionEnd {
  type: 'SessionEnd';
  /** When the shell's output ended: µs since session start. */
  tUs: number;
  /** The shell's exit code (0…255), or null if it was killed by a signal. */
  exitCode: number | null;
  /** Number of the signal that killed the shell (e.g. 9), or null. */
  signal: number | null;
}

/** 0x07 — a command on a 'control' connection ('status', 'sessions', ...). Answered by one Response. */
export interface Request {
  type: 'Request';
  /** Chosen by the client, unique among its pending requests; echoed in the Response. */
  id: number;
  /** Method name, e.g. "status". */
  method: string;
  /** Method arguments (a map; {} when none). */
  params: Record<string, unknown>;
}

// ---------------------------------------------------------------- daemon → client

/** 0x81 — the daemon accepted Hello. */
export interface Welcome {
  type: 'Welcome';
  /** PROTOCOL_VERSION of the daemon. Frozen field. */
  protocolVersion: number;
  /** The daemon's package version, e.g. "0.1.0". */
  daemonVersion: string;
  /** Process id of the daemon. */
  daemonPid: number;
  /**
   * The control methods this daemon answers (Requests in requests.ts), so that a client can tell
   * an older daemon from a failing one before it asks. Optional, added without a version bump: an
   * omnishd from before it sends none, and a client then cannot know.
   */
  methods?: string[];
}

/** 0x82 — the answer to the Request with the same id. */
export interface Response {
  type: 'Response';
  /** The Request's id. */
  id: number;
  /** True on success (`result` set), false on failure (`error` set). */
  ok: boolean;
  /** Method-specific result when ok. */
  result?: unknown;
  /** One line for the user when not ok. */
  error?: string;
}

/** 0x83 — something the daemon pushes without being asked (e.g. an explanation is ready). */
export interface Event {
  type: 'Event';
  /** The session it is about (12 hex chars), or "" when it is about no session in particular. */
  sessionId: SessionId;
  /** Event kind, e.g. "explanation". */
  kind: string;
  /** Kind-specific fields. */
  data: Record<string, unknown>;
}

/** 0x84 — why the daemon is about to close this connection (version mismatch, bad token, ...). */
export interface Refused {
  type: 'Refused';
  /** One line for the user, e.g. "omnishd speaks protocol 1, this omnish speaks 2". Frozen field. */
  message: string;
}

/** Messages a client sends. */
export type ClientMessage = Hello | SessionStart | IoData | Resize | Gap | SessionEnd | Request;
/** Messages the daemon sends. */
export type DaemonMessage = Welcome | Response | Event | Refused;
/** Any message; `type` discriminates. */
export type Message = ClientMessage | DaemonMessage;
/** The message type with the given name, e.g. `MessageOf<'IoData'>`. */
export type MessageOf<N extends MessageName> = Extract<Message, { type: N }>;
/** The fields of a message without its `type` (what the payload map holds). */
export type PayloadOf<N extends MessageName> = Omit<MessageOf<N>, 'type'>;
