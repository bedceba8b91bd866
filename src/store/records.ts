/**
 * The records omnish keeps in a session's events.jsonl (docs/store-format.md "events.jsonl"):
 * command records (the daemon's command tracker, src/daemon/commands.ts), event records (its event
 * detector, src/daemon/events.ts) and explanation records (auto-explanations, src/daemon/explain.ts).
 * Their shapes are defined here, once; the daemon writes them, `omnish commands`/`show`/`sessions`
 * and the LLM context builder read them back through the readers below.
 */
import { readEvents } from './events.js';

/** One command, as stored in events.jsonl. */
export interface CommandRecord {
  type: 'command';
  /** Number of the command in its session: 1, 2, … (continues across daemon restarts). */
  seq: number;
  /** The command line as the shell reported it (OSC 633 E), or null if it did not. */
  command: string | null;
  /** Working directory when the command started (last OSC 633 P before it), or null if unknown. */
  cwd: string | null;
  /** When its output started (the C mark arrived): µs since session start. */
  startedAtUs: number;
  /** When it finished (the D mark arrived, or the session ended): µs since session start. */
  endedAtUs: number;
  /** Exit status from the D mark; null if none was reported or the session ended first. */
  exitCode: number | null;
  /**
   * Offset of the command's first output byte in the session's output byte stream (the
   * concatenation of all output record payloads of stream.bin), bytes: just after the C mark.
   */
  outputStart: number;
  /** Offset in the same output byte stream just after its last output byte (where the D mark begins), bytes. */
  outputEnd: number;
  /** True if the command switched to the alternate screen (a full-screen program such as vim). */
  altScreen: boolean;
  /**
   * Bytes of its output that retention cut out of the stream (src/store/trim.ts); absent when none
   * were. [outputStart, outputEnd) then holds only what is left.
   */
  outputTrimmed?: number;
}

/** What an event says about a command. */
export type EventKind = 'nonzero-exit' | 'output-pattern' | 'rule';

/** One event, as stored in events.jsonl (after the command record it is about). */
export interface EventRecord {
  type: 'event';
  kind: EventKind;
  /** `seq` of the command record the event is about. */
  seq: number;
  /** Kind 'rule': the rule's name. */
  name?: string;
  /** The command's exit status, when it reported one. */
  exitCode?: number;
  /**
   * Kind 'output-pattern': the phrase of `output_patterns` found, or the entry of a list in
   * `[llm.auto_trigger] on_stderr_patterns` that matched; kind 'rule': the rule's pattern.
   */
  pattern?: string;
  /** The output line that matched, colours removed, trimmed, at most 200 characters (MAX_MATCH_CHARS). */
  match?: string;
  /** When the command finished: µs since session start. */
  tUs: number;
}

/** An auto-explanation of a failed command, as stored in events.jsonl (after the event that caused it). */
export interface ExplanationRecord {
  type: 'explanation';
  /** `seq` of the command record it explains. */
  seq: number;
  /** The question sent to the LLM (it names the command by number, never by its text). */
  question: string;
  /** Name of the backend that answered: its `[llm.<name>]` table, or a default's (`anthropic`, `openai`, `local`). */
  backend: string;
  /** Model that answered, as the backend reported it. */
  model: string;
  /** The answer, as the LLM wrote it (untrusted: sanitize before showing it on a terminal). */
  answer: string;
}

/** Any record omnish writes to events.jsonl. */
export type SessionRecord = CommandRecord | EventRecord | ExplanationRecord;

/** True for a command record with every field a reader relies on (numbers for seq, times and offsets). */
function isCommandRecord(e: Record<string, unknown>): boolean {
  const num = (k: string) => typeof e[k] === 'number';
  return e.type === 'command' && num('seq') && num('startedAtUs') && num('endedAtUs') && num('outputStart') && num('outputEnd');
}

/**
 * The command records of the session in `dir`, oldest first. Lines of other types are skipped; so
 * is a record missing a field a reader needs (a newer or broken writer).
 * @throws StoreError when events.jsonl cannot be read or is corrupt
 */
export function readCommandRecords(dir: string): CommandRecord[] {
  return readEvents(dir).filter(isCommandRecord) as unknown as CommandRecord[];
}

/** Highest `seq` of the command records among `events` (0 if none): where a resumed session continues. */
export function lastCommandSeq(events: readonly Record<string, unknown>[]): number {
  let last = 0;
  for (const e of events) {
    if (e.type === 'command' && typeof e.seq === 'number' && e.seq > last) last = e.seq;
  }
  return last;
}
