#!/usr/bin/env bash
# r31 (2026-12-03): the issue's 224 px input within the hour. r8's recipe (joint BUSI + BUS-BRA, lesion-mask head,
# bfloat16) with progressive resizing: the first 28 of 31 epochs on the training images downscaled to 96 px (r12's
# size, the best on BUS-BRA's scanners), the last 3 at 224 px while the cosine learning rate ends, their weights
# averaged. From the repository root: nohup bash training/recipes/r31.sh > runs/r31.log 2>&1 &
source "$(dirname "$0")/common.sh"
train_run r31_joint224_prog96x28_seg_bf16_avg3 --image-size 224 --epochs 31 --progressive-size 96 \
  --progressive-epochs 28 --average-last-epochs 3
