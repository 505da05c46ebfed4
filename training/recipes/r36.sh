#!/usr/bin/env bash
# r36 (2026-12-04): the shipped recipe on group-aware split seed 3 (same initialisation seed 0): with r5 (split seed 0),
# r34 (1) and r35 (2), four Monte Carlo splits for the split-to-split spread of the held-out figures (r37: a shuffled one).
# From the repository root: nohup bash training/recipes/r36.sh > runs/r36.log 2>&1 &
source "$(dirname "$0")/common.sh"
train_run r36_r5_recipe_split3 --image-size 128 --epochs 30 --seed 0 --split-seed 3
