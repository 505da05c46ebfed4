#!/usr/bin/env bash
# r35 (2026-12-04): the shipped recipe (assets/MODEL_CARD.md, r5 with today's one-command class offsets) on another
# group-aware split of BUSI and BUS-BRA (--split-seed 2, same initialisation seed 0): split-to-split spread of the
# held-out figures, with r34 (split seed 1) and r5 (split seed 0).
# From the repository root: nohup bash training/recipes/r35.sh > runs/r35.log 2>&1 &
source "$(dirname "$0")/common.sh"
train_run r35_r5_recipe_split2 --image-size 128 --epochs 30 --seed 0 --split-seed 2
