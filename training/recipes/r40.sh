#!/usr/bin/env bash
# r40 (2026-12-04): r38 (r14's progressive-resizing recipe) on the split of record (split seed 0), the candidate to
# replace the shipped model: paired with assets/model.onnx on the same BUSI and BUS-BRA test images.
# From the repository root: nohup bash training/recipes/r40.sh > runs/r40.log 2>&1 &
source "$(dirname "$0")/common.sh"
train_run r40_r14_recipe_split0 "${R14_SCHEDULE[@]}" --seed 0 --split-seed 0
