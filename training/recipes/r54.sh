#!/usr/bin/env bash
# r54 (2026-12-05; criterion failed: BUSI test 0.729, BUS-BRA held-out 0.760, 18 + 83 cancers found,
# training/RESULTS.md): r40 (the shipped recipe on the split of record) with each BUSI training image weighted 2x in
# the loss against a BUS-BRA one (--primary-weight 2; class weights re-balanced over the weighted counts, so each
# class keeps the same total weight). Why: the targets are measured on BUSI, but BUSI is 445 of the 1,945 joint
# training images (23 % of the gradient); joint training helped BUSI over BUSI alone (r1 0.677 vs r5 0.708), yet no
# run has tried a mix between the two. Weighting costs no time (same steps as r40); at 2x BUSI carries 37 % of the
# weight. Criterion, written before any r54 result is seen: replace r40 only if, paired with it on the split of record
# (bash training/recipes/eval.sh r54_r14_recipe_busi2x_split0), it is at least as good on every headline: BUSI test
# accuracy >= 0.771, BUS-BRA held-out accuracy >= 0.781, cancers found on both test sets together >= 105 (19 + 86),
# ROC-AUC >= r40's minus 0.01 on both, and neither paired McNemar test significant (p < 0.05) in r40's favour. A
# recipe signal (to follow with more seeds) needs BUSI test accuracy above 0.784, two standard deviations above the
# shipped recipe's draws on this split (0.722 +- 0.031).
# From the repository root: nohup bash training/recipes/r54.sh > runs/r54.log 2>&1 &
source "$(dirname "$0")/common.sh"
train_run r54_r14_recipe_busi2x_split0 "${R14_SCHEDULE[@]}" --seed 0 --split-seed 0 --primary-weight 2
