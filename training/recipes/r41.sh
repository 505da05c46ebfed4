#!/usr/bin/env bash
# r41 (2026-12-04): a longer schedule for r14's recipe (the shipped model's, r40): 24 epochs at 96 px as before, then
# 20 at 128 px instead of 12 (44 in all, one cosine schedule, mean of the last 10), sized to stay inside 60 minutes
# on the 2-core AVX-512 CPU. On split seed 1, so it pairs with r38 (same recipe, 12 epochs at 128 px) without
# another draw on the split of record.
# From the repository root: nohup bash training/recipes/r41.sh > runs/r41.log 2>&1 &
source "$(dirname "$0")/common.sh"
train_run r41_r14_recipe_e44_split1 "${R14_SCHEDULE[@]}" --epochs 44 --seed 0 --split-seed 1
