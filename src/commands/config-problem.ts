/**
 * How `omnish status`, `::status`, `omnish doctor` and `omnish config reload` put the daemon's
 * configuration into words: "error since 12:05: ~/.config/omnish/config.toml:3:1: store.max_total_mb
 * must be …", "omnishd keeps the configuration it read at 12:03".
 */
import { problemMessage } from '../config/file.js';
import type { ConfigProblem, ConfigStatus } from '../protocol/index.js';
import { clock } from './store-problem.js';

/** `FILE:LINE:COL: error`, with the key named when the error does not name it. */
export function problemLine(p: ConfigProblem): string {
  const line = problemMessage(p);
  return p.key !== undefined && !p.error.includes(p.key) ? `${line} (key ${p.key})` : line;
}

/** What omnishd runs with while the file does not load. */
export function keptText(c: ConfigStatus, now = Date.now()): string {
  return c.source === 'file' ? `omnishd keeps the configuration it read at ${clock(c.loadedAtMs, now)}` : 'omnishd runs on the defaults until the file loads';
}

/** The `config:` lines of `omnish status`. */
export function configStatusLines(c: ConfigStatus, now = Date.now()): string[] {
  if (c.problem) {
    return [
      `config: error since ${clock(c.problem.sinceMs, now)}: ${problemLine(c.problem)}`,
      `config: ${keptText(c, now)}; it reads the file again when it is saved`,
    ];
  }
  return [`config: ${c.file} (${c.source === 'file' ? `read ${clock(c.loadedAtMs, now)}` : 'no file: the defaults apply'})`];
}
