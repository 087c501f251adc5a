"""`voc_export`: PASCAL VOC XML exports (VOCdevkit, CVAT, labelImg)."""

from __future__ import annotations

import tensorflow_datasets as tfds

from tfds_builders.core.builder import ExportBuilder
from tfds_builders.core.exportfs import ExportFiles
from tfds_builders.core.records import ParsedExport
from tfds_builders.voc import parse


class VocExport(ExportBuilder):
  """Builds the common schema from a PASCAL VOC XML export."""

  VERSION = tfds.core.Version('1.1.0')
  RELEASE_NOTES = {'1.0.0': 'VOCdevkit, flat and labelImg layouts; boxes,'
                            ' polygons, SegmentationClass/Object PNGs.'}
  DESCRIPTION = 'A PASCAL VOC XML export, in the common tfds_builders schema.'
  MANUAL_DOWNLOAD_INSTRUCTIONS = """\
  Pass the folder of a PASCAL VOC export with `--manual_dir`: a `VOCdevkit/`
  (or `VOC2012/`) folder, CVAT's "PASCAL VOC 1.1" zip extracted, a labelImg
  folder with `annotations/` and `images/`, or a folder of images with their
  XML files beside them. Optional: `labels.txt` (one class per line) or CVAT's
  `labelmap.txt` to fix the class list and its order.
  """

  def _parse_export(self, files: ExportFiles, dl_manager) -> ParsedExport:
    del dl_manager  # VOC exports are local files
    return parse.parse_export(files)
