/**
 * The native addon (src/client/native/*.c, Node-API, built by node-gyp): its JavaScript shape and
 * its loader. A source build (build/Release) wins over the prebuilt binaries shipped in
 * prebuilds/<platform>-<arch>/ (node-gyp-build's layout); where neither loads, callers fall back
 * to the node-pty relay.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A mark as the C parser reports it (marks.h); `payload` is the OSC payload, latin1, absent for alt marks. */
export interface NativeMark {
  kind: 'A' | 'B' | 'C' | 'D' | 'E' | 'P' | 'alt-on' | 'alt-off';
  start: number;
  offset: number;
  payload?: string;
}

/** The C port of src/shell/marks.ts MarkParser (held to it by test/native-marks.test.ts). */
export interface NativeMarkParser {
  push(chunk: Buffer): NativeMark[];
  pushAndStrip(chunk: Buffer): { events: NativeMark[]; output: Buffer };
  takeHeld(): Buffer;
  readonly altScreen: boolean;
}

/** What the addon exports. The relay's part is filled in by relay.c. */
export interface NativeAddon {
  MarkParser: new (nonce: string) => NativeMarkParser;
  [name: string]: unknown;
}

/** Package root: dist/client/native/addon.js and src/client/native/addon.ts are three levels down. */
const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

let loaded: { addon?: NativeAddon; error?: string } | undefined;

/**
 * Loads the addon once.
 * @returns the addon, or the reason it cannot load (one line: no build for this platform, a
 *   broken binary, ...). Never throws.
 */
export function loadNativeAddon(): { addon?: NativeAddon; error?: string } {
  if (loaded) return loaded;
  try {
    const require = createRequire(import.meta.url);
    const nodeGypBuild = require('node-gyp-build') as (dir: string) => unknown;
    loaded = { addon: nodeGypBuild(PACKAGE_ROOT) as NativeAddon };
  } catch (err) {
    loaded = { error: ((err as Error).message ?? String(err)).split('\n')[0] };
  }
  return loaded;
}
