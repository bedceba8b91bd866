/**
 * The recording's limits and Gap reasons, shared by both relays (record-queue.ts in JavaScript,
 * loop.c in the native relay, which gets them as options). No imports: the session loads this
 * before the shell starts, without the protocol code.
 */

/** Reason of the Gap recorded when output is dropped at the cap. */
export const CAP_REASON = 'client buffer full';
/** Reason of the Gap recorded for output left out between pause() and resume(). */
export const PAUSE_REASON = 'paused by the user (::pause)';

/** Default largest IoData payload, bytes: one frame per batch, not per ~4 KiB pty read. */
export const BATCH_BYTES = 64 * 1024;
/** Default longest wait before a partial batch is sealed, ms. */
export const BATCH_MS = 5;
/** Default cap on what the client holds for omnishd, the socket's buffer included (bytes). */
export const CAP_BYTES = 8 * 1024 * 1024;

/**
 * How long omnish waits at exit for the daemon to take the end of the session: at most
 * RECORDER_STALL_MS in which it takes nothing, RECORDER_DRAIN_MS in all (ms). Shared by both relays.
 */
export const RECORDER_STALL_MS = 1000;
export const RECORDER_DRAIN_MS = 5000;
