#!/usr/bin/env bash
# r82 (2026-12-07, evening, AVX-512/AMX host, bfloat16): the optimizer. Every run since r1 used AdamW, and each
# change tried on it since r76 (label smoothing, dropout, the rate) moved the model less than a seed does. r82 is
# r81's command (the shipped one) with SGD and Nesterov momentum 0.9 (--optimizer sgd), the DenseNet paper's
# optimizer. Peak rate 0.05: the paper's 0.1 at batch 64 scaled by sqrt(16/64) to this batch of 16; same warm-up,
# cosine and 10-epoch weight average. Weight decay 5e-4 (decoupled, x the rate, as AdamW's): over the 36 epochs it
# shrinks the weights by about as much as r81's 0.01 at 2e-3 (exp(-0.054) against exp(-0.044)). Paired with r81
# (same host, precision, seed, split and data order). Written before the run, and before r81's scores are read:
# (a) The recipe question. SGD earns a second pair (another split) only if r82 is level with or ahead of r81 on
#     both accuracies and both AUCs; otherwise AdamW stays and SGD is reported as tested once.
# (b) The shipping candidate, named before its test scores are read: r82's calibrated probabilities with the
#     cost-weighted decision (python -m training decide --class-cost malignant=3), and no other rule, judged under
#     "Shipping criterion and the operating point" (RESULTS.md) against the model shipped when r82's scores are
#     read: r79 (weighted errors <= 32 and <= 124, one lower; AUC >= 0.886 and >= 0.878; BUSI ECE <= 0.124), or r81
#     if r81.sh's candidate has replaced it by then (its figures are then in RESULTS.md first); condition 4 measured
#     by this run (<= 60 min).
# Scoring: as r81's, with r81 in place of r60 as the pair.
# From the repository root: nohup bash training/recipes/r82.sh > runs/r82.log 2>&1 &
source "$(dirname "$0")/common.sh"
train_run r82_r81_command_sgd "${R14_SCHEDULE[@]}" --seed 0 --split-seed 0 --augment 0.5 --seg-weight 2.0 \
  --optimizer sgd --learning-rate 0.05 --weight-decay 5e-4
