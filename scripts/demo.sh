#!/usr/bin/env bash
# The main job on the embedded sample, from a fresh machine:
# sets up .venv, builds voc_export from dummy_data/voc and prints the summary.
#   bash scripts/demo.sh [DATA_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh
ensure_venv test
DATA_DIR="${1:-tfds_data}"
.venv/bin/tfds build voc_export --imports tfds_builders \
  --manual_dir dummy_data/voc/vocdevkit --data_dir "$DATA_DIR" \
  --config default --overwrite
.venv/bin/python -m json.tool "$DATA_DIR/voc_export/default/1.0.0/build_report.json" | head -40
