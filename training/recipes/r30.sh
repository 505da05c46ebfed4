#!/usr/bin/env bash
# r30 (2026-12-03): r29 (r8 + scanner-like augmentation) with every Toshiba Aplio 300 patient held out of training,
# i.e. r11's leave-one-scanner-out question asked of the augmentation. Run from the repository root:
#   nohup bash training/recipes/r30.sh > runs/r30.log 2>&1 &
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PY:-.venv/bin/python}
out=runs/r30_joint128_seg_bf16_avg9_usaug_no_toshiba
echo "start $(date -u +%FT%TZ)"
"$PY" -m training train --data ../shared/data/busi --masks ../shared/data/busi_masks \
  --groups ../shared/data/busi/DUPLICATES.tsv --extra-data ../shared/data/busbra --weights none --image-size 128 \
  --frozen-epochs 0 --learning-rate 1e-3 --weight-decay 0.01 --batch-size 16 --seg-head --flip-tta \
  --mixed-precision --seed 0 --patience 0 --epochs 27 --average-last-epochs 9 --ultrasound-augment 1.0 \
  --hold-out-device Toshiba --out "$out"
echo "end $(date -u +%FT%TZ)"
