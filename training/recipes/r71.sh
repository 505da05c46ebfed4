#!/usr/bin/env bash
# r71 (2026-12-06): r67 (the shipped recipe, r60's flags) on split seed 4, a fifth split for the spread; afterwards
# `python -m training export --checkpoint runs/r71_r60_recipe_split4/checkpoint.weights.h5 --out
# runs/bn/r71_r60_recipe_split4/model.onnx --recompute-batchnorm` adds a seventh before/after pair to bn_refresh. No
# shipping criterion (its held-out images differ from r60's) and no condition: it only widens both measurements;
# written before its result is seen. Scoring as in r67.sh (BUSI and BUS-BRA held-out figures in its metrics.json).
# From the repository root: nohup bash training/recipes/r71.sh > runs/r71.log 2>&1 &
source "$(dirname "$0")/common.sh"
train_run r71_r60_recipe_split4 "${R14_SCHEDULE[@]}" --seed 0 --split-seed 4 --augment 0.5 --seg-weight 2.0
