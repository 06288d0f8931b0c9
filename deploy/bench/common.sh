# Shared by the Fashion-MNIST benchmark scripts (sourced, not run): the launcher, the data and output roots, step
# logging, and the IDX -> Parquet conversion every benchmark starts with. Skips a split already converted.
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
SQ="${SQ:-$root/sparkquant}"
DATA="${DATA:-/usr/share/datasets/fashion-mnist}"
CALIB_ROWS="${CALIB_ROWS:-5000}"
RUNTIME="${RUNTIME:-tflite}"

step() { echo "== $(date -u +%H:%M:%S) $*"; }
timed() { local t0; t0=$(date +%s); "$@"; echo "   ($(( $(date +%s) - t0 )) s)"; }

convert_fashion_mnist() {
  local split
  for split in train test; do
    [[ -d "$WORK/fm-$split" ]] || { step "convert $split"; timed "$SQ" convert --input "$DATA" --format idx \
      --split "$split" --out "$WORK/fm-$split"; }
  done
}
