#!/usr/bin/env bash
# r39 (2026-12-04): r38 (r14's progressive-resizing recipe) on split seed 2, paired with r35 (the shipped recipe on
# the same split).
# From the repository root: nohup bash training/recipes/r39.sh > runs/r39.log 2>&1 &
source "$(dirname "$0")/common.sh"
train_run r39_r14_recipe_split2 "${R14_SCHEDULE[@]}" --seed 0 --split-seed 2
