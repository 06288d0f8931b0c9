#!/usr/bin/env bash
# Java interpreter vs the TFLite 2.6.2 runtime on the same int8 CNN and inputs, one thread: images/s and ratio.
#   deploy/bench/interpreter.sh [IMAGES]        (default 1000)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
cp_file=quant-ops/target/test-classpath.txt
mvn -q -B -pl quant-ops test-compile dependency:build-classpath -Dmdep.outputFile="$root/$cp_file" \
  -Dmdep.includeScope=test >&2
exec java -Xmx2g -Dorg.bytedeco.javacpp.cachedir="${SPARKQUANT_JAVACPP_CACHE:-$HOME/.javacpp/sparkquant}" \
  -cp "quant-ops/target/test-classes:quant-ops/target/classes:$(cat "$cp_file")" \
  io.sparkquant.ops.interp.InterpreterBenchmark "${1:-1000}"
