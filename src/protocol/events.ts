/**
 * The Event kinds, defined once: each kind with the fields of its `data`. The daemon builds Events
 * with `eventMessage(sessionId, kind, data)`, typed by `EventKinds`; a client reads them with
 * `readEvent(event)`, which checks the fields of the kinds it knows and returns a `DaemonEvent`
 * whose `data` narrows with its `kind`, or null for a kind it does not know (clients skip those:
 * a newer daemon may add kinds) or data that does not match (a broken peer).
 */
import type { Event, SessionId } from './messages.js';

/** What the event detector found about a finished command (pushed to the session's own client). */
export type DetectedEventData = {
  /** `seq` of the command the event is about. */
  seq: number;
  /** The command line, or null when the shell did not report it (untrusted text). */
  command: string | null;
  /** The command's exit status, when it reported one. */
  exitCode?: number;
  /** Kind 'rule': the rule's name. */
  name?: string;
  /** Kind 'output-pattern': the phrase or pattern found; kind 'rule': the rule's pattern. */
  pattern?: string;
  /** The output line that matched, colours removed, trimmed, at most 200 characters. */
  match?: string;
  /** When the command finished: µs since session start. */
  tUs: number;
};

/** An auto-explanation of a failed command. */
export type ExplanationEventData = {
  /** `seq` of the command explained. */
  seq: number;
  /** Its command line, or null when unknown (untrusted text). */
  command: string | null;
  /** The LLM's explanation (untrusted: sanitize before showing it). */
  text: string;
  /** Config name of the backend that answered, and its model. */
  backend: string;
  model: string;
  /**
   * A command the model proposed (its suggest_command tool), one line, control characters removed
   * by the daemon; absent when it proposed none. Untrusted all the same: sanitize before showing it.
   */
  suggestion?: string;
};

/** A piece of an `ask` answer, streamed on the control connection before the Response. */
export type AskChunkData = {
  /** The next characters of the answer (untrusted). */
  text: string;
};

/** One tool call made while an answer is prepared, streamed on the control connection like `ask-chunk`. */
export type AskToolData = {
  /** The tool's name (`search`, `get_command_output`, ...). */
  tool: string;
  /**
   * One short line the daemon wrote, e.g. `searched "ENOSPC" in 14 sessions` (it quotes the model's
   * arguments: untrusted, sanitize before showing it).
   */
  text: string;
};

/** Every Event kind: kind → data. */
export interface EventKinds {
  'nonzero-exit': DetectedEventData;
  'output-pattern': DetectedEventData;
  rule: DetectedEventData;
  explanation: ExplanationEventData;
  'ask-chunk': AskChunkData;
  'ask-tool': AskToolData;
}

/** An Event kind's name. */
export type EventKind = keyof EventKinds;
/** The data of kind `K`. */
export type EventData<K extends EventKind> = EventKinds[K];

/** An Event of a known kind, its data checked: `kind` narrows `data`. */
export type DaemonEvent = { [K in EventKind]: { sessionId: SessionId; kind: K; data: EventKinds[K] } }[EventKind];

/** The Event message for `kind` with `data` (daemon side). */
export function eventMessage<K extends EventKind>(sessionId: SessionId, kind: K, data: EventData<K>): Event {
  return { type: 'Event', sessionId, kind, data };
}

type Fields = Record<string, unknown>;
const isNum = (v: unknown): v is number => typeof v === 'number';
const isStr = (v: unknown): v is string => typeof v === 'string';
const isOptional = (v: unknown, is: (v: unknown) => boolean): boolean => v === undefined || is(v);
const isCommand = (v: unknown): v is string | null => v === null || isStr(v);

function detected(d: Fields): DetectedEventData | null {
  if (!isNum(d.seq) || !isNum(d.tUs) || !isCommand(d.command)) return null;
  if (!isOptional(d.exitCode, isNum) || !isOptional(d.name, isStr) || !isOptional(d.pattern, isStr) || !isOptional(d.match, isStr)) return null;
  return d as DetectedEventData;
}

/** Checks the data of each kind; null when a field has the wrong type. */
const READERS: { [K in EventKind]: (d: Fields) => EventKinds[K] | null } = {
  'nonzero-exit': detected,
  'output-pattern': detected,
  rule: detected,
  explanation: (d) => (isNum(d.seq) && isCommand(d.command) && isStr(d.text) && isStr(d.backend) && isStr(d.model) && isOptional(d.suggestion, isStr)
    ? (d as ExplanationEventData) : null),
  'ask-chunk': (d) => (isStr(d.text) ? { text: d.text } : null),
  'ask-tool': (d) => (isStr(d.tool) && isStr(d.text) ? { tool: d.tool, text: d.text } : null),
};

/**
 * Client side: the Event as a DaemonEvent of a known kind, or null for a kind this build does not
 * know or data whose fields have the wrong types.
 */
export function readEvent(event: Event): DaemonEvent | null {
  if (!Object.hasOwn(READERS, event.kind)) return null;
  const kind = event.kind as EventKind;
  const data = READERS[kind](event.data);
  return data === null ? null : ({ sessionId: event.sessionId, kind, data } as DaemonEvent);
}
