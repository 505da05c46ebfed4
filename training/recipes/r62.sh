#!/usr/bin/env bash
# r62 (2026-12-06; criterion failed: BUSI 0.750, BUS-BRA 0.821, 19 + 90 cancers; not shipped; the three-seed bar fails
# on BUSI, 0.747 < 0.754, training/RESULTS.md): r60 (half augmentation, lesion-mask loss weighted 2.0, split of
# record) with training seed 2; r59 is the same command at weight 1.0. Why: r60 met its shipping criterion on one
# draw, and the weight is read over three seeds, each paired with its weight-1.0 draw. Criterion, written before any
# r62 result is seen: replace r60 (shipped 2026-12-06) only if, paired with it on the split of record (bash
# training/recipes/eval.sh r62_r14_recipe_aug05_seg2_seed2_split0), it is at least as good on every headline: BUSI
# test accuracy >= 0.771, BUS-BRA held-out accuracy >= 0.827, cancers found on both test sets together >= 105 (20 +
# 85), ROC-AUC >= r60's minus 0.01 on both (0.908, 0.876), and neither paired McNemar test significant (p < 0.05) in
# r60's favour. Weight 2.0 replaces 1.0 as the recipe to build on only if its three draws (r60, r61, r62: training
# seeds 0, 1, 2) average, against the same seeds at weight 1.0 (r57, r58, r59), BUSI test accuracy >= 0.754, BUS-BRA
# held-out accuracy >= 0.823 and at least 99.7 cancers found on both test sets together (their means).
# From the repository root: nohup bash training/recipes/r62.sh > runs/r62.log 2>&1 &
source "$(dirname "$0")/common.sh"
train_run r62_r14_recipe_aug05_seg2_seed2_split0 "${R14_SCHEDULE[@]}" --seed 2 --split-seed 0 --augment 0.5 --seg-weight 2.0
