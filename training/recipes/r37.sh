#!/usr/bin/env bash
# r37 (2026-12-04): the shipped recipe on a split that places groups in random order (--split-order shuffled, split
# seed 0): unlike the split of record's largest-first order, BUSI validation and test may hold near-duplicate groups
# and BUS-BRA test patients of two images at their share. Compared with r5, r34, r35 and r36 (split seeds 0-3, size
# order): do the held-out figures depend on which images the size order holds out?
# From the repository root: nohup bash training/recipes/r37.sh > runs/r37.log 2>&1 &
source "$(dirname "$0")/common.sh"
train_run r37_r5_recipe_shuffled_split0 --image-size 128 --epochs 30 --seed 0 --split-seed 0 --split-order shuffled
