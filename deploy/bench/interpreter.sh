#!/usr/bin/env bash
# Inference rows/s on the cnn preset, one run: Java interpreter int8 and float32, DL4J float, TFLite 2.6.2 int8 and
# float32, for 1 and 2 threads, with the ratios (by wall clock and per CPU-second of the scoring threads).
#   deploy/bench/interpreter.sh [bench-interpreter options]     e.g. --rows 2000 --repeat 3 --threads 1,2
#   --litert adds LiteRT (npm @litertjs/core, XNNPACK wasm under Node, 1 thread) on the same .tflite files and rows:
#   Java images/s per thread / LiteRT and top-1 agreement (deploy/bench/litert/README.md; needs node and npm).
#   --profile-ops SECONDS adds where the Java int8 interpreter's time goes on one thread (JFR samples per op).
# The per-call overhead and batch-1 comparison on a small test CNN: InterpreterBenchmark (quant-ops tests).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}" exec "$root/sparkquant" bench-interpreter "$@"
