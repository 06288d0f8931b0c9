#!/usr/bin/env bash
# Full Fashion-MNIST benchmark: train the cnn preset on all 60k training images, calibrate with every range
# method, export dynamic-range and int8 models, and score them all side by side on the 10k test images.
#   deploy/bench/full-fashion-mnist.sh            (outputs under $WORK, default /tmp/sparkquant-full)
# Environment: WORK (output root), DATA (IDX directory, default /usr/share/datasets/fashion-mnist),
# EPOCHS (default 3), CALIB_ROWS (rows per calibration, default 5000), RUNTIME (what scores the .tflite
# models: tflite or java, default tflite), SQ (the launcher, default ./sparkquant of this checkout).
# Steps whose output already exists are skipped, so a rerun resumes (delete $WORK to start over).
# The table is printed at the end from $WORK/eval/metrics.json.
set -euo pipefail

WORK="${WORK:-/tmp/sparkquant-full}"
EPOCHS="${EPOCHS:-3}"
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
mkdir -p "$WORK/tflite"

convert_fashion_mnist

[[ -f "$WORK/cnn/model.zip" ]] || { step "train cnn, $EPOCHS epochs"; timed "$SQ" train --data "$WORK/fm-train" \
  --validation "$WORK/fm-test" --preset cnn --epochs "$EPOCHS" --out "$WORK/cnn"; }


for m in "${order[@]}"; do
  table="$WORK/calib/$m.json"
  # shellcheck disable=SC2086 # the method arguments are meant to split
  [[ -f "$table" ]] || { step "calibrate $m on $CALIB_ROWS training rows"; timed "$SQ" calibrate \
    --model "$WORK/cnn/model.zip" --data "$WORK/fm-train" --rows "$CALIB_ROWS" ${methods[$m]} --out "$table"; }
  [[ -f "$WORK/tflite/int8-$m.tflite" ]] || { step "quantize int8 ($m)"; "$SQ" quantize \
    --model "$WORK/cnn/model.zip" --mode int8 --calibration "$table" --out "$WORK/tflite/int8-$m.tflite"; }
done
[[ -f "$WORK/tflite/dynamic.tflite" ]] || { step "quantize dynamic"; "$SQ" quantize --model "$WORK/cnn/model.zip" \
  --mode dynamic --out "$WORK/tflite/dynamic.tflite"; }
[[ -f "$WORK/tflite/float32.tflite" ]] || { step "quantize float32"; "$SQ" quantize --model "$WORK/cnn/model.zip" \
  --mode float32 --out "$WORK/tflite/float32.tflite"; }

models=(--model "$WORK/cnn/model.zip" --model "$WORK/tflite/float32.tflite" --model "$WORK/tflite/dynamic.tflite")
for m in "${order[@]}"; do models+=(--model "$WORK/tflite/int8-$m.tflite"); done
step "evaluate ${#order[@]}+3 models side by side on the test set ($RUNTIME runtime)"
timed "$SQ" evaluate "${models[@]}" --runtime "$RUNTIME" --data "$WORK/fm-test" --out "$WORK/eval" --overwrite

python3 - "$WORK/eval/metrics.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
ref = m["models"][0]["metrics"]["accuracy"]
print(f"{'model':<22} {'top-1':>7} {'delta pt':>9} {'agree':>7} {'bytes':>9}")
for r in m["models"]:
    a = r["metrics"]["accuracy"]
    print(f"{r['key']:<22} {a*100:7.2f} {(a-ref)*100:+9.2f} {r['agreementWithReference']['top1']*100:7.2f} {r['sizeBytes']:9d}")
PY
