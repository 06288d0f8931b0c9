#!/usr/bin/env bash
# Runs bench.mjs (LiteRT images/s, see README.md), installing the pinned @litertjs/core first when node_modules is
# missing. Needs node (>= 18) and npm on PATH; bench-interpreter --litert calls this.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [[ ! -f "$here/node_modules/@litertjs/core/package.json" ]]; then
  echo "litert.sh: installing @litertjs/core (npm ci in $here) ..." >&2
  (cd "$here" && npm ci --no-audit --no-fund) >&2
fi
# LITERT_NODE_FLAGS: extra node/V8 flags, e.g. --experimental-wasm-relaxed-simd (not allowed in NODE_OPTIONS)
# shellcheck disable=SC2086
exec node ${LITERT_NODE_FLAGS:-} "$here/bench.mjs" "$@"
