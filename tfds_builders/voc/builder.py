"""`voc_export`: PASCAL VOC XML exports (VOCdevkit, CVAT, labelImg)."""

from __future__ import annotations

import tensorflow_datasets as tfds

from tfds_builders.core.builder import ExportBuilder
from tfds_builders.core.exportfs import ExportFiles
from tfds_builders.core.records import ParsedExport
from tfds_builders.voc import parse


class VocExport(ExportBuilder):
  """Builds the common schema from a PASCAL VOC XML export."""

  VERSION = tfds.core.Version('1.2.0')
  RELEASE_NOTES = {'1.0.0': 'VOCdevkit, flat and labelImg layouts; boxes,'
                            ' polygons, SegmentationClass/Object PNGs.',
      '1.1.0': 'Exports of other tools: split lists and split folders win'
               ' over hashing; mask values become classes only through'
               ' labelmap.txt, labels.txt or the devkit colour map; instance'
               ' masks paired with objects by box; masks without XML; images'
               ' listed without XML kept; rotated CVAT boxes as polygons.',
      '1.2.0': "An XML whose <filename> names another XML's image (a copied"
               ' labelImg file) uses its own image, reported as a repair;'
               ' split lists with _ in their names are subsets, only'
               ' <class>_<split>.txt with 1/-1 flags are per-class lists;'
               ' <part> boxes are listed as warnings; the exact image name'
               ' wins over one differing only in case; two labelmap.txt'
               ' classes with one colour are an error; a PNG with bytes after'
               ' its end is kept without them.',
  }
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
