#!/usr/bin/env bash
# r84 (2026-12-07, late evening, AVX-512/AMX host, bfloat16): r60's command (peak rate 1e-3, the rate in common.sh)
# with --lesion-crops 0.3: a second pair for the lesion-aware crops, after r83 (r81's command + crops) gained 0.083
# BUSI accuracy on r81 (11 images only r83 gets right against 3, p = 0.057) in one draw. Paired with r60 (same
# command without crops, seed 0, split of record, this host class; its file: git 58f0a72^:assets/model.onnx).
# r60's figures (RESULTS.md): BUSI 0.771 / macro-F1 0.724 / 20 of 26 / AUC 0.908; BUS-BRA 0.827 / AUC 0.876.
# Written before the run:
# (a) The crops' gain is read as repeated if r84 is level with or ahead of r60 (argmax) on BUSI accuracy, macro-F1
#     and macro AUC, and BUS-BRA AUC is no more than 0.010 below r60's; the mean change over the two pairs
#     (r81->r83, r60->r84) is reported either way.
# (b) If r83's cost-weighted model ships, r84 with the same decision replaces it only under the same criterion
#     restated against r83_cost3 (weighted errors <= r83_cost3's on both held-out sets, one lower; AUC floors
#     0.886 / 0.878; BUSI ECE <= 0.124; <= 60 min).
# Scoring: runs/post_r84.sh (r83's steps with r84's folders and r60 in place of r81).
# From the repository root: nohup bash training/recipes/r84.sh > runs/r84.log 2>&1 &
source "$(dirname "$0")/common.sh"
train_run r84_r60_command_lesion_crops "${R14_SCHEDULE[@]}" --seed 0 --split-seed 0 --augment 0.5 --seg-weight 2.0 \
  --lesion-crops 0.3
