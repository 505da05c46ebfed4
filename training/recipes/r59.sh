#!/usr/bin/env bash
# r59 (2026-12-06; criterion failed at cancers found, 21 + 83 < 105; BUSI 0.771, BUS-BRA 0.832; the three-seed bar is
# met, training/RESULTS.md): r57 (half augmentation, lesion-mask loss weighted 1.0) with training seed 2, split of
# record, the third draw after r57 and r58; r49 is the same command at weight 0.5. Why: the weight is read over three
# seeds, each paired with its weight-0.5 draw. Criterion, written before any r59 result is seen: replace r40 only if,
# paired with it on the split of record (bash training/recipes/eval.sh r59_r14_recipe_aug05_seg1_seed2_split0), it is
# at least as good on every headline: BUSI test accuracy >= 0.771, BUS-BRA held-out accuracy >= 0.781, cancers found
# on both test sets together >= 105 (19 + 86), ROC-AUC >= r40's minus 0.01 on both, and neither paired McNemar test
# significant (p < 0.05) in r40's favour. The heavier mask loss becomes the recipe to build on only if its three draws
# (r57, r58, r59: training seeds 0, 1, 2) average, against the same seeds at weight 0.5 (r46, r47, r49), BUSI test
# accuracy >= 0.750, BUS-BRA held-out accuracy above 0.800, and at least 97.3 cancers found on both test sets together
# (their means).
# From the repository root: nohup bash training/recipes/r59.sh > runs/r59.log 2>&1 &
source "$(dirname "$0")/common.sh"
train_run r59_r14_recipe_aug05_seg1_seed2_split0 "${R14_SCHEDULE[@]}" --seed 2 --split-seed 0 --augment 0.5 --seg-weight 1.0
