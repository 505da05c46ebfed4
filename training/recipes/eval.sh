#!/usr/bin/env bash
# Score a run the way training/RESULTS.md does: BUS-BRA held-out patients, paired with the shipped model on BUSI and
# BUS-BRA test images, per scanner, and calibration before/after class offsets. From the repository root:
#   bash training/recipes/eval.sh RUN [BUSBRA_SPLIT]
# RUN is the folder name under runs/; BUSBRA_SPLIT defaults to the split of record (a leave-one-scanner-out run
# passes its own runs/RUN/split_busbra.csv to score every image of the held-out scanner as well).
source "$(dirname "$0")/common.sh"
run=${1:?usage: eval.sh RUN [BUSBRA_SPLIT]}
busbra_split=${2:-training/splits/busbra_seed0.csv}
model=runs/$run/model.onnx
busi=(--data ../shared/data/busi --split training/splits/busi_seed0.csv)
busbra=(--data ../shared/data/busbra --split training/splits/busbra_seed0.csv)
echo "== BUS-BRA held-out patients (split of record)"
"$PY" -m training evaluate --model "$model" "${busbra[@]}" --subset test --out "runs/$run/busbra_test.json"
echo "== paired with the shipped model: BUSI test"
"$PY" bench/paired_models.py --old assets/model.onnx --new "$model" "${busi[@]}" --name "paired_busi_$run"
echo "== paired with the shipped model: BUS-BRA test"
"$PY" bench/paired_models.py --old assets/model.onnx --new "$model" "${busbra[@]}" --name "paired_busbra_$run"
echo "== per scanner ($busbra_split)"
"$PY" bench/per_device.py --models assets/model.onnx "$model" --data ../shared/data/busbra --split "$busbra_split" \
  --name "per_device_$run"
echo "== calibration before/after class offsets (BUSI)"
"$PY" bench/calibration_scores.py --models "$model" "${busi[@]}" --name "calibration_$run"
