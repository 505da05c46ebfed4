#!/usr/bin/env bash
# r69 (2026-12-06; BUSI test 0.812, BUS-BRA held-out 0.808 on its own split; four-split spread in
# training/RESULTS.md): r67 (the shipped recipe, r60's flags) on split seed 3, the split of r36 (r5's recipe), so
# the shipped recipe's split-to-split spread is read over four splits. No shipping criterion (its held-out images
# differ from r60's) and no condition: it only widens the spread; written before its result is seen. Scoring as in
# r67.sh.
# From the repository root: nohup bash training/recipes/r69.sh > runs/r69.log 2>&1 &
source "$(dirname "$0")/common.sh"
train_run r69_r60_recipe_split3 "${R14_SCHEDULE[@]}" --seed 0 --split-seed 3 --augment 0.5 --seg-weight 2.0
