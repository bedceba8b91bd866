/**
 * Noticing that config.toml changed. Two watches, each covering what the other misses:
 *
 * - the file's *directory* (fs.watch, inotify on Linux): editors and `omnish config set --save`
 *   write a temporary file and rename it over the old one, and a watch on the file itself follows
 *   the old inode, which is gone, and never fires again. Events for other names are ignored.
 * - a poll of the file's stat every POLL_MS (fs.watchFile): it sees a directory created after
 *   omnishd started, the target of a symlinked config changing in another directory, and file
 *   systems without inotify (NFS, some containers). It also brings back a directory watch lost
 *   when the directory was removed.
 *
 * An editor's save is several events (write, rename, chmod), and the two watches may both fire:
 * the callback runs once the file has been quiet for DEBOUNCE_MS. The callback decides whether the
 * content changed (config-reload.ts compares it).
 */
import { unwatchFile, watch, watchFile, type FSWatcher, type Stats } from 'node:fs';
import { basename, dirname } from 'node:path';

/** Quiet time after the last event before the file is read, ms. */
export const DEBOUNCE_MS = 150;
/** Interval of the stat poll, ms. */
export const POLL_MS = 2000;

export interface WatchOptions {
  /** Quiet time before `onChange`, ms (default DEBOUNCE_MS). */
  debounceMs?: number;
  /** Stat poll interval, ms (default POLL_MS). */
  pollMs?: number;
}

/** A running watch; `close` stops it (no callback after it returns). */
export interface ConfigWatch {
  close(): void;
}

/**
 * Calls `onChange` after `file` may have changed (created, written, replaced, removed), and once
 * right after the watches start. Never keeps the process alive by itself.
 * @param file the config file's path; neither it nor its directory need exist
 */
export function watchConfig(file: string, onChange: () => void, options: WatchOptions = {}): ConfigWatch {
  const debounceMs = options.debounceMs ?? DEBOUNCE_MS;
  const name = basename(file);
  const dir = dirname(file);
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let dirWatch: FSWatcher | undefined;

  const schedule = (): void => {
    if (closed) return;
    clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      if (!closed) onChange();
    }, debounceMs);
    timer.unref();
  };

  const watchDir = (): void => {
    if (dirWatch || closed) return;
    try {
      // No name (some platforms, or too many events): anything in the directory may be the file.
      dirWatch = watch(dir, { persistent: false }, (_event, changed) => {
        if (changed === null || changed === name) schedule();
      });
      dirWatch.on('error', () => {
        // The directory went away: the poll sees what happens next and watches it again.
        dirWatch?.close();
        dirWatch = undefined;
      });
    } catch {
      dirWatch = undefined; // no directory yet: the poll sees the file appear
    }
  };

  const poll = (now: Stats, before: Stats): void => {
    watchDir();
    if (now.mtimeMs !== before.mtimeMs || now.ino !== before.ino || now.size !== before.size) schedule();
  };

  watchDir();
  watchFile(file, { interval: options.pollMs ?? POLL_MS, persistent: false }, poll);
  // One look once the watches run, for a change made since the caller last read the file (omnishd
  // reads it first, then opens the store and the socket), which no watch was there to see.
  schedule();
  return {
    close() {
      closed = true;
      clearTimeout(timer);
      dirWatch?.close();
      dirWatch = undefined;
      unwatchFile(file, poll);
    },
  };
}
