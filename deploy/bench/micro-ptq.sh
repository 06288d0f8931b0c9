#!/usr/bin/env bash
# Where post-training quantization gets hard: the micro preset (depthwise-separable, 15k parameters) on full
# Fashion-MNIST, calibrated with every range method and exported to int8 with per-channel or per-tensor
# conv/depthwise weights and with float or int8 model I/O; all models scored side by side on the 10k test images.
#   deploy/bench/micro-ptq.sh            (outputs under $WORK, default /tmp/sparkquant-micro)
# Environment: WORK (output root), DATA (IDX directory, default /usr/share/datasets/fashion-mnist),
# EPOCHS (default 4), SEED (training seed, default 42), CALIB_ROWS (rows per calibration, default 5000),
# RUNTIME (what scores the .tflite models: tflite or java, default tflite), SQ (the launcher, default
# ./sparkquant of this checkout).
# Steps whose output already exists are skipped, so a rerun resumes (delete $WORK to start over).
# The tables are printed at the end from $WORK/eval/metrics.json and the two layer reports.
set -euo pipefail

WORK="${WORK:-/tmp/sparkquant-micro}"
EPOCHS="${EPOCHS:-4}"
SEED="${SEED:-42}"
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
mkdir -p "$WORK/tflite" "$WORK/calib"

convert_fashion_mnist

model="$WORK/micro/model.zip"
[[ -f "$model" ]] || { step "train micro, $EPOCHS epochs"; timed "$SQ" train --data "$WORK/fm-train" \
  --validation "$WORK/fm-test" --preset micro --epochs "$EPOCHS" --seed "$SEED" --out "$WORK/micro"; }

# variant label -> quantize arguments: conv/depthwise weight scales (pc = per channel, pt = per tensor), model I/O
declare -A variants=(
  [pc-fio]=""
  [pt-fio]="--per-tensor-weights"
  [pc-i8io]="--io int8"
  [pt-i8io]="--per-tensor-weights --io int8")
vorder=(pc-fio pt-fio pc-i8io pt-i8io)

for m in "${order[@]}"; do
  table="$WORK/calib/$m.json"
  # shellcheck disable=SC2086 # the method arguments are meant to split
  [[ -f "$table" ]] || { step "calibrate $m on $CALIB_ROWS training rows"; timed "$SQ" calibrate \
    --model "$model" --data "$WORK/fm-train" --rows "$CALIB_ROWS" ${methods[$m]} --out "$table"; }
  for v in "${vorder[@]}"; do
    out="$WORK/tflite/int8-$m-$v.tflite"
    # shellcheck disable=SC2086
    [[ -f "$out" ]] || { step "quantize int8 ($m, $v)"; "$SQ" quantize --model "$model" --mode int8 \
      --calibration "$table" ${variants[$v]} --out "$out"; }
  done
done
for mode in float32 dynamic; do
  [[ -f "$WORK/tflite/$mode.tflite" ]] || { step "quantize $mode"; "$SQ" quantize --model "$model" \
    --mode "$mode" --out "$WORK/tflite/$mode.tflite"; }
done

models=(--model "$model" --model "$WORK/tflite/float32.tflite" --model "$WORK/tflite/dynamic.tflite")
for m in "${order[@]}"; do
  for v in "${vorder[@]}"; do models+=(--model "$WORK/tflite/int8-$m-$v.tflite"); done
done
[[ -f "$WORK/eval/metrics.json" ]] || { step "evaluate $(( ${#models[@]} / 2 )) models side by side on the test set \
($RUNTIME runtime)"; timed "$SQ" evaluate "${models[@]}" --runtime "$RUNTIME" --data "$WORK/fm-test" \
  --out "$WORK/eval"; }

# Where per-tensor weights lose: per-tensor SQNR against the float32 export, mse tables, per-channel vs per-tensor.
for v in pc pt; do
  [[ -f "$WORK/layers-$v/layer-report.json" ]] || { step "layer-report mse $v"; "$SQ" layer-report \
    --reference "$WORK/tflite/float32.tflite" --quantized "$WORK/tflite/int8-mse-$v-fio.tflite" \
    --data "$WORK/fm-test" --rows 1000 --out "$WORK/layers-$v"; }
done

python3 - "$WORK/eval/metrics.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
ref = m["models"][0]["metrics"]["accuracy"]
print(f"{'model':<28} {'top-1':>7} {'delta pt':>9} {'agree':>7} {'bytes':>9}")
for r in m["models"]:
    a = r["metrics"]["accuracy"]
    print(f"{r['key']:<28} {a*100:7.2f} {(a-ref)*100:+9.2f} {r['agreementWithReference']['top1']*100:7.2f} {r['sizeBytes']:9d}")
PY

python3 - "$WORK/layers-pc/layer-report.json" "$WORK/layers-pt/layer-report.json" <<'PY'
import json, sys
pc, pt = (json.load(open(f))["layers"] for f in sys.argv[1:3])
print(f"{'tensor':<16} {'op':<18} {'SQNR dB per-channel':>20} {'per-tensor':>11}")
for a, b in zip(pc, pt):
    print(f"{a['tensor']:<16} {a['op']:<18} {a['sqnrDb']:20.1f} {b['sqnrDb']:11.1f}")
PY
