/** The text that `cat` prints in the throughput test: the same bytes on every run and machine. */
import { closeSync, openSync, writeSync } from 'node:fs';

/** A small deterministic PRNG (mulberry32): the same numbers for a seed on every run and machine. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function vocabulary(rand: () => number): string[] {
  const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  const punct = ',.;!?-_=+()[]{}<>/\\|@#%^&*~\'"`$';
  const words: string[] = [];
  for (let i = 0; i < 4096; i++) {
    const len = 1 + Math.floor(rand() * 12);
    let w = '';
    for (let j = 0; j < len; j++) w += alphabet[Math.floor(rand() * alphabet.length)];
    if (rand() < 0.15) w += punct[Math.floor(rand() * punct.length)];
    words.push(w);
  }
  return words;
}

/** Size of what was written. */
export interface TextFile {
  /** File size, bytes. */
  bytes: number;
  /** Number of LF bytes: each becomes CR LF on the way through a pty (ONLCR). */
  lines: number;
}

/**
 * Writes `bytes` of varied printable text to `path`: lines of 1 to 160 characters of words, digits
 * and punctuation, never a ':' (so the end marker `D:5` cannot occur in it).
 */
export function writeTextFile(path: string, bytes: number): TextFile {
  const rand = prng(0x5eed);
  const words = vocabulary(rand);
  const fd = openSync(path, 'w');
  let written = 0;
  let lines = 0;
  try {
    while (written < bytes) {
      const chunkLines: string[] = [];
      let size = 0;
      while (size < 1 << 20) {
        const target = 1 + Math.floor(rand() * rand() * 160);
        let line = rand() < 0.1 ? '    ' : '';
        while (line.length < target) line += (line.length > 0 && !line.endsWith(' ') ? ' ' : '') + words[Math.floor(rand() * words.length)];
        chunkLines.push(line);
        size += line.length + 1;
      }
      let chunk = Buffer.from(chunkLines.join('\n') + '\n', 'latin1');
      if (written + chunk.length > bytes) {
        chunk = chunk.subarray(0, bytes - written);
        chunk[chunk.length - 1] = 0x0a;
      }
      for (let i = chunk.indexOf(0x0a); i !== -1; i = chunk.indexOf(0x0a, i + 1)) lines++;
      writeSync(fd, chunk);
      written += chunk.length;
    }
  } finally {
    closeSync(fd);
  }
  return { bytes: written, lines };
}
