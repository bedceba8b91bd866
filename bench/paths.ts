/** Where the bench finds the checkout it measures, and its one error type. */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The checkout's root: the nearest directory above this module holding bench/term.c. The module
 * runs compiled from .bench/js/ (and could run from bench/ itself), so a fixed `..` would not do.
 */
function findRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'bench', 'term.c')) && existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`bench: no checkout (bench/term.c) above ${from}`);
  }
}

export const ROOT = findRoot(import.meta.dirname);
export const OMNISH = join(ROOT, 'bin', 'omnish.js');
export const OMNISHD = join(ROOT, 'bin', 'omnishd.js');

/** A failure the bench reports as one line (no stack): bad usage, a missing tool, a contender that hung. */
export class BenchError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BenchError';
  }
}
