/** Command-line options of `npm run bench`. */
import { resolve } from 'node:path';
import { CONTENDER_NAMES } from './contenders.js';
import { OMNISH } from '../test/helpers/paths.js';
import { BenchError } from './errors.js';

export interface Options {
  /** Rounds: each runs every contender once per measurement, in rotated order. */
  rounds: number;
  /** Size of the text file for the throughput test, MB (10^6 bytes). */
  mb: number;
  /** Measured keystrokes per contender per round. */
  keys: number;
  /** Starts per contender per round for the time to first prompt. */
  starts: number;
  /** Contenders to run. */
  only: string[];
  /** The launcher measured as omnish (its omnishd.js beside it is the daemon). */
  omnish: string;
  /** File to write every figure and sample to as JSON. */
  json: string | undefined;
  /** Deadline of each wait of the terminal, ms. */
  timeoutMs: number;
  /** Runs per case of the start-up part (bench/startup.ts); 0 skips it. */
  startupRuns: number;
  /** Only the start-up part: no relay rounds. */
  startupOnly: boolean;
}

export const USAGE = `usage: npm run bench -- [options]
  --rounds N      rounds of every measurement, contenders alternating (default 5; --runs is the same)
  --mb N          size of the text file the throughput test cats, MB (default 50)
  --keys N        keystrokes measured per contender per round (default 300)
  --starts N      starts per contender per round for the first prompt (default 3)
  --only a,b      contenders: ${CONTENDER_NAMES.join(', ')} (default all)
  --omnish FILE   the omnish launcher to measure (default this checkout's bin/omnish.js)
  --json FILE     also write every figure and sample to FILE
  --timeout MS    deadline of each step of the terminal (default 120000)
  --startup N     runs per case of the start-up part: --version, --help, sessions, status (default 20; 0 skips it)
  --startup-only  only the start-up part (a few seconds)
`;

/**
 * Parses the bench's arguments.
 * @throws BenchError for an unknown option or a bad value
 */
export function parseArgs(argv: readonly string[]): Options | 'help' {
  const opts: Options = { rounds: 5, mb: 50, keys: 300, starts: 3, only: [...CONTENDER_NAMES], omnish: OMNISH, json: undefined,
    timeoutMs: 120_000, startupRuns: 20, startupOnly: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new BenchError(`${arg} needs a value`);
      return v;
    };
    const count = (): number => {
      const n = Number(value());
      if (!Number.isInteger(n) || n < 1) throw new BenchError(`${arg} needs a positive integer`);
      return n;
    };
    if (arg === '--rounds' || arg === '--runs') opts.rounds = count();
    else if (arg === '--mb') opts.mb = count();
    else if (arg === '--keys') opts.keys = count();
    else if (arg === '--starts') opts.starts = count();
    else if (arg === '--only') opts.only = value().split(',');
    else if (arg === '--omnish') opts.omnish = resolve(value());
    else if (arg === '--json') opts.json = resolve(value());
    else if (arg === '--timeout') opts.timeoutMs = count();
    else if (arg === '--startup') {
      const n = Number(value());
      if (!Number.isInteger(n) || n < 0) throw new BenchError(`${arg} needs a whole number (0 skips the part)`);
      opts.startupRuns = n;
    }
    else if (arg === '--startup-only') opts.startupOnly = true;
    else if (arg === '-h' || arg === '--help') return 'help';
    else throw new BenchError(`unknown argument ${arg} (see --help)`);
  }
  return opts;
}
