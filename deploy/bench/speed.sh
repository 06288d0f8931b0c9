#!/usr/bin/env bash
# Issue 14's speed figures in one command, on the cnn preset and the same cores: bench-interpreter (inference rows/s
# of the Java interpreter int8 and float32, DL4J float, TFLite 2.6.2 int8 and float32, on 1 and 2 threads), then
# bench-calibrate (calibration, Java float32 inference, DL4J float inference and int8 evaluation on the executors,
# local[1] and local[2], and the peak live heap while calibrating N vs 10 N rows). With node on the PATH,
# bench-interpreter also runs LiteRT (npm @litertjs/core, XNNPACK, one thread) on the same .tflite files. The issue's lines are repeated
# at the end under "issue 14 figures".
#   deploy/bench/speed.sh                  (run it on an otherwise idle machine: the load average is printed)
# Environment: REPEAT (rounds, the fastest run of each kind counts; default 5: this VM has slow spells of minutes in
# which a core does 10-15 % less work per CPU-second, and with 3 rounds one of them often held every session of one
# master and kind, moving a speed-up by 0.1-0.2x), INTERPRETER_ROWS (test images per
# bench-interpreter run, default 2000), CALIBRATE_ROWS (rows per bench-calibrate run, default 10000: the
# Fashion-MNIST test set, which the issue's evaluation figures score; a fit's fixed driver and scheduling cost, about
# 40-60 ms, is then 3-4 % of a local[2] run), SQ (the launcher, default ./sparkquant of this checkout).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
REPEAT="${REPEAT:-5}"
INTERPRETER_ROWS="${INTERPRETER_ROWS:-2000}"
CALIBRATE_ROWS="${CALIBRATE_ROWS:-10000}"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}" # one ND4J thread per task or scoring thread
log="$(mktemp -t sparkquant-speed.XXXXXX)"

step "load average $(cut -d' ' -f1-3 /proc/loadavg), $(getconf _NPROCESSORS_ONLN) cores"
step "bench-interpreter --preset cnn"
litert=()
if command -v node >/dev/null; then
  litert=(--litert) # LiteRT (XNNPACK, WebAssembly) on the same files; deploy/bench/litert installs it on first use
fi
"$SQ" bench-interpreter --preset cnn --rows "$INTERPRETER_ROWS" --repeat "$REPEAT" "${litert[@]}" | tee "$log"
step "bench-calibrate --preset cnn"
"$SQ" bench-calibrate --preset cnn --rows "$CALIBRATE_ROWS" --repeat "$REPEAT" | tee -a "$log"
step "load average $(cut -d' ' -f1-3 /proc/loadavg)"

echo "== issue 14 figures (goals: int8/DL4J >= 3.0, float32/DL4J >= 1.5, calibration/Java float >= 0.9, speed-ups >= 1.8x)"
grep -E "^2 threads, rows/s|^  ratios by wall clock|^  litert|^  the same per CPU-second|^  top-1 agreement, litert|: calibration / java float32|: the JVM used|^speed-up local.*(calibration|java int8)|^machine ceiling|: the machine between|peak live heap|^  (driver|executor [0-9]+): " \
  "$log" || true
rm -f "$log"
