/**
 * Secret redaction: the last step before terminal text leaves the machine (DESIGN.md promise 3),
 * for an LLM (src/llm/context.ts) and for an MCP client (`omnish mcp`, src/tools/read-tools.ts) alike.
 * Two detectors run over the text and their findings are merged:
 * - the secretlint recommended preset (`@secretlint/core`): well-kept rules for provider tokens
 *   (GitHub, Slack, OpenAI, Anthropic, npm, GCP, SendGrid, Shopify, Linear, 1Password, private
 *   keys, database URLs);
 * - omnish's own rules for what terminals show: `KEY=value`, URL passwords, `Authorization`
 *   headers, unterminated key blocks, AWS key pairs, credential files (redact-rules.ts), and
 *   passwords typed as command-line arguments (`mysql -pX`, `sshpass -p X`: redact-commands.ts);
 * plus the user's own patterns, and minus the user's allow-list (`[redact]` in config.toml).
 * Every finding is replaced by `[REDACTED:kind]`. Details, examples and the corpus rates: docs/context.md.
 */
import stripAnsi from 'strip-ansi';
import { findCommandLineSecrets } from './redact-commands.js';
import { findOwnSecrets, kindRank, type Finding } from './redact-rules.js';

/** The user's additions to redaction: `[redact]` in config.toml (src/config/config.ts). */
export interface RedactOptions {
  /**
   * Regular expressions (JavaScript syntax, case-sensitive, `^`/`$` per line) whose matches are
   * secrets (kind `custom`); when one has a group named `secret`, only that group is.
   */
  patterns?: readonly string[];
  /** Literal strings kept in clear: a finding that lies inside an occurrence of one is not redacted. */
  allow?: readonly string[];
}

/** How many secrets of one kind were replaced. */
export interface Redaction {
  /** Short name, as in the `[REDACTED:kind]` marker (`github-token`, `env-secret`, …). */
  kind: string;
  count: number;
}

export interface RedactResult {
  /** The text with ANSI escape sequences removed and every secret replaced by `[REDACTED:kind]`. */
  text: string;
  /** Replacements per kind, sorted by kind; one per merged span. */
  redactions: Redaction[];
}

const RULE_PREFIX = '@secretlint/secretlint-rule-';
/** secretlint rule (without the prefix) → our kind, where a shared name reads better than the rule's. */
const LIBRARY_KINDS: Record<string, string> = {
  github: 'github-token', aws: 'aws-secret-key', slack: 'slack-token', privatekey: 'private-key',
  basicauth: 'url-password', 'database-connection-string': 'url-password', openai: 'api-key',
  anthropic: 'api-key', npm: 'npm-token',
};
/**
 * secretlint rules that mark a whole URL where our url-password rule marks only the password.
 * When one of ours lies inside theirs, ours stands for it, so scheme, user and host stay readable.
 */
const NARROWED_BY_OWN = new Set(['basicauth', 'database-connection-string']);

type Scan = (text: string) => Promise<(Finding & { rule: string })[]>;
let scanner: Promise<Scan> | null = null;

/**
 * Turns off secretlint 11's built-in profiler. It calls performance.mark() twice per rule per
 * lintSource call, whether anyone profiles or not, keeps every mark in an array that only grows,
 * and scans that array on each mark: in a daemon that redacts for days, a leak whose cost grows
 * with every call (building one 100K-token context, ~700 calls, took 2.5 s instead of 1.1 s).
 * Upstream: secretlint issues #1633 and #1653, fixed by PR #1673 in 13.0.5, which adds
 * `secretLintProfiler.setEnabled()` but leaves profiling on for library callers (only the CLI
 * turns it off), so a caller must still switch it off: with setEnabled(false) when the installed
 * version has it, else by replacing mark(). 13.x needs Node 22; omnish supports Node 20 and
 * stays on 11.7.1 for now.
 * @secretlint/profiler is @secretlint/core's own dependency (same version); if it cannot be
 * loaded or has changed shape, nothing is patched: only speed is at stake, never redaction.
 */
async function silenceProfiler(): Promise<void> {
  try {
    const { secretLintProfiler } = await import('@secretlint/profiler');
    // 13.0.5+ has a switch for it (see above): use it when present.
    const profiler = secretLintProfiler as typeof secretLintProfiler & { setEnabled?: (on: boolean) => void };
    if (typeof profiler.setEnabled === 'function') profiler.setEnabled(false);
    else if (typeof profiler.mark === 'function') profiler.mark = () => undefined;
  } catch {
    // See above: a missing profiler only means there is nothing to switch off.
  }
}

/**
 * Loads secretlint and builds its config once per process: importing the preset costs ~100 ms,
 * and the config never changes. Loaded on first use so that nothing but the daemon pays for it.
 */
function librarySecrets(): Promise<Scan> {
  scanner ??= (async () => {
    const [{ lintSource }, { creator }] = await Promise.all([
      import('@secretlint/core'),
      import('@secretlint/secretlint-rule-preset-recommend'),
      silenceProfiler(),
    ]);
    const config = {
      rules: [{
        id: creator.meta.id,
        rule: creator,
        rules: [
          // The text is not ours: a "secretlint-disable" comment in it must not switch detection off.
          { id: `${RULE_PREFIX}filter-comments`, disabled: true },
          // secretlint 11.7's range for this message starts at the variable's name and is only as
          // long as the key, so it would cut the key in half; redact-rules.ts finds these keys.
          { id: `${RULE_PREFIX}aws`, allowMessageIds: ['AWSSecretAccessKey'] },
        ],
      }],
    };
    return async (content: string) => {
      const result = await lintSource({
        // ext .txt: no rule reads a file (the p12 check would for .p12); noPhysicFilePath likewise.
        source: { content, filePath: 'terminal.txt', ext: '.txt', contentType: 'text' },
        options: { config, noPhysicFilePath: true },
      });
      return result.messages.map((m) => {
        const rule = m.ruleId.startsWith(RULE_PREFIX) ? m.ruleId.slice(RULE_PREFIX.length) : m.ruleId;
        return { start: m.range[0], end: m.range[1], kind: LIBRARY_KINDS[rule] ?? rule, rule };
      });
    };
  })();
  return scanner;
}

/** Spans of `[REDACTED:…]` markers already in the text (redact is idempotent). */
const MARKER = /\[REDACTED:[a-z0-9-]+\]/g;

function markerSpans(text: string): { start: number; end: number }[] {
  return [...text.matchAll(MARKER)].map((m) => ({ start: m.index, end: m.index + m[0].length }));
}

/**
 * Sorts and merges overlapping findings; a merged span takes the most specific kind (kindRank).
 * Findings inside an existing marker are dropped.
 */
function mergeFindings(findings: readonly Finding[], text: string): Finding[] {
  const markers = markerSpans(text);
  const inMarker = (f: Finding) => markers.some((m) => f.start >= m.start && f.end <= m.end);
  const sorted = findings.filter((f) => f.end > f.start && !inMarker(f)).sort((a, b) => a.start - b.start || b.end - a.end);
  const out: Finding[] = [];
  for (const f of sorted) {
    const last = out[out.length - 1];
    if (last && f.start < last.end) {
      last.end = Math.max(last.end, f.end);
      if (kindRank(f.kind) < kindRank(last.kind)) last.kind = f.kind;
    } else {
      out.push({ ...f });
    }
  }
  return out;
}

/** Compiled user patterns, by source: the config holds strings, and they rarely change. */
const compiled = new Map<string, RegExp>();

/**
 * Matches of the user's patterns. The config validated them (config.ts); one that does not compile
 * here is a bug, so it throws rather than letting text through unredacted.
 */
function userSecrets(text: string, patterns: readonly string[]): Finding[] {
  const out: Finding[] = [];
  for (const source of patterns) {
    let re = compiled.get(source);
    if (!re) compiled.set(source, (re = new RegExp(source, 'dgm')));
    re.lastIndex = 0;
    for (let m = re.exec(text); m; m = re.exec(text)) {
      if (m[0] === '') re.lastIndex++; // an empty match would match again at the same place
      const span = m.indices?.groups?.secret ?? [m.index, m.index + m[0].length];
      if (span[1] > span[0]) out.push({ start: span[0], end: span[1], kind: 'custom' });
    }
  }
  return out;
}

/** Characters [start, end) of a text. */
interface Span {
  start: number;
  end: number;
}

/**
 * A test for "lies inside allowed text": the occurrences of the allowed strings in `text`, sorted
 * and merged, searched by bisection (a short allowed string can occur thousands of times).
 */
function allowedTest(text: string, allow: readonly string[]): (f: Span) => boolean {
  const found: Span[] = [];
  for (const literal of allow) {
    if (literal === '') continue;
    for (let at = text.indexOf(literal); at >= 0; at = text.indexOf(literal, at + 1)) found.push({ start: at, end: at + literal.length });
  }
  if (found.length === 0) return () => false;
  found.sort((a, b) => a.start - b.start);
  const merged: Span[] = [];
  for (const o of found) {
    const last = merged[merged.length - 1];
    if (last && o.start <= last.end) last.end = Math.max(last.end, o.end);
    else merged.push({ ...o });
  }
  return (f) => {
    // The last merged span that starts at or before the finding.
    let lo = 0;
    let hi = merged.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (merged[mid]!.start <= f.start) lo = mid;
      else hi = mid - 1;
    }
    const span = merged[lo]!;
    return span.start <= f.start && f.end <= span.end;
  };
}

/**
 * Removes ANSI escape sequences from `text` (a colour code inside `KEY=value` would hide it from
 * the rules, and the LLM gets plain text anyway), then replaces every secret found by `[REDACTED:kind]`.
 * `options` adds the user's patterns and allow-list. Running it again on its own output changes
 * nothing. Takes ~40 ms for 100 KB full of secrets (redact.test.ts).
 * @throws only if secretlint cannot be loaded (a broken install): sending unredacted text is never the fallback.
 */
export async function redact(text: string, options: RedactOptions = {}): Promise<RedactResult> {
  const plain = stripAnsi(text);
  if (plain.trim() === '') return { text: plain, redactions: [] };
  const own = [...findOwnSecrets(plain), ...findCommandLineSecrets(plain), ...userSecrets(plain, options.patterns ?? [])];
  const library = await (await librarySecrets())(plain);
  // A marker inside a URL finding is a password redacted before: the URL has nothing more to hide.
  // Narrowed before the allow-list applies, so that an allowed password keeps its whole URL in clear.
  const narrower = [...own, ...markerSpans(plain)];
  const kept = library.filter((l) => !(NARROWED_BY_OWN.has(l.rule) && narrower.some((o) => o.start >= l.start && o.end <= l.end)));
  const allowed = allowedTest(plain, options.allow ?? []);
  const found = [...own, ...kept].filter((f) => !allowed(f));
  const spans = mergeFindings(found, plain);
  const parts: string[] = [];
  let at = 0;
  for (const s of spans) {
    parts.push(plain.slice(at, s.start), `[REDACTED:${s.kind}]`);
    at = s.end;
  }
  parts.push(plain.slice(at));
  return { text: parts.join(''), redactions: sumRedactions(spans.map((s) => ({ kind: s.kind, count: 1 }))) };
}

/** Adds up redaction counts per kind (several texts redacted separately), sorted by kind. */
export function sumRedactions(...lists: readonly Redaction[][]): Redaction[] {
  const counts = new Map<string, number>();
  for (const list of lists) for (const r of list) counts.set(r.kind, (counts.get(r.kind) ?? 0) + r.count);
  return [...counts].map(([kind, count]) => ({ kind, count })).sort((a, b) => (a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0));
}

/**
 * The `[REDACTED:kind]` markers in `text`, per kind, sorted by kind: the redactions a text that
 * went through redact() carries (plus any marker the terminal text itself contained).
 */
export function countMarkers(text: string): Redaction[] {
  return sumRedactions([...text.matchAll(MARKER)].map((m) => ({ kind: m[0].slice(10, -1), count: 1 })));
}
