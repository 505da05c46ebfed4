#!/usr/bin/env bash
# Two runs trained on the same split, paired image by image on that split's held-out BUSI and BUS-BRA images
# (McNemar on the images only one gets right). Used to compare recipes split by split (r38 vs r34, r39 vs r35).
# From the repository root:
#   bash training/recipes/pair.sh OLD_RUN NEW_RUN
# RUNS names the folder holding the runs (default runs); DEVICE (e.g. Toshiba) adds a pair on that scanner's
# BUS-BRA test images alone (a leave-one-scanner-out pair such as r42/r43).
source "$(dirname "$0")/common.sh"
old=${1:?usage: pair.sh OLD_RUN NEW_RUN}
new=${2:?usage: pair.sh OLD_RUN NEW_RUN}
runs=${RUNS:-runs}
for split in split.csv split_busbra.csv; do
  cmp -s "$runs/$old/$split" "$runs/$new/$split" || { echo "$runs/$old and $runs/$new differ in $split" >&2; exit 1; }
done
echo "== BUSI test, $old vs $new"
"$PY" bench/paired_models.py --old "$runs/$old/model.onnx" --new "$runs/$new/model.onnx" --data ../shared/data/busi \
  --split "$runs/$new/split.csv" --name "paired_busi_${old}_vs_$new"
echo "== BUS-BRA test, $old vs $new"
"$PY" bench/paired_models.py --old "$runs/$old/model.onnx" --new "$runs/$new/model.onnx" --data ../shared/data/busbra \
  --split "$runs/$new/split_busbra.csv" --name "paired_busbra_${old}_vs_$new"
if [[ -n ${DEVICE:-} ]]; then
  echo "== BUS-BRA test, $DEVICE only, $old vs $new"
  "$PY" bench/paired_models.py --old "$runs/$old/model.onnx" --new "$runs/$new/model.onnx" \
    --data ../shared/data/busbra --split "$runs/$new/split_busbra.csv" --device "$DEVICE" \
    --name "paired_${DEVICE,,}_${old}_vs_$new"
fi
