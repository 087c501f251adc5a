"""`tfod_export`: TF Object Detection API TFRecords + `label_map.pbtxt`."""

from __future__ import annotations

import tensorflow_datasets as tfds

from tfds_builders.core.builder import ExportBuilder
from tfds_builders.core.exportfs import ExportFiles
from tfds_builders.core.records import ParsedExport
from tfds_builders.tfod import parse


class TfodExport(ExportBuilder):
  """Builds the common schema from TF Object Detection API TFRecords."""

  VERSION = tfds.core.Version('1.2.0')
  RELEASE_NOTES = {
      '1.0.0': 'CVAT/Datumaro, Roboflow and OD API (sharded) TFRecords;'
               ' label_map.pbtxt; PNG and dense instance masks.',
      '1.1.0': 'An object without a usable class (label 0 with no text, as'
               ' Datumaro/CVAT write unlabelled objects; an id or text the'
               ' label map lacks) or with a bad number is skipped and'
               ' reported instead of failing the build; every number is'
               ' validated (sizes, relative boxes, areas, 0/1 flags); dense'
               ' masks are checked against the declared size and a cap;'
               ' splits from the file name, then the folders, with their'
               ' source in the report; image/format that disagrees with the'
               ' bytes and images nothing names are reported.',
      '1.2.0': "A record file's split folder wins over a split word in its"
               " name (Roboflow names files after the project); gzip'ed"
               ' record files no longer hold every image in memory.',
  }
  DESCRIPTION = ('TFRecords in the TF Object Detection API schema, in the'
                 ' common tfds_builders schema.')
  MANUAL_DOWNLOAD_INSTRUCTIONS = """\
  Pass the folder holding the TFRecords with `--manual_dir`: CVAT's
  "TFRecord 1.0" zip extracted (`default.tfrecord` + `label_map.pbtxt`, and
  `images/` when the images are not embedded), Roboflow's "Tensorflow
  TFRecord" export (`train/ valid/ test/`), Datumaro's `tf_detection_api`
  export, or the (sharded) `*.record` files written by the OD API's
  `create_*_tf_record.py` together with their label map `*.pbtxt`.
  """

  def _parse_export(self, files: ExportFiles, dl_manager) -> ParsedExport:
    del dl_manager  # TFRecord exports are local files
    return parse.parse_export(files)
