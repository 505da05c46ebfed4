#!/usr/bin/env bash
# r32 (2026-12-04): r30 (scanner-like augmentation, every Toshiba Aplio 300 patient held out of training) with another
# initialisation, augmentation and shuffling order on the same splits; r33 is its control without the augmentation.
# The pair is scored paired on the same 139 Toshiba images, which r11 vs r30 could not be (their models are gone).
# From the repository root: nohup bash training/recipes/r32.sh > runs/r32.log 2>&1 &
source "$(dirname "$0")/common.sh"
train_run r32_joint128_seg_bf16_avg9_usaug_no_toshiba_seed1 --image-size 128 --epochs 27 --average-last-epochs 9 \
  --ultrasound-augment 1.0 --hold-out-device Toshiba --seed 1 --split-seed 0
