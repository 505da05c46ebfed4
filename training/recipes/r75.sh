#!/usr/bin/env bash
# r75 (2026-12-07): r74 (r60's command with --weight-decay 0.1) on split seed 1, the second pair of r74's condition
# (paired with runs/r67_r60_recipe_split1); condition in r74.sh, written before either result is seen.
# From the repository root: nohup bash training/recipes/r75.sh > runs/r75.log 2>&1 &
source "$(dirname "$0")/common.sh"
train_run r75_r60_recipe_wd01_split1 "${R14_SCHEDULE[@]}" --seed 0 --split-seed 1 --augment 0.5 \
  --seg-weight 2.0 --weight-decay 0.1
