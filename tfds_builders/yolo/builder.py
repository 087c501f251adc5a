"""`yolo_export`: YOLO txt exports (Ultralytics/Roboflow data.yaml, Darknet
obj.data, classes.txt + labels/)."""

from __future__ import annotations

import tensorflow_datasets as tfds

from tfds_builders.core.builder import ExportBuilder
from tfds_builders.core.exportfs import ExportFiles
from tfds_builders.core.records import ParsedExport
from tfds_builders.yolo import parse


class YoloExport(ExportBuilder):
  """Builds the common schema from a YOLO txt export."""

  VERSION = tfds.core.Version('1.1.0')
  RELEASE_NOTES = {'1.0.0': 'Ultralytics data.yaml (Roboflow, CVAT, Datumaro),'
                            ' Darknet obj.data (CVAT "YOLO 1.1"), classes.txt'
                            ' + labels/ (Label Studio, labelImg); boxes,'
                            ' polygon segments, oriented boxes; pose boxes'
                            ' without keypoints.',
      '1.1.0': 'Images with every suffix Ultralytics trains on (.mpo, .heic,'
               ' .dng, .avif, .jp2, ...) are built or skipped with the'
               ' reason; a model YAML (nc with backbone/head) is not the'
               ' dataset YAML; only README/LICENSE/... files themselves are'
               ' passed over as not label files.',
  }
  DESCRIPTION = 'A YOLO txt export, in the common tfds_builders schema.'
  MANUAL_DOWNLOAD_INSTRUCTIONS = """\
  Pass the folder of a YOLO export with `--manual_dir`: an Ultralytics /
  Roboflow "YOLOv5-v11" / CVAT "Ultralytics YOLO" export (`data.yaml` with
  `names` and `train`/`val`/`test`, `images/<split>/` + `labels/<split>/` or
  `train/images` + `train/labels`), a Darknet / CVAT "YOLO 1.1" export
  (`obj.data`, `obj.names`, `train.txt`, `obj_train_data/`), or a folder with
  `classes.txt` (one class name per line, in class id order), the images and
  their label files (`images/` + `labels/`, or side by side: Label Studio,
  labelImg).
  """

  def _parse_export(self, files: ExportFiles, dl_manager) -> ParsedExport:
    del dl_manager  # YOLO exports are local files
    return parse.parse_export(files)
