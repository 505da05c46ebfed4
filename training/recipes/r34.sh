#!/usr/bin/env bash
# r34 (2026-12-04): the shipped recipe (assets/MODEL_CARD.md, r5 with today's one-command class offsets) on another
# group-aware split of BUSI and BUS-BRA (--split-seed 1, same initialisation seed 0): split-to-split spread of the
# held-out figures, with r35 (split seed 2) and r5 (split seed 0).
# From the repository root: nohup bash training/recipes/r34.sh > runs/r34.log 2>&1 &
source "$(dirname "$0")/common.sh"
train_run r34_r5_recipe_split1 --image-size 128 --epochs 30 --seed 0 --split-seed 1
