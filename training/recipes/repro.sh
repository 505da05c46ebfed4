#!/usr/bin/env bash
# Does the shipped recipe's command give the same weights twice? Its flags (common.sh) cut to 2 epochs (1 at 96 px,
# 1 at 128 px, both averaged), trained twice in separate processes by bench/reproducibility.py, which compares the
# two runs' kept weights tensor by tensor and writes bench/out/reproducibility.json.
# 2026-12-05: after augmentation was made to run one batch at a time (training.train.map_in_order).
# Usage: nohup bash training/recipes/repro.sh > runs/repro.log 2>&1 &
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
echo "start $(date -u +%FT%TZ)"
"$PY" -m bench.reproducibility --out runs/repro -- "${R5_FLAGS[@]}" --image-size 128 --epochs 2 \
  --average-last-epochs 2 --progressive-size 96 --progressive-epochs 1
echo "end $(date -u +%FT%TZ)"
