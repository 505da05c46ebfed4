#!/usr/bin/env bash
# r72 (2026-12-06): stochastic weight averaging done whole. The shipped recipe averages its last 10 epochs while the
# cosine rate falls from ~0.19 to 0.01 of the peak, so the averaged weights barely differ; SWA holds a constant rate
# through the window and then recomputes the BatchNorm statistics. r72 is r70 (r60's command with
# --recompute-batchnorm) with --swa-learning-rate 0.2: epochs 1-26 follow almost r60's rates (0.2 instead of 0.19
# at epoch 26), epochs 27-36 hold 0.2 of the peak. r73 is the same on split seed 1, paired with runs/bn/r67.
# Condition, written before either result is seen: the constant tail joins the recipe if, over the two pairs
# (r72 vs r70, r73 vs runs/bn/r67_r60_recipe_split1), the mean change of BUSI test accuracy >= 0 and of BUS-BRA
# held-out accuracy >= 0, the mean AUC change >= 0 on both test sets, and the cancers found (BUSI + BUS-BRA, summed
# over both) drop by no more than 2. r72 replaces r60 only if the condition holds and r72 meets the shipping
# criterion (whole command <= 60 min, BUSI >= 0.771, BUS-BRA >= 0.827, cancers >= 105, AUC >= 0.898 and >= 0.866,
# no McNemar p < 0.05 in r60's favour on either test set), is strictly ahead of r60 on at least one of BUSI
# accuracy, BUS-BRA accuracy and cancers found, and its ECE is no more than 0.02 worse. Scoring:
# `python -m training.paired_change runs/r70_r60_recipe_bnrefresh/model.onnx runs/r72_r60_recipe_swa02/model.onnx`
# and `bash training/recipes/eval.sh r72_r60_recipe_swa02`.
# From the repository root: nohup bash training/recipes/r72.sh > runs/r72.log 2>&1 &
source "$(dirname "$0")/common.sh"
train_run r72_r60_recipe_swa02 "${R14_SCHEDULE[@]}" --seed 0 --split-seed 0 --augment 0.5 --seg-weight 2.0 \
  --recompute-batchnorm --swa-learning-rate 0.2
