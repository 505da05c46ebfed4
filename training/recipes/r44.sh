#!/usr/bin/env bash
# r44 (prepared 2026-12-05; stopped in its first epoch and not scored: r43 showed no gain on the unseen scanner, so
# the criterion below fails at its first condition): r40 (the shipped recipe on the split of record) with scanner-like
# augmentation (--ultrasound-augment 1.0), the candidate to replace assets/model.onnx if that augmentation helps the
# shipped recipe on a scanner it never saw (r43 against r42). Criterion, written before any r44 result is seen:
# replace r40 only if, paired with it on the split of record (bash training/recipes/eval.sh r44_r14_recipe_usaug_split0),
# BUSI test accuracy >= 0.74 and BUS-BRA held-out accuracy >= 0.765 (r40: 0.771 and 0.781, minus about the spread
# of r40's recipe between seeds), ROC-AUC >= r40's minus 0.02 on both, and cancers found on both test sets together
# >= 102 (r40: 19 + 86 = 105), with neither paired McNemar test significant (p < 0.05) in r40's favour.
# From the repository root: nohup bash training/recipes/r44.sh > runs/r44.log 2>&1 &
source "$(dirname "$0")/common.sh"
train_run r44_r14_recipe_usaug_split0 "${R14_SCHEDULE[@]}" --ultrasound-augment 1.0 --seed 0 --split-seed 0
