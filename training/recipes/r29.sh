#!/usr/bin/env bash
# r29 (2026-12-03): r8 (r5 with 27 epochs, mean of the last 9) with scanner-like augmentation. From the repository
# root: nohup bash training/recipes/r29.sh > runs/r29.log 2>&1 &
source "$(dirname "$0")/common.sh"
train_run r29_joint128_seg_bf16_avg9_usaug --image-size 128 --epochs 27 --average-last-epochs 9 \
  --ultrasound-augment 1.0
