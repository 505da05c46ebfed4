#!/usr/bin/env bash
# r40 (2026-12-04): r38 (r14's progressive-resizing recipe) on the split of record (split seed 0); shipped as
# assets/model.onnx since. It was paired with the r5 file it replaced on the same BUSI and BUS-BRA test images; to
# pair again: git show d2c43c4:assets/model.onnx > /tmp/r5.onnx, then python bench/paired_models.py --old /tmp/r5.onnx
# --new runs/r40_r14_recipe_split0/model.onnx --data ../shared/data/busi --split training/splits/busi_seed0.csv
# From the repository root: nohup bash training/recipes/r40.sh > runs/r40.log 2>&1 &
source "$(dirname "$0")/common.sh"
train_run r40_r14_recipe_split0 "${R14_SCHEDULE[@]}" --seed 0 --split-seed 0
