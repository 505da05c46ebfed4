#!/usr/bin/env bash
# r48 (2026-12-05; not shipped: BUSI test 0.698 < 0.771 and 93 < 105 cancers found; BUS-BRA held-out 0.805,
# training/RESULTS.md): r46 with a quarter of the shipped augmentation (--augment 0.25), training seed 0, split of
# record. Why: halving the augmentation gave two draws above the shipped recipe on BUS-BRA held-out patients (r46
# 0.805, r47 0.803 vs 0.773 +- 0.014 over six draws of the shipped recipe; ROC-AUC 0.864 / 0.860 vs r40's 0.848) while
# BUSI test accuracy stayed inside its spread (0.740, 0.729 vs 0.722 +- 0.031), and both still fit their clean
# training images short of 100 %. This asks whether less augmentation still helps (a dose-response step), at the cost
# of a third r46 seed. Criterion, written before any r48 result is seen: replace r40 only if, paired with it on the
# split of record (bash training/recipes/eval.sh r48_r14_recipe_aug025_split0), it is at least as good on every
# headline: BUSI test accuracy >= 0.771, BUS-BRA held-out accuracy >= 0.781, cancers found on both test sets together
# >= 105 (19 + 86), ROC-AUC >= r40's minus 0.01 on both, and neither paired McNemar test significant (p < 0.05) in
# r40's favour. Weaker augmentation keeps helping if BUS-BRA held-out accuracy is above 0.801 and BUSI test accuracy
# is at least 0.729 (the lower of r46 and r47); it has gone too far if BUS-BRA falls to 0.773 or below.
# From the repository root: nohup bash training/recipes/r48.sh > runs/r48.log 2>&1 &
source "$(dirname "$0")/common.sh"
train_run r48_r14_recipe_aug025_split0 "${R14_SCHEDULE[@]}" --seed 0 --split-seed 0 --augment 0.25
