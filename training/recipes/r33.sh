#!/usr/bin/env bash
# r33 (2026-12-04): r11 (r8 with every Toshiba Aplio 300 patient held out of training) with seed 1 on the same splits:
# the control of r32, which differs only by --ultrasound-augment 1.0.
# From the repository root: nohup bash training/recipes/r33.sh > runs/r33.log 2>&1 &
source "$(dirname "$0")/common.sh"
train_run r33_joint128_seg_bf16_avg9_no_toshiba_seed1 --image-size 128 --epochs 27 --average-last-epochs 9 \
  --hold-out-device Toshiba --seed 1 --split-seed 0
