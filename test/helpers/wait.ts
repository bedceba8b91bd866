/** Waiting on a condition with a deadline: tests and the bench never sleep a fixed time. */

/**
 * Waits until `check` returns a truthy value, polling every 10 ms, and returns that value.
 * `what` names what was awaited; as a function it is called only on a timeout, so the message can
 * show the state then (the output so far), not the state when the wait began.
 * @throws Error "timed out after N ms waiting for WHAT" after `timeoutMs` (ms); whatever `check` throws
 */
export async function waitUntil<T>(check: () => T | undefined | null | false, what: string | (() => string), timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
