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

/** The outcome of loading the addon; `path` is the binary loaded (build/Release/... or prebuilds/...). */
export interface NativeAddonLoad {
  addon?: NativeAddon;
  path?: string;
  error?: string;
}

let loaded: NativeAddonLoad | undefined;

/**
 * Loads the addon once.
 * @returns the addon and the file it came from, or the reason it cannot load (one line: no build
 *   for this platform, a broken binary, a glibc too old, ...). Never throws.
 */
export function loadNativeAddon(): NativeAddonLoad {
  if (loaded) return loaded;
  try {
    const require = createRequire(import.meta.url);
    // node-gyp-build's choice, resolved first so callers (status, doctor, tests) can say which binary.
    const nodeGypBuild = require('node-gyp-build') as { path(dir: string): string };
    const path = nodeGypBuild.path(PACKAGE_ROOT);
    loaded = { addon: require(path) as NativeAddon, path };
  } catch (err) {
    loaded = { error: ((err as Error).message ?? String(err)).split('\n')[0] };
  }
  return loaded;
}
