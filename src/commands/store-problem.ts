/**
 * How `omnish status`, `::status` and `omnish doctor` put a problem writing the store into words:
 * "write failed (ENOSPC: no space left on device) since 12:03, 3.2 MB lost".
 */
import type { StatusResult, StoreProblem } from '../protocol/index.js';
import { localTime } from './format.js';

/** The store part of the daemon's `status` answer. */
export type StoreStatus = StatusResult['store'];

/** Bytes for people: "512 bytes", "12.5 KB", "3.2 MB" (1 KB = 1024 bytes, as `omnish status` counts the store). */
export function byteSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} byte${bytes === 1 ? '' : 's'}`;
  if (bytes < 1048576) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1048576).toFixed(1)} MB`;
}

/** "12:03" today, else "2026-11-21 12:03" (local time). */
export function clock(ms: number, now = Date.now()): string {
  const full = localTime(new Date(ms).toISOString());
  return full.slice(0, 10) === localTime(new Date(now).toISOString()).slice(0, 10) ? full.slice(11) : full;
}

/** "write failed (ENOSPC: no space left on device) since 12:03, 3.2 MB lost". */
export function problemText(p: StoreProblem, now = Date.now()): string {
  return `write failed (${p.error}) since ${clock(p.sinceMs, now)}, ${byteSize(p.lostBytes)} lost`;
}

/** "writable again since 12:10 (write failed from 12:03: ENOSPC: no space left on device; 3.2 MB lost)". */
export function recoveredText(p: StoreProblem, now = Date.now()): string {
  return `writable again since ${clock(p.untilMs ?? now, now)} (write failed from ${clock(p.sinceMs, now)}: ${p.error}; ${byteSize(p.lostBytes)} lost)`;
}

/** What the user can do about it. */
export function problemFix(p: StoreProblem, dir: string): string {
  const resumes = 'recording resumes by itself, and a gap record in each session counts what was lost';
  switch (p.code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return `free space on the file system of ${dir} (df -h ${dir}), or lower [store] max_total_mb and run 'omnish gc'; ${resumes}`;
    case 'EROFS':
      return `the file system of ${dir} is read-only: remount it read-write (mount -o remount,rw), or point OMNISH_DATA_DIR elsewhere; ${resumes}`;
    case 'EACCES':
    case 'EPERM':
      return `make ${dir} writable for you; ${resumes}`;
    default:
      return `check ${dir} and the file system it is on (dmesg may say more), and omnishd's log; ${resumes}`;
  }
}
