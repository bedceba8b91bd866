#!/usr/bin/env bash
# Builds the native relay addon (binding.gyp -> build/Release/omnish_relay.node) from source with
# node-gyp, as part of `npm run build`. The addon is optional: without a compiler, or when the build
# fails, this prints ONE warning line and exits 0, and omnish uses the prebuilt addon from prebuilds/
# if there is one for this platform, else the node-pty relay. Under CI (CI set, not "false"/"0") a
# failed build prints node-gyp's log and exits 1, so a broken C file cannot pass CI unnoticed.
# Offline: the headers come from the running Node's own include/node when it has them.
set -uo pipefail
cd "$(dirname "$0")/.."
out=build/Release/omnish_relay.node
log=build/native-build.log
rm -f "$log"  # a log from an earlier run would be shown as this run's
in_ci() { [ -n "${CI:-}" ] && [ "${CI:-}" != "false" ] && [ "${CI:-}" != "0" ]; }

# $1: why. Leaves no binary behind: a stale or broken build/Release would shadow a working prebuild
# (node-gyp-build prefers build/Release).
fail() {
  rm -f "$out"
  if in_ci; then
    [ -f "$log" ] && tail -n 40 "$log" >&2
    echo "build-native: $1 (CI: a failed native build fails the build)" >&2
    exit 1
  fi
  echo "omnish: native relay not built ($1); using the prebuilt addon if one fits, else the slower node-pty relay" >&2
  exit 0
}

gyp=node_modules/.bin/node-gyp
[ -x "$gyp" ] || fail "node-gyp is not installed: run npm ci"
for tool in "${CC:-cc}" make python3; do
  command -v "$tool" >/dev/null 2>&1 || fail "no $tool on PATH; scripts/install-test-deps.sh installs the tools"
done

# npm's nodedir setting wins (node-gyp reads npm_config_nodedir); else the headers that came with
# this Node, so node-gyp never tries to download them.
args=(rebuild)
node_prefix="$(dirname "$(dirname "$(node -p process.execPath)")")"
if [ -z "${npm_config_nodedir:-}" ] && [ -f "$node_prefix/include/node/node_api.h" ]; then
  args+=("--nodedir=$node_prefix")
fi

# rebuild = clean + configure + build (about 1.5 s): never an incremental build over a stale config.
# The log is written outside build/, which the clean step removes.
tmp_log="$(mktemp)"
"$gyp" "${args[@]}" >"$tmp_log" 2>&1
gyp_status=$?
mkdir -p build && mv "$tmp_log" "$log"
if [ $gyp_status -ne 0 ]; then
  # The compiler's first error says most; else node-gyp's own (make failed, no headers, ...).
  first="$(grep -m1 -E 'error: ' "$log" || grep -m1 -E 'gyp ERR! (stack )?[A-Z]' "$log")"
  fail "node-gyp failed: $(echo "${first#gyp ERR! stack }" | cut -c1-160); see $log"
fi
# A shared object links with undefined symbols and fails only when loaded: load it once.
load_error="$(node -e '
  try { process.dlopen({ exports: {} }, require("path").resolve(process.argv[1])); }
  catch (err) { console.log(String(err.message).split("\n")[0]); process.exit(1); }' "$out" 2>&1)" \
  || fail "the built addon does not load: ${load_error:0:160}"
