# Shared by the Fashion-MNIST benchmark scripts (sourced, not run): the launcher, the data and output roots, the range
# methods compared, step logging, and the IDX -> Parquet conversion every benchmark starts with. Skips a split already converted.
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
SQ="${SQ:-$root/sparkquant}"
DATA="${DATA:-/usr/share/datasets/fashion-mnist}"
CALIB_ROWS="${CALIB_ROWS:-5000}"
RUNTIME="${RUNTIME:-tflite}"

# Range methods every benchmark compares: label -> calibrate arguments, and their order in the tables.
declare -A methods=(
  [minmax]="--method minmax"
  [percentile9999]="--method percentile --percentile 99.99"
  [percentile999]="--method percentile --percentile 99.9"
  [entropy]="--method entropy"
  [mse]="--method mse")
order=(minmax percentile9999 percentile999 entropy mse)

step() { echo "== $(date -u +%H:%M:%S) $*"; }
timed() { local t0; t0=$(date +%s); "$@"; echo "   ($(( $(date +%s) - t0 )) s)"; }

convert_fashion_mnist() {
  local split
  for split in train test; do
    [[ -d "$WORK/fm-$split" ]] || { step "convert $split"; timed "$SQ" convert --input "$DATA" --format idx \
      --split "$split" --out "$WORK/fm-$split"; }
  done
}
