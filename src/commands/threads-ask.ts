/**
 * The follow-up options of `omnish ask` / `::ask`: `-c` continues the session's last exchange,
 * `--thread ID` a given thread (docs/llm.md, "Threads and follow-ups"). Apart from ask.ts so that
 * the options, their checks and their help are in one place beside `omnish threads`.
 */
import { UsageError } from '../common/errors.js';
import type { AskParams } from '../protocol/index.js';
import type { OptionUsage } from './registry.js';

/** `-c` and `--thread ID`, as commander hands them over. */
export interface ThreadFlags {
  continue?: boolean;
  thread?: string;
  /** The scope flags, checked against the follow-up ones. */
  all?: boolean;
  sessions?: string;
  session?: string;
}

/** The options, for ask's usage. */
export const THREAD_OPTIONS: readonly OptionUsage[] = [
  { flags: '-c, --continue', description: 'follow up on the last exchange of this session (an ::ask or an auto-explanation): the earlier turns are sent again' },
  { flags: '-t, --thread <id>', description: 'follow up on the thread with this id (or a unique prefix; see omnish threads)' },
];

/** What ask's --help says about threads. */
export const THREADS_HELP = 'Every answer is kept as a thread: `omnish threads` lists them, `omnish threads show ID` prints one.\n' +
  'Examples:\n  ::ask why did the build fail\n  ::ask -c and how do I fix that on macOS?\n  omnish ask --thread 1a2b3c4d what about the tests?\n';

/**
 * The follow-up params of a request: `continue` or `thread`, and the asking session (the thread a
 * new exchange belongs to, when -a or -s chose the context).
 * @throws UsageError when -c and --thread are combined, or either with -a / -s
 */
export function threadParams(flags: ThreadFlags, env: NodeJS.ProcessEnv = process.env): Pick<AskParams, 'continue' | 'thread' | 'session'> {
  const following = flags.continue === true || flags.thread !== undefined;
  if (flags.continue === true && flags.thread !== undefined) throw new UsageError('-c and --thread cannot be used together: -c is the last thread of this session');
  if (following && (flags.all || flags.sessions !== undefined)) throw new UsageError('-a and -s choose a new context; a follow-up (-c, --thread) continues its thread');
  const asker = flags.session ?? env.OMNISH_SESSION;
  return {
    ...(flags.continue === true ? { continue: true } : {}),
    ...(flags.thread !== undefined ? { thread: flags.thread } : {}),
    // With -a or -s the scope carries no session: the thread still belongs to the asker's.
    ...((flags.all || flags.sessions !== undefined) && asker ? { session: asker } : {}),
  };
}
