#!/usr/bin/env bash
# r30 (2026-12-03): r29 (r8 + scanner-like augmentation) with every Toshiba Aplio 300 patient held out of training,
# i.e. r11's leave-one-scanner-out question asked of the augmentation. From the repository root:
# nohup bash training/recipes/r30.sh > runs/r30.log 2>&1 &
source "$(dirname "$0")/common.sh"
train_run r30_joint128_seg_bf16_avg9_usaug_no_toshiba --image-size 128 --epochs 27 --average-last-epochs 9 \
  --ultrasound-augment 1.0 --hold-out-device Toshiba
