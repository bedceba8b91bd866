/** The bench's one error type. (Where the checkout is: test/helpers/paths.ts, shared with the tests.) */

/** A failure the bench reports as one line (no stack): bad usage, a missing tool, a contender that hung. */
export class BenchError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BenchError';
  }
}
