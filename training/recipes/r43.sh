#!/usr/bin/env bash
# r43 (run 2026-12-05, 46.8 min; training/RESULTS.md: no gain on Toshiba, 0.647 and 32 of 68 cancers vs r42's 0.647 and 33):
# r42 (the shipped recipe without any Toshiba Aplio 300 patient) with scanner-like augmentation
# (--ultrasound-augment 1.0): the r30/r11 and r32/r33 question asked a third time, of the shipped recipe. r42 and
# r43 write identical split files, so with both run folders on one machine they pair on the 139 Toshiba images:
# DEVICE=Toshiba bash training/recipes/pair.sh r42_r14_recipe_no_toshiba_split0 r43_r14_recipe_usaug_no_toshiba_split0
# From the repository root: nohup bash training/recipes/r43.sh > runs/r43.log 2>&1 &
source "$(dirname "$0")/common.sh"
train_run r43_r14_recipe_usaug_no_toshiba_split0 "${R14_SCHEDULE[@]}" --hold-out-device Toshiba \
  --ultrasound-augment 1.0 --seed 0 --split-seed 0
