/**
 * Commands the model proposed (its suggest_command tool), the latest per session, in memory: what
 * `::fix` puts on the command line (the `suggestion` request). Nothing here runs anything. A
 * suggestion is cleaned when it is taken: one line, no control characters, bounded, so that every
 * reader gets a string that cannot act on a terminal or on a shell line editor (it is still
 * untrusted text: a reader sanitizes it before showing it).
 */

/** Longest suggested command kept, characters. */
export const MAX_SUGGESTION_CHARS = 1000;
/** How long a suggestion is offered, ms: `::fix` an hour later means something else. */
const KEEP_MS = 3_600_000;
/** Sessions remembered at most (the oldest suggestion is forgotten first). */
const MAX_SESSIONS = 1000;

// eslint-disable-next-line no-control-regex -- removing control characters is the point
const CONTROL = /[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029]/g;

/**
 * `raw` as a suggested command: its first non-blank line, trimmed, control characters, C1 controls
 * and bidi overrides removed, at most MAX_SUGGESTION_CHARS (whole code points); null when nothing is left.
 */
export function cleanSuggestion(raw: unknown): string | null {
  if (typeof raw !== 'string') return null;
  const line = raw.split(/\r\n|\r|\n/).map((l) => l.replace(CONTROL, '').trim()).find((l) => l !== '');
  if (line === undefined) return null;
  const chars = [...line];
  return chars.length > MAX_SUGGESTION_CHARS ? chars.slice(0, MAX_SUGGESTION_CHARS).join('') : line;
}

/** A command proposed in a session. */
export interface Suggestion {
  command: string;
  /** When it was proposed, ms since the epoch. */
  atMs: number;
}

export class Suggestions {
  readonly #bySession = new Map<string, Suggestion>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Keeps `command` (cleaned) as session `sessionId`'s latest; returns what was kept, or null. */
  set(sessionId: string, command: unknown): string | null {
    const clean = cleanSuggestion(command);
    if (clean === null) return null;
    this.#bySession.delete(sessionId);
    this.#bySession.set(sessionId, { command: clean, atMs: this.now() });
    if (this.#bySession.size > MAX_SESSIONS) this.#bySession.delete(this.#bySession.keys().next().value as string);
    return clean;
  }

  /** The session's latest suggestion, unless it is older than an hour. */
  get(sessionId: string): Suggestion | undefined {
    const s = this.#bySession.get(sessionId);
    if (s && this.now() - s.atMs > KEEP_MS) {
      this.#bySession.delete(sessionId);
      return undefined;
    }
    return s;
  }
}
