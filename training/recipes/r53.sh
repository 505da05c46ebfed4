#!/usr/bin/env bash
# r53 (2026-12-05; criterion failed: BUSI test 0.740, BUS-BRA held-out 0.805; the two draws' means 0.714 and 0.789,
# training/RESULTS.md): r52 with training seed 1, from the same pretrained backbone (r52's 25 epochs of masked-image
# pretraining at 96 px; the pretraining runs first only if runs/p2_mim96x25_split0 lacks it). Why: r52 scored BUSI
# test 0.688 (9 images only r40 gets right vs 1, McNemar p = 0.02) and BUS-BRA 0.773 with AUC 0.873, so its criterion
# failed; one draw cannot tell the start's effect from the draw (the shipped recipe's BUSI draws: 0.722 +- 0.031).
# Criterion, written before any r53 result is seen: longer pretraining helps if the two draws' mean BUSI test accuracy
# is above 0.753 and their mean BUS-BRA held-out accuracy above 0.792 (as in r52.sh); r52's BUSI drop is read as the
# pretrained start's effect if r53's BUSI test accuracy is also below 0.691 (the shipped recipe's mean minus one
# standard deviation), else as a draw. Score: bash training/recipes/eval.sh r53_r14_recipe_mim96x25_seed1_split0
# From the repository root: nohup bash training/recipes/r53.sh > runs/r53.log 2>&1 &
source "$(dirname "$0")/common.sh"
[[ -f $MIM_RUN/backbone.weights.h5 ]] || mim_pretrain
train_run r53_r14_recipe_mim96x25_seed1_split0 "${R14_SCHEDULE[@]}" --seed 1 --split-seed 0 "${MIM_FINE_TUNE[@]}"
