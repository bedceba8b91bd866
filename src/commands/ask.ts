/**
 * `omnish ask` / `::ask`: a question about what happened in your terminals, answered by the
 * configured LLM with the recent commands as context (built, redacted and sent by omnishd; see
 * docs/context.md). The answer streams as it arrives; Ctrl-C stops it.
 */
import { UsageError } from '../common/errors.js';
import { safeJson, TextSanitizer } from '../common/sanitize.js';
import { request } from '../control/request.js';
import type { ScopeParams } from '../protocol/index.js';
import { suggestionLine, toolLine } from './ask-lines.js';
import type { CommandIo } from './io.js';
import type { CommandSpec, OptionUsage } from './registry.js';
import { THREAD_OPTIONS, THREADS_HELP, threadParams, type ThreadFlags } from './threads-ask.js';

/** Options shared by `ask` and `context`: which sessions the context comes from. */
export interface ScopeFlags {
  all?: boolean;
  sessions?: string;
  session?: string;
}

/** The request params for a scope: `-a` every active session, `-s N` the N most recent, else one session. */
export function scopeParams(flags: ScopeFlags): ScopeParams {
  if (flags.all && flags.sessions) throw new UsageError('-a and -s cannot be used together');
  if (flags.sessions !== undefined) {
    const n = Number(flags.sessions);
    if (!Number.isInteger(n) || n < 1) throw new UsageError(`-s takes a number of sessions (1 or more), got '${flags.sessions}'`);
    return { scope: 'recent', recent: n };
  }
  if (flags.all) return { scope: 'all' };
  const session = flags.session ?? process.env.OMNISH_SESSION;
  return session ? { scope: 'session', session } : { scope: 'latest' };
}

/** -a, -s N and --session ID: the options of every command that builds a context. */
export const SCOPE_OPTIONS: readonly OptionUsage[] = [
  { flags: '-a, --all', description: 'use every active session (all your terminals)' },
  { flags: '-s, --sessions <n>', description: 'use the N most recent sessions, ended ones included' },
  { flags: '--session <id>', description: 'use this session (default: the one you are in, else the latest)' },
];

/** How long the answer may pause before we give up (ms): long enough for a slow local model. */
const ANSWER_IDLE_MS = 180_000;

/** The options of `ask`. */
type AskFlags = ScopeFlags & ThreadFlags & { json?: boolean };

async function run(out: CommandIo, words: string[], flags: AskFlags): Promise<void> {
  const question = words.join(' ').trim();
  if (!question) throw new UsageError('ask what? e.g. omnish ask why did make fail');
  const params = { question, ...scopeParams(flags), ...threadParams(flags) };
  const stop = new AbortController();
  const release = listenForStop(out, stop);
  // The answer is the LLM's text, untrusted: it reaches the terminal only through the sanitizer.
  const safe = new TextSanitizer();
  let streamed = '';
  const show = (text: string): void => {
    streamed += text;
    out.out(text);
  };
  try {
    const result = await request('ask', params, {
      autostart: true,
      idleTimeoutMs: ANSWER_IDLE_MS,
      signal: stop.signal,
      onEvent: (ev) => {
        if (flags.json) return;
        if (ev.kind === 'ask-chunk') show(safe.push(ev.data.text));
        else if (ev.kind === 'ask-tool') show(toolLine(ev.data.text, streamed === '' || streamed.endsWith('\n'), out.isTTY));
      },
    });
    if (flags.json) out.out(`${safeJson(result)}\n`);
    else {
      show(safe.end());
      if (!streamed.endsWith('\n')) out.out('\n');
      if (result.suggestion) out.out(suggestionLine(result.suggestion, out.isTTY, out.atPrompt));
    }
  } catch (err) {
    if (!stop.signal.aborted) throw err;
    show(safe.end());
    out.err(`${streamed.endsWith('\n') || streamed === '' ? '' : '\n'}(stopped)\n`);
    out.setExitCode(130);
  } finally {
    release();
  }
}

/** Ctrl-C stops the answer: a key at the prompt, SIGINT on the command line. */
function listenForStop(out: CommandIo, stop: AbortController): () => void {
  if (out.onKey) {
    // Only Ctrl-C is ours: anything else typed meanwhile goes to the shell afterwards.
    return out.onKey((key) => {
      if (!key.includes(0x03)) return false;
      stop.abort();
      return true;
    });
  }
  const onSigint = (): void => stop.abort();
  process.on('SIGINT', onSigint);
  return () => process.off('SIGINT', onSigint);
}

export const askCommand: CommandSpec<[string[]], AskFlags> = {
  name: 'ask',
  summary: 'ask the LLM about what happened in your terminal',
  usage: {
    arguments: [{ name: '<question...>', description: 'your question, e.g. why did make fail' }],
    options: [...SCOPE_OPTIONS, ...THREAD_OPTIONS, { flags: '--json', description: 'print {answer, backend, model, usage, thread, suggestion} as JSON instead of streaming' }],
    after: `\nThe context is shown by \`omnish context\` with the same options; secrets are redacted first.\n${THREADS_HELP}`,
  },
  run: (io, [words], flags) => run(io, words, flags),
};
