#!/usr/bin/env bash
# r76 (2026-12-07): r60's command verbatim (split of record, seed 0) on the 2-core AVX2 host, where
# --mixed-precision is answered with float32 (training/precision.py). Why: the model card gives this schedule's
# time there only as an estimate (~95 min from r22's epoch times); this run measures it, and pairs float32 with
# r60's bfloat16 at the same seed and split, so the two differ in arithmetic and host alone. Stated before the run:
# r76 is a measurement, not a shipping candidate (its command is r60's; on the AVX-512 host it gives r60 itself).
# Its scores go in RESULTS.md beside r60's as the precision/host effect on one draw, whichever way it falls.
# From the repository root: nohup bash training/recipes/r76.sh > runs/r76.log 2>&1 &
source "$(dirname "$0")/common.sh"
train_run r76_r60_recipe_float32_avx2 "${R14_SCHEDULE[@]}" --seed 0 --split-seed 0 --augment 0.5 --seg-weight 2.0
