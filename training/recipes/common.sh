# Sourced by the run scripts here: the shipped recipe's flags stated once (R5_FLAGS, plus R14_SCHEDULE since r40;
# assets/MODEL_CARD.md), and the wrapper that runs `python -m training train` from the repository root with start
# and end times in the log.
# PY picks the interpreter (default: the dev environment's).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
PY=${PY:-.venv/bin/python}
# Joint BUSI + BUS-BRA training from random init with the lesion-mask head, flip TTA and bfloat16, no early stop.
R5_FLAGS=(--data ../shared/data/busi --masks ../shared/data/busi_masks --groups ../shared/data/busi/DUPLICATES.tsv
  --extra-data ../shared/data/busbra --weights none --frozen-epochs 0 --learning-rate 1e-3 --weight-decay 0.01
  --batch-size 16 --seg-head --flip-tta --mixed-precision --seed 0 --patience 0)
# r14's schedule, the shipped model's since r40 (2026-12-04): 24 epochs at 96 px, then 12 at 128 px (one cosine
# schedule), keeping the mean of the last 10 epochs' weights.
R14_SCHEDULE=(--image-size 128 --epochs 36 --average-last-epochs 10 --progressive-size 96 --progressive-epochs 24)

# train_run OUT FLAG...: train into runs/OUT with the shipped recipe's flags and the given ones.
train_run() {
  local out=$1
  shift
  echo "start $(date -u +%FT%TZ)"
  "$PY" -m training train "${R5_FLAGS[@]}" "$@" --out "runs/$out"
  echo "end $(date -u +%FT%TZ)"
}

# r52/r53's start: masked-image pretraining (25 epochs at 96 px, split of record's training images) into MIM_RUN,
# and the flags that fine-tune from its backbone with BatchNorm learning.
MIM_RUN=runs/p2_mim96x25_split0
MIM_FINE_TUNE=(--weights "$MIM_RUN/backbone.weights.h5" --train-batchnorm)
mim_pretrain() {
  echo "pretrain start $(date -u +%FT%TZ)"
  "$PY" -m training pretrain "${R5_FLAGS[@]}" --image-size 96 --epochs 25 --split-seed 0 --out "$MIM_RUN"
}
