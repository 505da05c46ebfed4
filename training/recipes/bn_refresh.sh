#!/usr/bin/env bash
# bn_refresh (2026-12-06): stochastic weight averaging's last step, never done here. The shipped recipe keeps the
# mean of the last 10 epochs' weights, and with them the mean of those epochs' BatchNorm statistics, which are not
# the statistics of the averaged weights. `python -m training export --recompute-batchnorm` recomputes them on the
# un-augmented training images (121 batches of 16) for each of the six r60-recipe checkpoints: r60, r61, r62 (split
# of record, seeds 0-2) and r67, r68, r69 (split seeds 1-3), each into runs/bn/<run>/ with its own split, scored on
# its own held-out images (BUSI test and BUS-BRA held-out patients, both in the new metrics.json).
# Condition, written before any test figure of a refreshed model was seen (only r60's validation macro-F1 of the
# averaged weights: 0.826 before, 0.820 after): the recompute joins the recipe (`train --recompute-batchnorm`) if,
# over the six, the mean change of BUSI test accuracy is >= 0 and of BUS-BRA held-out accuracy >= 0, and the cancers
# found (BUSI + BUS-BRA, summed over the six) drop by no more than 6 (about one per model). Refreshed r60 replaces
# r60 only if it also meets the shipping criterion (BUSI >= 0.771, BUS-BRA >= 0.827, cancers >= 105, AUC >= 0.898
# and >= 0.866, no McNemar p < 0.05 in r60's favour on either test set), is strictly ahead on at least one of BUSI
# accuracy, BUS-BRA accuracy and cancers found, and its ECE is no more than 0.02 worse; its command is then r60's
# with --recompute-batchnorm (r60 trained in 47 min; the recompute adds about a minute).
# From the repository root: nohup bash training/recipes/bn_refresh.sh > runs/bn/bn_refresh.log 2>&1 &
source "$(dirname "$0")/common.sh"
for run in r60_r14_recipe_aug05_seg2_split0 r61_r14_recipe_aug05_seg2_seed1_split0 \
  r62_r14_recipe_aug05_seg2_seed2_split0 r67_r60_recipe_split1 r68_r60_recipe_split2 r69_r60_recipe_split3; do
  echo "== $run $(date -u +%FT%TZ)"
  "$PY" -m training export --checkpoint "runs/$run/checkpoint.weights.h5" --out "runs/bn/$run/model.onnx" \
    --recompute-batchnorm
done
echo "end $(date -u +%FT%TZ)"
