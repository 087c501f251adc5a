"""Datumaro converting a VOC export to TF Object Detection API TFRecords.

Run by the peers' Python (`scripts/benchmarks/peers.sh`), in a fresh
process; like every contender it starts the clock after its imports.

  .venv-peers/bin/python scripts/benchmarks/peer_datumaro.py VOC_DIR OUT_DIR RESULT.json
"""

import json
import pathlib
import sys
import time

import datumaro as dm
import tensorflow  # pylint: disable=unused-import  (the exporter needs it)


def main(source: str, output: str, result: str) -> None:
  start = time.perf_counter()
  dataset = dm.Dataset.import_from(source, 'voc_detection')
  dataset.export(output, 'tf_detection_api', save_media=True)
  seconds = time.perf_counter() - start
  pathlib.Path(result).write_text(json.dumps({
      'seconds': seconds, 'images': len(dataset),
      'datumaro': dm.__version__}))


if __name__ == '__main__':
  main(*sys.argv[1:4])
