#!/usr/bin/env bash
# r42 (2026-12-04): the shipped recipe (r40: r14's schedule on the split of record) with every Toshiba Aplio 300
# patient held out of training (leave-one-scanner-out, as r11 and r33 for the older recipe): what the shipped recipe
# does on a scanner it has never seen. Scored with
# bash training/recipes/eval.sh r42_r14_recipe_no_toshiba_split0 runs/r42_r14_recipe_no_toshiba_split0/split_busbra.csv
# From the repository root: nohup bash training/recipes/r42.sh > runs/r42.log 2>&1 &
source "$(dirname "$0")/common.sh"
train_run r42_r14_recipe_no_toshiba_split0 "${R14_SCHEDULE[@]}" --hold-out-device Toshiba --seed 0 --split-seed 0
