/**
 * The event detector: after each command, decides whether it failed (non-zero exit status, a
 * trouble phrase in its output, a user rule) and says so in event records. Record format:
 * docs/store-format.md; configuration: `[events]` in config/default.toml.
 */
import stripAnsi from 'strip-ansi';
import type { EventRule, EventsConfig } from '../config/config.js';
import type { EventKind, EventRecord } from '../store/index.js';
import type { FinishedCommand } from './commands.js';

/** Longest `match` kept, characters. */
export const MAX_MATCH_CHARS = 200;

/** Words that run the command after them (`sudo grep …` is grep). */
const PREFIX_COMMANDS = new Set(['sudo', 'doas', 'env', 'command', 'builtin', 'exec', 'time', 'nice', 'nohup', '!']);

function firstWord(segment: string): string | undefined {
  const words = segment.trim().split(/\s+/);
  let prefixed = false;
  for (const w of words) {
    if (/^[A-Za-z_]\w*=/.test(w) || (prefixed && w.startsWith('-'))) continue; // VAR=value, options of a prefix
    if (PREFIX_COMMANDS.has(w)) {
      prefixed = true;
      continue;
    }
    const bare = w.replace(/^\\/, '').replace(/^(['"])(.*)\1$/, '$2'); // \grep bypasses an alias
    return bare.slice(bare.lastIndexOf('/') + 1) || undefined;
  }
  return undefined;
}

/**
 * The commands whose status a command line's status may be: its first word, and the first word of
 * its last stage (`make 2>&1 | grep x` ends with grep's status). A heuristic: quotes are not parsed.
 */
export function commandNames(line: string): string[] {
  const segments = line.split(/\|\||&&|\|&|\||;|\n/);
  const names = [firstWord(segments[0] ?? ''), firstWord(segments[segments.length - 1] ?? '')];
  return names.filter((n): n is string => n !== undefined);
}

/** A regular expression source for a phrase: literal, whole words, any run of spaces for a space. */
function phraseSource(phrase: string): string {
  const body = phrase.trim().replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\s+/g, '\\s+');
  return `${/^\w/.test(phrase.trim()) ? '(?<!\\w)' : ''}${body}${/\w$/.test(phrase.trim()) ? '(?!\\w)' : ''}`;
}

/** The line of `text` around index `at`, trimmed and cut to MAX_MATCH_CHARS around the match. */
function lineAt(text: string, at: number): string {
  const start = Math.max(text.lastIndexOf('\n', at), text.lastIndexOf('\r', at)) + 1;
  const ends = [text.indexOf('\n', at), text.indexOf('\r', at)].filter((i) => i >= 0);
  const line = text.slice(start, ends.length > 0 ? Math.min(...ends) : text.length);
  // Control characters left after stripping ANSI must not reach a terminal that shows the match.
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  const clean = line.replace(/[\x00-\x08\x0b-\x1f\x7f]/g, '');
  const offset = clean.length - clean.trimStart().length;
  const trimmed = clean.trim();
  if (trimmed.length <= MAX_MATCH_CHARS) return trimmed;
  const from = Math.max(0, Math.min(at - start - offset - 40, trimmed.length - MAX_MATCH_CHARS));
  return trimmed.slice(from, from + MAX_MATCH_CHARS).trim();
}

/** Where the first output pattern is in a text: the pattern as configured, and the match's index. */
type OutputFinder = (text: string) => { pattern: string; at: number } | undefined;

/** Finds the first of `phrases` in a text: one regular expression, a group per phrase. */
function phraseFinder(phrases: readonly string[]): OutputFinder {
  if (phrases.length === 0) return () => undefined;
  const re = new RegExp(phrases.map((p) => `(${phraseSource(p)})`).join('|'), 'i');
  return (text) => {
    const found = re.exec(text);
    if (!found) return undefined;
    const index = found.slice(1).findIndex((g) => g !== undefined);
    return { pattern: phrases[index] ?? found[0], at: found.index };
  };
}

/**
 * Finds the earliest match of any of `sources` (regular expressions, case-insensitive, `^`/`$` per
 * line); at the same place the first listed wins, as with phrases. Compiled one by one: the user's
 * own groups and backreferences would not survive being joined into one expression.
 */
function regexFinder(sources: readonly string[]): OutputFinder {
  const compiled = sources.map((source) => ({ source, re: new RegExp(source, 'im') }));
  return (text) => {
    let best: { pattern: string; at: number } | undefined;
    for (const { source, re } of compiled) {
      const m = re.exec(text);
      if (m && (!best || m.index < best.at)) best = { pattern: source, at: m.index };
    }
    return best;
  };
}

interface CompiledRule {
  rule: EventRule;
  pattern: RegExp;
  command: RegExp | undefined;
}

/** Decides the events of finished commands. Compiles the configuration once. */
export class EventDetector {
  private readonly ignoreCodes: Set<number>;
  private readonly ignoreCommands: Set<string>;
  /** The output-pattern search: `[llm.auto_trigger] on_stderr_patterns` when a list, else `output_patterns`. */
  private readonly findOutputPattern: OutputFinder;
  private readonly rules: CompiledRule[];

  /** @throws SyntaxError for an invalid regular expression (loadConfig has checked them already). */
  constructor(config: EventsConfig) {
    this.ignoreCodes = new Set(config.ignoreExitCodes);
    this.ignoreCommands = new Set(config.ignoreCommands);
    this.findOutputPattern = config.stderrPatterns ? regexFinder(config.stderrPatterns) : phraseFinder(config.outputPatterns);
    this.rules = config.rules.map((rule) => ({
      rule,
      pattern: new RegExp(rule.pattern, 'im'),
      command: rule.command === undefined ? undefined : new RegExp(rule.command, 'i'),
    }));
  }

  /** The events of one finished command, in the order they are stored: exit, output pattern, rules. */
  detect({ record, output }: FinishedCommand): EventRecord[] {
    if (record.altScreen) return []; // a full-screen program's screen is not a log to search
    const code = record.exitCode;
    const event = (kind: EventKind, fields: Partial<EventRecord> = {}): EventRecord => ({
      type: 'event', kind, seq: record.seq, ...fields, ...(code === null ? {} : { exitCode: code }), tUs: record.endedAtUs,
    });
    const events: EventRecord[] = [];
    const ignored = record.command !== null && commandNames(record.command).some((n) => this.ignoreCommands.has(n));
    if (code !== null && code !== 0 && !this.ignoreCodes.has(code) && !ignored) events.push(event('nonzero-exit'));
    if (output.length === 0 || (ignored && this.rules.length === 0)) return events;
    const text = stripAnsi(output.toString('utf8'));
    const found = ignored ? undefined : this.findOutputPattern(text);
    if (found) events.push(event('output-pattern', { pattern: found.pattern, match: lineAt(text, found.at) }));
    for (const { rule, pattern, command } of this.rules) {
      if (command && (record.command === null || !command.test(record.command))) continue;
      if (rule.exitCodes && (code === null || !rule.exitCodes.includes(code))) continue;
      const m = pattern.exec(text);
      if (m) events.push(event('rule', { name: rule.name, pattern: rule.pattern, match: lineAt(text, m.index) }));
    }
    return events;
  }
}
