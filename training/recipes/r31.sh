#!/usr/bin/env bash
# r31 (2026-12-03): the issue's 224 px input within the hour. r8's recipe (joint BUSI + BUS-BRA, lesion-mask head,
# bfloat16) with progressive resizing: the first 28 of 31 epochs on the training images downscaled to 96 px (r12's
# size, the best on BUS-BRA's scanners), the last 3 at 224 px while the cosine learning rate ends, their weights
# averaged. Run from the repository root:
#   nohup bash training/recipes/r31.sh > runs/r31.log 2>&1 &
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PY:-.venv/bin/python}
out=runs/r31_joint224_prog96x28_seg_bf16_avg3
echo "start $(date -u +%FT%TZ)"
"$PY" -m training train --data ../shared/data/busi --masks ../shared/data/busi_masks \
  --groups ../shared/data/busi/DUPLICATES.tsv --extra-data ../shared/data/busbra --weights none --image-size 224 \
  --frozen-epochs 0 --learning-rate 1e-3 --weight-decay 0.01 --batch-size 16 --seg-head --flip-tta \
  --mixed-precision --seed 0 --patience 0 --epochs 31 --progressive-size 96 --progressive-epochs 28 \
  --average-last-epochs 3 --out "$out"
echo "end $(date -u +%FT%TZ)"
