#!/usr/bin/env bash
# r68 (2026-12-06; BUSI test 0.781, BUS-BRA held-out 0.843 on its own split; the condition in r67.sh holds,
# training/RESULTS.md): r67 (the shipped recipe, r60's flags) on split seed 2, the split of r35 and r39; condition
# and scoring in r67.sh, written before either result is seen.
# From the repository root: nohup bash training/recipes/r68.sh > runs/r68.log 2>&1 &
source "$(dirname "$0")/common.sh"
train_run r68_r60_recipe_split2 "${R14_SCHEDULE[@]}" --seed 0 --split-seed 2 --augment 0.5 --seg-weight 2.0
