#!/usr/bin/env bash
# r38 (2026-12-04): an alternative recipe on repeated splits, as the shipped one was (r34-r37). r14's progressive
# resizing (24 epochs at 96 px, 12 at 128 px, mean of the last 10 epochs' weights; 55 min on split seed 0) on split
# seed 1, paired image by image with r34 (the shipped recipe on the same split). r39: the same on split seed 2 (r35).
# From the repository root: nohup bash training/recipes/r38.sh > runs/r38.log 2>&1 &
source "$(dirname "$0")/common.sh"
train_run r38_r14_recipe_split1 "${R14_SCHEDULE[@]}" --seed 0 --split-seed 1
