"""Writes a dataset built by tfds_builders as TF Object Detection API TFRecords.

  python scripts/export_tfod.py --dataset voc_export/boxes --data_dir ~/tfds \
      --output ~/exports/od_api [--num_shards 10] [--masks]
  python scripts/export_tfod.py --dataset_dir ~/tfds/voc_export/default/1.2.0 \
      --output ~/exports/od_api --masks

Writes `OUT/<split>.record-00000-of-0000N` and `OUT/label_map.pbtxt` (ids
from 1), ready for an OD API `input_reader` (use `instance_mask_type:
PNG_MASKS` with --masks). Image and mask bytes are copied, not re-encoded.
"""

import sys

from absl import app, flags

from tfds_builders.core.errors import ExportError
from tfds_builders.core.loading import load_builder
from tfds_builders.tfod import writer

_DATASET = flags.DEFINE_string(
    'dataset', None, 'Registered dataset, `name` or `name/config[:version]`.')
_DATA_DIR = flags.DEFINE_string('data_dir', None,
                                'TFDS data dir the dataset was built in.')
_DATASET_DIR = flags.DEFINE_string(
    'dataset_dir', None, 'A built dataset directory (holding'
    ' dataset_info.json), instead of --dataset.')
_OUTPUT = flags.DEFINE_string('output', None, 'Output folder.', required=True)
_NUM_SHARDS = flags.DEFINE_integer('num_shards', 1, 'Shards per split.')
_MASKS = flags.DEFINE_bool('masks', False,
                           'Write PNG instance masks (image/object/mask).')


def main(argv):
  del argv
  try:
    builder = load_builder(_DATASET.value, _DATA_DIR.value,
                           _DATASET_DIR.value)
    summary = writer.export(builder, _OUTPUT.value, _NUM_SHARDS.value,
                            _MASKS.value)
  except ExportError as e:
    print(f'error: {e}', file=sys.stderr)
    return 1
  for split, images in summary.images.items():
    print(f'{split}: {images} images, {summary.objects[split]} objects')
  print(f'wrote {len(summary.files)} files to {summary.output}'
        f' ({len(summary.classes)} classes)')
  return 0


if __name__ == '__main__':
  app.run(main)
