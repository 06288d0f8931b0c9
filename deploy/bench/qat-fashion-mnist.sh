#!/usr/bin/env bash
# What quantization-aware training wins back: one preset on full Fashion-MNIST, post-training int8 with every range
# method against QAT int8 (fine-tuned from the mse table), all scored side by side on the 10k test images.
#   deploy/bench/qat-fashion-mnist.sh                                 (cnn preset, per-channel weights, float I/O)
#   PRESET=micro VARIANT="--per-tensor-weights" deploy/bench/qat-fashion-mnist.sh
# Environment: WORK (output root, default /tmp/sparkquant-qat-$PRESET), PRESET (cnn|micro|mlp, default cnn), MODEL
# (an existing model.zip instead of training one), EPOCHS (training epochs, default 3), TRAIN_ARGS (more train
# options, e.g. "--learning-rate 0.01"), VARIANT (export options applied to every int8 model, PTQ and QAT alike:
# "--per-tensor-weights", "--io int8"), QAT_EPOCHS (default 1), QAT_ARGS (more qat options), DATA, CALIB_ROWS,
# RUNTIME (tflite or java, default tflite), SQ (the launcher).
# Steps whose output already exists are skipped, so a rerun resumes (delete $WORK to start over).
set -euo pipefail

PRESET="${PRESET:-cnn}"
WORK="${WORK:-/tmp/sparkquant-qat-$PRESET}"
EPOCHS="${EPOCHS:-3}"
QAT_EPOCHS="${QAT_EPOCHS:-1}"
VARIANT="${VARIANT:-}"
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
mkdir -p "$WORK/tflite" "$WORK/calib"

convert_fashion_mnist

model="${MODEL:-$WORK/$PRESET/model.zip}"
# shellcheck disable=SC2086 # TRAIN_ARGS, VARIANT and QAT_ARGS are meant to split
[[ -f "$model" ]] || { step "train $PRESET, $EPOCHS epochs"; timed "$SQ" train --data "$WORK/fm-train" \
  --validation "$WORK/fm-test" --preset "$PRESET" --epochs "$EPOCHS" ${TRAIN_ARGS:-} --out "$WORK/$PRESET"; }

for m in "${order[@]}"; do
  table="$WORK/calib/$m.json"
  # shellcheck disable=SC2086
  [[ -f "$table" ]] || { step "calibrate $m on $CALIB_ROWS training rows"; timed "$SQ" calibrate \
    --model "$model" --data "$WORK/fm-train" --rows "$CALIB_ROWS" ${methods[$m]} --out "$table"; }
  # shellcheck disable=SC2086
  [[ -f "$WORK/tflite/ptq-$m.tflite" ]] || { step "quantize int8 ($m) $VARIANT"; "$SQ" quantize --model "$model" \
    --mode int8 --calibration "$table" $VARIANT --out "$WORK/tflite/ptq-$m.tflite"; }
done
for mode in float32 dynamic; do
  [[ -f "$WORK/tflite/$mode.tflite" ]] || { step "quantize $mode"; "$SQ" quantize --model "$model" \
    --mode "$mode" --out "$WORK/tflite/$mode.tflite"; }
done

# shellcheck disable=SC2086
[[ -f "$WORK/qat/model-int8.tflite" ]] || { step "qat, $QAT_EPOCHS epoch(s) from the mse table $VARIANT"; timed "$SQ" \
  qat --model "$model" --data "$WORK/fm-train" --validation "$WORK/fm-test" --calibration "$WORK/calib/mse.json" \
  --epochs "$QAT_EPOCHS" $VARIANT ${QAT_ARGS:-} --out "$WORK/qat"; }

models=(--model "$model" --model "$WORK/tflite/float32.tflite" --model "$WORK/tflite/dynamic.tflite")
for m in "${order[@]}"; do models+=(--model "$WORK/tflite/ptq-$m.tflite"); done
models+=(--model "$WORK/qat/model-int8.tflite")
[[ -f "$WORK/eval/metrics.json" ]] || { step "evaluate $(( ${#models[@]} / 2 )) models side by side on the test set \
($RUNTIME runtime)"; timed "$SQ" evaluate "${models[@]}" --runtime "$RUNTIME" --data "$WORK/fm-test" \
  --out "$WORK/eval"; }

python3 - "$WORK/eval/metrics.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
rows = m["models"]
ref = rows[0]["metrics"]["accuracy"]
print(f"{'model':<22} {'top-1 %':>8} {'delta pt':>9} {'agree %':>8} {'bytes':>9}")
for r in rows:
    a = r["metrics"]["accuracy"]
    print(f"{r['key']:<22} {a*100:8.2f} {(a-ref)*100:+9.2f} {r['agreementWithReference']['top1']*100:8.2f} {r['sizeBytes']:9d}")
ptq = [r for r in rows if r["key"].startswith("ptq")]
best = max(ptq, key=lambda r: r["metrics"]["accuracy"])
qat = rows[-1]["metrics"]["accuracy"]
loss = ref - best["metrics"]["accuracy"]
print(f"best PTQ: {best['key']} loses {loss*100:.2f} pt; QAT int8 {qat*100:.2f} % ({(qat-ref)*100:+.2f} pt vs float)")
if loss > 0:
    print(f"QAT recovers {(qat - best['metrics']['accuracy']) / loss * 100:.0f} % of the best PTQ loss")
PY
