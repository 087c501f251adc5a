#!/usr/bin/env bash
# The main job on the embedded sample, from a fresh machine, offline:
#   1. write a synthetic Labelbox export of 300 car photos (sample_export/),
#   2. `tfds build labelbox_cars` from it (tfds_data/),
#   3. train a U-Net on it and evaluate on the test split (runs/cars_unet/:
#      metrics.json, model.keras, predictions.png, TensorBoard logs).
# About 3 minutes on 2 CPU cores once the virtual environment exists.
#   bash scripts/demo.sh [WORK_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh
ensure_venv test
WORK="${1:-.}"
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"

.venv/bin/python scripts/make_sample_export.py --output "$WORK/sample_export"
.venv/bin/tfds build labelbox_cars --imports tfds_builders \
  --manual_dir "$WORK/sample_export" --data_dir "$WORK/tfds_data" \
  --config default --overwrite
.venv/bin/python scripts/train.py --dataset labelbox_cars \
  --data_dir "$WORK/tfds_data" --task segmentation --model unet \
  --output_dir "$WORK/runs/cars_unet"
echo
VERSION=$(.venv/bin/python -c \
  'from tfds_builders.labelbox.cars import LabelboxCars; print(LabelboxCars.VERSION)')
echo "Build report: $WORK/tfds_data/labelbox_cars/default/$VERSION/build_report.json"
echo "Predictions:  $WORK/runs/cars_unet/predictions.png"
.venv/bin/python - "$WORK/runs/cars_unet/metrics.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
print(f"{m['dataset']}: {m['model']} trained {m['epochs']} epochs at"
      f" {m['train_images_per_s']} images/s; {m['eval_split']} mean IoU"
      f" {m['metrics']['mean_iou']:.3f}")
PY
