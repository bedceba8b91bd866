/** The programs the bench compares, the environment they share, and what the terminal types. */
import { testEnv } from '../test/helpers/env.js';
import { BenchError } from './errors.js';
import type { Step } from './cterm.js';

export const PROMPT = 'BENCHPROMPT$ ';

/** Names of the contenders, in the order they are reported. */
export const CONTENDER_NAMES = ['direct', 'script', 'omnish', 'omnish-js'] as const;
export type ContenderName = (typeof CONTENDER_NAMES)[number];

/** A program run in the terminal's pty. */
export interface Contender {
  name: ContenderName;
  file: string;
  args: string[];
}

/**
 * The contenders, all running `bash --norc --noprofile`: straight in the pty (direct), under
 * util-linux script(1) (a relay in C, two pty hops), under omnish.
 * @throws BenchError for an unknown name in `only`
 */
export function contenders(only: readonly string[], omnish: string): Contender[] {
  const all: Contender[] = [
    { name: 'direct', file: '/bin/bash', args: ['--norc', '--noprofile'] },
    // script(1) runs its command with `$SHELL -c`, and a non-interactive bash drops PS1 from the
    // environment, so the command puts it back before the interactive bash starts.
    { name: 'script', file: 'script', args: ['-qfec', `PS1='${PROMPT}' exec bash --norc --noprofile`, '/dev/null'] },
    { name: 'omnish', file: process.execPath, args: [omnish, '--norc', '--noprofile'] },
    // The node-pty relay, for the comparison (docs/benchmarks.md): the same omnish with OMNISH_RELAY=js.
    { name: 'omnish-js', file: '/usr/bin/env', args: ['OMNISH_RELAY=js', process.execPath, omnish, '--norc', '--noprofile'] },
  ];
  for (const name of only) {
    if (!all.some((c) => c.name === name)) throw new BenchError(`unknown contender ${name} (known: ${CONTENDER_NAMES.join(', ')})`);
  }
  return all.filter((c) => only.includes(c.name));
}

/** Where omnish's config, data and socket live for one bench run. */
export interface Isolation {
  dir: string;
  data: string;
  socket: string;
}

/** The places of the tests' isolated environment (testEnv) in `dir`. */
export function isolation(dir: string): Isolation {
  const env = testEnv(dir);
  return { dir, data: env.OMNISH_DATA_DIR as string, socket: env.OMNISH_SOCKET as string };
}

/**
 * The environment every contender gets: the tests' isolated one (the same prompt, locale and
 * terminal type; omnish's config, data and socket in the bench's temporary directory, which the
 * others ignore), with the bench's prompt and bash as SHELL for script(1).
 */
export function benchEnv(iso: Isolation): Record<string, string> {
  return testEnv(iso.dir, { SHELL: '/bin/bash', PS1: PROMPT });
}

/**
 * Until the shell is ready: a line whose marker the shell computes (so the echo of the typed line
 * cannot match), then quiet. Typed at once: the pty holds it until the shell reads.
 */
const READY: Step[] = [{ send: 'echo R:$((1+1))\r' }, { wait: 'R:2' }, { quietMs: 30 }];

/** The end marker of the throughput command; the text file holds no ':'. */
export const END_MARKER = 'D:5';

/**
 * Throughput: once ready, mark, then `cat FILE; echo D:5; exit` in one line, and read to EOF. The
 * shell exits right after the output, which is where a relay that loses its tail loses it; `find`
 * (not `wait`) lets such a run finish and be counted short.
 */
export function throughputSteps(file: string): Step[] {
  return [...READY, { mark: true }, { send: `cat ${file}; echo D:$((2+3)); exit\r` }, { find: END_MARKER }];
}

/** Keystroke echo at an idle prompt (see bench/term.c, -e), then exit. */
export function echoSteps(keys: number): Step[] {
  return [...READY, { echoKeys: keys }, { send: 'exit\r' }];
}

/** Time to first prompt: from spawn until the prompt text, then exit. */
export function startSteps(): Step[] {
  return [{ wait: PROMPT }, { quietMs: 20 }, { send: '\x15exit\r' }];
}
