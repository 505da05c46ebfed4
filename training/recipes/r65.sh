#!/usr/bin/env bash
# r65 (2026-12-06; criterion failed: BUSI 0.729, BUS-BRA 0.813, 19 + 84 cancers; not shipped, no more draws): r60
# (half augmentation, lesion-mask loss 2.0, training seed 0, split of record, 128 px) with lesion-guided pooling
# (--mask-pooling): the classifier sees, beside the mean of DenseNet's /32 features, the mean of the same features
# weighted by the lesion mask the network predicts (no gradient into the mask), so the two differ in that alone.
# Why: the mask loss moved cancers found on other scanners (r57-r63) but the classifier still reads one average over
# the whole frame, where a small lesion is a few of 16 positions among shadows, text and callipers; the mask head
# already knows where the lesion is. The classifier is linear, so the heat map stays an exact CAM. Costs one 1024x3
# kernel more (no measurable time). Criterion, written before any r65 result is seen (and before r64's): replace r60
# only if the whole command takes <= 60 minutes on this host and, paired with r60 on the split of record (bash
# training/recipes/eval.sh r65_r14_recipe_aug05_seg2_maskpool_split0), it is at least as good on every headline:
# BUSI test accuracy >= 0.771, BUS-BRA held-out accuracy >= 0.827, cancers found on both test sets together >= 105
# (20 + 85), ROC-AUC >= r60's minus 0.01 on both (0.898, 0.866), and neither paired McNemar test significant (p <
# 0.05) in r60's favour. Mask pooling earns more draws only if it reaches BUSI test accuracy >= 0.760 and BUS-BRA
# held-out accuracy >= 0.827.
# From the repository root: nohup bash training/recipes/r65.sh > runs/r65.log 2>&1 &
source "$(dirname "$0")/common.sh"
train_run r65_r14_recipe_aug05_seg2_maskpool_split0 "${R14_SCHEDULE[@]}" --seed 0 --split-seed 0 --augment 0.5 \
  --seg-weight 2.0 --mask-pooling
