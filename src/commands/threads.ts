/**
 * `omnish threads`: the stored conversations of `ask` and of auto-explanations (docs/llm.md,
 * "Threads and follow-ups"). Listing and showing read the thread files directly, so they work
 * whether or not omnishd runs; `rm` asks omnishd, the files' only writer, so that a thread being
 * answered is not deleted under it. Questions, command lines and answers are untrusted text: every
 * one goes through the sanitizer.
 */
import { safeJson, sanitizeLine, sanitizeText } from '../common/sanitize.js';
import { request } from '../control/request.js';
import { ThreadStore, type ThreadRecord } from '../store/threads.js';
import { localTime, shortDuration, table } from './format.js';
import type { CommandSpec } from './registry.js';

/** `text` cut to `max` characters (whole code points) with an ellipsis. */
function clip(text: string, max: number): string {
  const chars = [...text];
  return chars.length > max ? `${chars.slice(0, max - 1).join('')}…` : text;
}

/** What a thread is about, one line: its first question, or "explanation of `make` (exit 2)". Sanitized. */
export function threadTitle(t: ThreadRecord): string {
  if (t.kind === 'explain') {
    const cmd = t.explained?.command?.split('\n')[0];
    const status = t.explained?.exitCode === null || t.explained?.exitCode === undefined ? '' : ` (exit ${t.explained.exitCode})`;
    return sanitizeLine(`explanation of ${cmd ? `\`${clip(cmd, 50)}\`` : `command ${t.explained?.seq ?? '?'}`}${status}`);
  }
  return sanitizeLine(t.turns[0]?.question ?? '');
}

/** Questions asked in a thread (user turns). */
function questions(t: ThreadRecord): number {
  return t.turns.filter((turn) => turn.role === 'user').length;
}

/** One thread as `threads --json` lists it (the turns themselves are for `threads show --json`). */
export interface ThreadSummary {
  id: string;
  session: string | null;
  kind: 'ask' | 'explain';
  createdAt: string;
  updatedAt: string;
  /** As the table shows it: the first question, or "explanation of `cmd`". */
  title: string;
  /** Questions asked (the first one included). */
  questions: number;
  backend: string;
  model: string;
}

function summarize(t: ThreadRecord): ThreadSummary {
  return { id: t.id, session: t.session, kind: t.kind, createdAt: t.createdAt, updatedAt: t.updatedAt, title: threadTitle(t), questions: questions(t), backend: t.backend, model: t.model };
}

function renderList(threads: ThreadRecord[]): string {
  if (threads.length === 0) return 'No threads yet. Ask something with `omnish ask` or `::ask`.\n';
  const now = Date.now();
  const rows = threads.map((t) => [
    t.id,
    `${shortDuration(now - Date.parse(t.updatedAt))} ago`,
    localTime(t.updatedAt),
    (t.session ?? '-').slice(0, 12),
    String(questions(t)),
    clip(threadTitle(t), 60),
  ].map(sanitizeLine));
  return table(['ID', 'UPDATED', 'AT', 'SESSION', 'QUESTIONS', 'ABOUT'], rows);
}

/** The conversation for a person: a header, then each question and its answer, all sanitized. */
export function renderThread(t: ThreadRecord, withContext = false): string {
  const head = [
    `thread ${t.id} · ${t.kind === 'explain' ? 'auto-explanation' : 'ask'} · session ${t.session ?? '-'} · started ${localTime(t.createdAt)} · ${questions(t)} question${questions(t) === 1 ? '' : 's'} · ${t.backend} (${t.model})`,
    // An ask thread's title is its first question, shown just below.
    ...(t.kind === 'explain' ? [threadTitle(t)] : []),
  ].map(sanitizeLine);
  const parts = [head.join('\n')];
  for (const turn of t.turns) {
    if (turn.role === 'user') {
      const asked = t.kind === 'explain' && turn === t.turns[0] ? '(asked by omnish) ' : '';
      parts.push(`› ${asked}${sanitizeLine(turn.question ?? '')}`);
      if (withContext) parts.push(`--- sent (redacted) ---\n${sanitizeText(turn.content)}\n--- end of what was sent ---`);
    } else {
      parts.push(sanitizeText(turn.content).replace(/\n+$/, ''));
    }
  }
  return `${parts.join('\n\n')}\n`;
}

const list: CommandSpec<[], { json?: boolean }> = {
  name: 'list',
  summary: '',
  usage: { implicit: true, options: [{ flags: '--json' }] },
  run(io, _args, opts) {
    const threads = new ThreadStore().list();
    io.out(opts.json ? `${safeJson(threads.map(summarize))}\n` : renderList(threads));
  },
};

const show: CommandSpec<[string], { json?: boolean; context?: boolean }> = {
  name: 'show',
  summary: 'print one thread: its questions and answers',
  usage: {
    arguments: [{ name: '<id>', description: 'thread id, or a unique prefix of one' }],
    options: [
      { flags: '--context', description: 'also print each question as it was sent: the terminal context, redacted' },
      { flags: '--json', description: 'print the stored thread as JSON (every turn as sent and answered)' },
    ],
  },
  run(io, [id], opts) {
    const t = new ThreadStore().resolve(id);
    io.out(opts.json ? `${safeJson(t)}\n` : renderThread(t, opts.context === true));
  },
};

const rm: CommandSpec<[string[]], { all?: boolean }> = {
  name: 'rm',
  summary: 'delete threads',
  usage: {
    arguments: [{ name: '[ids...]', description: 'thread ids (or unique prefixes)' }],
    options: [{ flags: '--all', description: 'delete every thread' }],
  },
  async run(io, [ids], opts) {
    const r = await request('threads-rm', { ids, ...(opts.all ? { all: true } : {}) }, { autostart: true });
    io.out(r.removed.length === 0 ? 'no threads to delete\n' : `deleted ${r.removed.length} thread${r.removed.length === 1 ? '' : 's'}: ${r.removed.join(' ')}\n`);
  },
};

export const threadsCommand: CommandSpec = {
  name: 'threads',
  summary: 'list the conversations kept from ask and auto-explanations (show one, delete them)',
  usage: {
    after: '\n`omnish threads [--json]` lists them, newest first. Follow one up with `omnish ask -c` (the last one of this\n' +
      'session) or `omnish ask --thread ID`. Threads go with their session and after [store] max_age_days (omnish gc).\n' +
      'Examples:\n  omnish threads\n  omnish threads show 1a2b\n  omnish threads rm 1a2b3c4d\n  omnish threads rm --all\n',
    subcommands: [list as CommandSpec, show as CommandSpec, rm as CommandSpec],
  },
};
