#!/usr/bin/env bash
# r73 (2026-12-06): r72 (r60's command with --recompute-batchnorm --swa-learning-rate 0.2) on split seed 1, the
# second pair of r72's condition (paired with runs/bn/r67_r60_recipe_split1, the recomputed r67); condition in
# r72.sh, written before either result is seen. Scoring: `python -m training.paired_change
# runs/bn/r67_r60_recipe_split1/model.onnx runs/r73_r60_recipe_swa02_split1/model.onnx`.
# From the repository root: nohup bash training/recipes/r73.sh > runs/r73.log 2>&1 &
source "$(dirname "$0")/common.sh"
train_run r73_r60_recipe_swa02_split1 "${R14_SCHEDULE[@]}" --seed 0 --split-seed 1 --augment 0.5 \
  --seg-weight 2.0 --recompute-batchnorm --swa-learning-rate 0.2
