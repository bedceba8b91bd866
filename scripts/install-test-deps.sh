#!/usr/bin/env bash
# Installs what the end-to-end tests need and a fresh Debian/Ubuntu machine lacks: the shells
# (zsh, fish), tmux, asciinema, vim and less, and the build tools node-pty compiles with.
# Tests never skip for want of these: a missing one fails loudly instead.
set -euo pipefail
need=()
for cmd in zsh fish tmux asciinema vim less script scriptreplay make g++ python3 stty; do
  command -v "$cmd" >/dev/null 2>&1 || need+=("$cmd")
done
[ ${#need[@]} -eq 0 ] && exit 0
pkgs=()
for cmd in "${need[@]}"; do
  case "$cmd" in
    script|scriptreplay) pkgs+=(bsdutils) ;;
    g++) pkgs+=(g++) ;;
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
