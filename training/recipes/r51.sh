#!/usr/bin/env bash
# r51 (2026-12-05; condition fails: BUS-BRA held-out 0.792 / AUC 0.866 against r38's 0.797 / 0.877, BUSI test 0.802
# against 0.812, training/RESULTS.md): half-strength augmentation (r46's flags: the shipped recipe with --augment
# 0.5, training seed 0) on split seed 1, the split of r34, r38 and r41, so the half-augmentation reading is checked
# on a second split rather than tuned to the split of record. Its full-augmentation counterpart is r38 (same flags
# but --augment 1, same split files); r41 is the 44-epoch variant there. Not a shipping candidate: its held-out
# images differ from r40's. Condition, written before any r51 result is seen (after r50, whose longer schedule did
# not help): half augmentation's BUS-BRA gain carries over to this split if r51's BUS-BRA held-out accuracy on its
# own 375 images is above r38's and r41's (both 0.797) and its ROC-AUC is at least r38's 0.877, while its BUSI test
# accuracy is no more than 0.05 under r38's 0.812 (about one standard error of a 96-image test set). Cancers found
# on BUS-BRA are reported against r38's malignant recall of 0.711.
# Scored on its own split (eval.sh pairs on the split of record, whose test images this run may have trained on):
# BUSI test from the run's metrics.json (python -m training.results_table runs/r51_r14_recipe_aug05_split1), and
# BUS-BRA with python -m training evaluate --model runs/r51_r14_recipe_aug05_split1/model.onnx
#   --data ../shared/data/busbra --split runs/r51_r14_recipe_aug05_split1/split_busbra.csv --subset test
# From the repository root: nohup bash training/recipes/r51.sh > runs/r51.log 2>&1 &
source "$(dirname "$0")/common.sh"
train_run r51_r14_recipe_aug05_split1 "${R14_SCHEDULE[@]}" --seed 0 --split-seed 1 --augment 0.5
