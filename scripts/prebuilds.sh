#!/usr/bin/env bash
# Builds the addon for every platform the package ships it for, stripped, in node-gyp-build's
# layout, so `npm install --ignore-scripts` gives the native relay with no compiler:
#   prebuilds/linux-x64/omnish_relay.napi.glibc.node
#   prebuilds/linux-arm64/omnish_relay.napi.glibc.node
# (`napi`: one binary for every Node version; `glibc`: node-gyp-build skips it on musl.) The
# architecture that is not this machine's is cross-compiled with Debian's cross compiler (apt package
# gcc-aarch64-linux-gnu or gcc-x86-64-linux-gnu; scripts/install-test-deps.sh installs it). Each
# build runs in a scratch copy of the sources, so build/ (the source build, which node-gyp-build
# prefers) is never touched, and each binary is renamed into place, so a reader never sees half of
# one. Fails loudly when a target cannot be built: a package must not ship without it.
#   scripts/prebuilds.sh [DIR]   (default: prebuilds/ in the repository)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dest="$(mkdir -p "${1:-$root/prebuilds}" && cd "${1:-$root/prebuilds}" && pwd)"
cd "$root"
gyp="$root/node_modules/.bin/node-gyp"
[ -x "$gyp" ] || { echo "prebuilds: node-gyp is not installed: run npm ci" >&2; exit 1; }
host="$(node -p process.arch)"
# Headers as in scripts/build-native.sh: npm's nodedir, else the running Node's own (offline).
nodedir=()
node_prefix="$(dirname "$(dirname "$(node -p process.execPath)")")"
if [ -z "${npm_config_nodedir:-}" ] && [ -f "$node_prefix/include/node/node_api.h" ]; then
  nodedir=("--nodedir=$node_prefix")
fi
name=omnish_relay.napi.glibc.node

for arch in x64 arm64; do
  case "$arch" in
    x64) triplet=x86_64-linux-gnu; machine=62; debian="gcc-x86-64-linux-gnu libc6-dev-amd64-cross" ;;
    arm64) triplet=aarch64-linux-gnu; machine=183; debian="gcc-aarch64-linux-gnu libc6-dev-arm64-cross" ;;
  esac
  if [ "$arch" = "$host" ]; then cc="${CC:-cc}"; strip=strip; else cc="$triplet-gcc"; strip="$triplet-strip"; fi
  command -v "$cc" >/dev/null 2>&1 || {
    echo "prebuilds: no $cc to build linux-$arch (Debian: apt-get install $debian)" >&2; exit 1; }

  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  mkdir -p "$work/src/client/native"
  cp binding.gyp "$work/"
  cp src/client/native/*.c src/client/native/*.h "$work/src/client/native/"
  # LINK too: gyp links with $(CXX) by default, and a C-only addon needs no C++ cross compiler.
  if ! (cd "$work" && CC="$cc" LINK="$cc" "$gyp" rebuild --arch="$arch" "${nodedir[@]}") >"$work/log" 2>&1; then
    tail -n 40 "$work/log" >&2
    echo "prebuilds: node-gyp failed for linux-$arch (log above)" >&2
    exit 1
  fi
  bin="$work/build/Release/omnish_relay.node"
  "$strip" --strip-unneeded "$bin"
  # A wrong compiler would still produce a .node: check the ELF header's e_machine.
  node -e '
    const b = require("fs").readFileSync(process.argv[1]);
    if (b.readUInt32BE(0) !== 0x7f454c46 || b[4] !== 2 || b.readUInt16LE(18) !== Number(process.argv[2])) {
      console.error(`prebuilds: ${process.argv[1]} is not a 64-bit ELF for machine ${process.argv[2]}`);
      process.exit(1);
    }' "$bin" "$machine"

  mkdir -p "$dest/linux-$arch"
  cp "$bin" "$dest/linux-$arch/.$name.$$"
  mv -f "$dest/linux-$arch/.$name.$$" "$dest/linux-$arch/$name"
  # Stale binaries under other names would compete in node-gyp-build's choice.
  find "$dest/linux-$arch" -maxdepth 1 -name '*.node' ! -name "$name" -delete
  glibc="$(readelf -W -V "$bin" | grep -o 'GLIBC_[0-9.]*' | sort -V | tail -n 1 || true)"
  echo "prebuilds: linux-$arch/$name, $(($(stat -c %s "$bin") / 1024)) KiB, needs ${glibc:-no versioned glibc symbol}"
  rm -rf "$work"
  trap - EXIT
done
