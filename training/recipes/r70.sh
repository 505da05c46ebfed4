#!/usr/bin/env bash
# r70 (2026-12-06): r60's command (the shipped model's) with --recompute-batchnorm, on the same split and seed. Two
# checks, no quality condition (bn_refresh.sh has the condition on the recompute itself): (1) the 36-epoch run
# repeats: every tensor of its checkpoint but the BatchNorm moving statistics is byte-identical to r60's (r60's own
# run had not been repeated); (2) the training path of the flag gives the model the re-export path gave: its outputs
# equal runs/bn/r60_r14_recipe_aug05_seg2_split0/model.onnx's (bench.reproducibility's comparisons). Its wall time
# is the shipped command's with the recompute.
# From the repository root: nohup bash training/recipes/r70.sh > runs/r70.log 2>&1 &
source "$(dirname "$0")/common.sh"
train_run r70_r60_recipe_bnrefresh "${R14_SCHEDULE[@]}" --seed 0 --split-seed 0 --augment 0.5 --seg-weight 2.0 \
  --recompute-batchnorm
