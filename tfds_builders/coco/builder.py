"""`coco_export`: COCO JSON exports (official, Roboflow, CVAT, Datumaro)."""

from __future__ import annotations

import dataclasses

import tensorflow_datasets as tfds

from tfds_builders.coco import parse
from tfds_builders.core.builder import (ExportBuilder, ExportConfig,
                                        default_configs)
from tfds_builders.core.exportfs import ExportFiles
from tfds_builders.core.records import ParsedExport


@dataclasses.dataclass
class CocoConfig(ExportConfig):
  """`split_by_hash`: ignore the files' splits; hash image ids 80/20."""
  split_by_hash: bool = False


class CocoExport(ExportBuilder):
  """Builds the common schema from a COCO instances export."""

  VERSION = tfds.core.Version('1.0.0')
  RELEASE_NOTES = {'1.0.0': 'Official, Roboflow, CVAT, Datumaro and single'
                            ' file layouts; polygons, RLE, iscrowd.'}
  BUILDER_CONFIGS = [
      CocoConfig(**{f.name: getattr(c, f.name)
                    for f in dataclasses.fields(c)})
      for c in default_configs()]
  DESCRIPTION = ('A COCO instances export, in the common tfds_builders'
                 ' schema. `info.metadata["coco_categories"]` maps each label'
                 ' to its COCO category id, name and supercategory.')
  MANUAL_DOWNLOAD_INSTRUCTIONS = """\
  Pass the folder of a COCO export with `--manual_dir`: the official release
  (`annotations/instances_train2017.json` + `train2017/`...), a Roboflow
  "COCO" export (`train/_annotations.coco.json` next to its images, `valid/`,
  `test/`), CVAT "COCO 1.0" or Datumaro (`annotations/instances_*.json` +
  `images/`), or one `*.json` at the root with the images beside it or in
  `images/`.

  Splits: each annotation file is one split, named by the first of the words
  train/training, val/valid/validation/minival or test in the file name, else
  in its folder name (`instances_val2017.json` and `valid/` -> validation).
  A single file with no such word (`instances.json`, CVAT's
  `instances_default.json`) is split 80/20 into train/test by a hash of the
  image id; so is any export built with
  `--config '{"name": "hashed", "split_by_hash": true}'`. With several files,
  one without a split word becomes a split named after it
  (`instances_default.json` -> `default`).

  Classes are the COCO categories, every one of them in id order, remapped to
  labels 0..N-1 (`info.metadata['coco_categories']` keeps the COCO ids).
  """

  def _parse_export(self, files: ExportFiles, dl_manager) -> ParsedExport:
    del dl_manager  # COCO exports are local files
    parsed = parse.parse_export(
        files, split_by_hash=getattr(self.builder_config, 'split_by_hash',
                                    False))
    # Saved in metadata.json: the map back to COCO ids, for evaluation.
    self.info.metadata['coco_categories'] = parsed.categories
    return parsed
