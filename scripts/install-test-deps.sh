#!/usr/bin/env bash
# Installs what the end-to-end tests need and a fresh Debian/Ubuntu machine lacks: the shells
# (zsh, fish), tmux, asciinema, vim and less, and a C compiler for the bench's terminal reader.
# Tests never skip for want of these: a missing one fails loudly instead.
set -euo pipefail
need=()
for cmd in zsh fish tmux asciinema vim less script scriptreplay cc stty; do
  command -v "$cmd" >/dev/null 2>&1 || need+=("$cmd")
done
[ ${#need[@]} -eq 0 ] && exit 0
pkgs=()
for cmd in "${need[@]}"; do
  case "$cmd" in
    script|scriptreplay) pkgs+=(bsdutils) ;;
    cc) pkgs+=(gcc libc6-dev) ;;
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
