#!/usr/bin/env bash
# r29 (2026-12-03): r8 (r5 with 27 epochs, mean of the last 9) with scanner-like augmentation. Run from the
# repository root:
#   nohup bash training/recipes/r29.sh > runs/r29.log 2>&1 &
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PY:-.venv/bin/python}
out=runs/r29_joint128_seg_bf16_avg9_usaug
echo "start $(date -u +%FT%TZ)"
"$PY" -m training train --data ../shared/data/busi --masks ../shared/data/busi_masks \
  --groups ../shared/data/busi/DUPLICATES.tsv --extra-data ../shared/data/busbra --weights none --image-size 128 \
  --frozen-epochs 0 --learning-rate 1e-3 --weight-decay 0.01 --batch-size 16 --seg-head --flip-tta \
  --mixed-precision --seed 0 --patience 0 --epochs 27 --average-last-epochs 9 --ultrasound-augment 1.0 \
  --out "$out"
echo "end $(date -u +%FT%TZ)"
