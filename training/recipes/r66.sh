#!/usr/bin/env bash
# r66 (2026-12-06; NOT RUN: r65 failed its condition for more draws): r65 (r60 with lesion-guided pooling,
# --mask-pooling) with training seed 1; r61 is the same command without mask pooling. Runs only if r65 meets its
# condition for more draws (BUSI test accuracy >= 0.760 and BUS-BRA held-out accuracy >= 0.827). Why: one draw of
# mask pooling is inside the seed-to-seed spread (r60-r62 at seeds 0-2: BUSI 0.719-0.771), so it is read over two
# seeds, each paired with its draw without mask pooling. Criterion, written before any r65 or r66 result is seen:
# replace r60 only if the whole command takes <= 60 minutes on this host and, paired with r60 on the split of record
# (bash training/recipes/eval.sh r66_r14_recipe_aug05_seg2_maskpool_seed1_split0), it is at least as good on every
# headline: BUSI test accuracy >= 0.771, BUS-BRA held-out accuracy >= 0.827, cancers found on both test sets
# together >= 105 (20 + 85), ROC-AUC >= r60's minus 0.01 on both (0.898, 0.866), and neither paired McNemar test
# significant (p < 0.05) in r60's favour. Mask pooling becomes the recipe to build on only if its two draws (r65,
# r66) average, against the same seeds without it (r60, r61), BUSI test accuracy >= 0.745, BUS-BRA held-out accuracy
# >= 0.8295 and at least 103 cancers found on both test sets together (their means).
# From the repository root: nohup bash training/recipes/r66.sh > runs/r66.log 2>&1 &
source "$(dirname "$0")/common.sh"
train_run r66_r14_recipe_aug05_seg2_maskpool_seed1_split0 "${R14_SCHEDULE[@]}" --seed 1 --split-seed 0 --augment 0.5 \
  --seg-weight 2.0 --mask-pooling
