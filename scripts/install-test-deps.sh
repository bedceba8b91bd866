#!/usr/bin/env bash
# Installs what the end-to-end tests need and a fresh Debian/Ubuntu machine lacks: the shells
# (zsh, fish), tmux, asciinema, vim and less, a C compiler, make and python3 (node-gyp's build of
# the native addon, the bench's terminal reader), and for the prebuilt addons (scripts/prebuilds.sh,
# test/prebuilds.test.ts) the cross compiler for the other architecture, plus on x64 qemu-user and
# the arm64 C/C++ runtime libraries to run the npm registry's arm64 Node.
# Tests never skip for want of these: a missing one fails loudly instead.
set -euo pipefail
need=()
for cmd in zsh fish tmux asciinema vim less script scriptreplay cc make python3 readelf stty; do
  command -v "$cmd" >/dev/null 2>&1 || need+=("$cmd")
done
case "$(uname -m)" in
  x86_64)
    command -v aarch64-linux-gnu-gcc >/dev/null 2>&1 || need+=(aarch64-linux-gnu-gcc)
    command -v qemu-aarch64-static >/dev/null 2>&1 || command -v qemu-aarch64 >/dev/null 2>&1 || need+=(qemu-aarch64)
    [ -e /usr/aarch64-linux-gnu/lib/libstdc++.so.6 ] || need+=(arm64-libstdc++) ;;
  aarch64)
    command -v x86_64-linux-gnu-gcc >/dev/null 2>&1 || need+=(x86_64-linux-gnu-gcc) ;;
esac
[ ${#need[@]} -eq 0 ] && exit 0
pkgs=()
for cmd in "${need[@]}"; do
  case "$cmd" in
    script|scriptreplay) pkgs+=(bsdutils) ;;
    cc) pkgs+=(gcc libc6-dev) ;;
    readelf) pkgs+=(binutils) ;;
    # The libc headers are only recommended by the cross compiler, and this installs without recommends.
    aarch64-linux-gnu-gcc) pkgs+=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross) ;;
    x86_64-linux-gnu-gcc) pkgs+=(gcc-x86-64-linux-gnu libc6-dev-amd64-cross) ;;
    qemu-aarch64) pkgs+=(qemu-user-static) ;;
    arm64-libstdc++) pkgs+=(libstdc++6-arm64-cross) ;;
    stty) pkgs+=(coreutils) ;;
    *) pkgs+=("$cmd") ;;
  esac
done
echo "install-test-deps: installing ${pkgs[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
