"""`coco_export`: COCO JSON exports (official, Roboflow, CVAT, Datumaro,
Label Studio)."""

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

  VERSION = tfds.core.Version('1.2.0')
  RELEASE_NOTES = {
      '1.0.0': 'Official, Roboflow, CVAT, Datumaro and single file layouts;'
               ' polygons, RLE, iscrowd.',
      '1.1.0': 'Instance files recognised by content, not name: official'
               ' instances_, person_keypoints_ and stuff_ files, Roboflow,'
               ' Label Studio result.json, CVAT/Datumaro with images/<subset>/;'
               ' files about the same images merged per image (repeated'
               ' annotations counted once); captions, panoptic and image-info'
               ' files reported as not included. objects/has_mask added;'
               ' box-only objects store an all-zero mask, never the box. A box'
               ' that disagrees with its own segmentation (IoU < 0.9) is'
               ' replaced by the segmentation\'s extent and reported.'
               ' Categories sharing a name are one class (warning); an unused'
               ' parent category (Roboflow\'s project category 0) is not a'
               ' class. Every number validated (NaN, Infinity, huge values,'
               ' "iscrowd": "0" are reported skips); bad RLE skips the object'
               ' instead of stopping the build; two files of one split no'
               ' longer an error.',
      '1.2.0': "Hashed splits follow the image's file name (less Roboflow's"
               ' copy suffix), not the ids: adding a batch no longer moves'
               ' images, and copies of one photo land together. "ignore": 1'
               ' annotations are crowd regions; annotations of two files are'
               ' one only with the same id, category and box; absolute'
               ' file_names use the one image of that name in the export'
               " (reported); an image of the same name in another split's"
               ' folder is not taken; integer category names are classes;'
               ' derived split names are ASCII and at most 48 characters.',
  }
  BUILDER_CONFIGS = [
      CocoConfig(**{f.name: getattr(c, f.name)
                    for f in dataclasses.fields(c)})
      for c in default_configs()]
  DESCRIPTION = ('A COCO instances export, in the common tfds_builders'
                 ' schema. `info.metadata["coco_categories"]` maps each COCO'
                 ' category id that is a class to its label, name and'
                 ' supercategory.')
  MANUAL_DOWNLOAD_INSTRUCTIONS = """\
  Pass the folder of a COCO export with `--manual_dir`: the official release
  (`annotations/instances_train2017.json`, `person_keypoints_*.json`,
  `stuff_*.json` + `train2017/` or `images/train2017/`...), a Roboflow
  "COCO" export (`train/_annotations.coco.json` next to its images, `valid/`,
  `test/`), CVAT "COCO 1.0" or Datumaro (`annotations/instances_*.json` +
  `images/` or `images/<subset>/`), Label Studio (`result.json` + `images/`),
  or any `*.json` with the images beside it or in `images/`. Every JSON file
  holding `images`, `annotations` with boxes or segmentations, and
  `categories` is read, whatever its name; others (captions, panoptic) are
  listed in the build report as not included. Files about the same images
  (instances_ and person_keypoints_ of one split) are merged per image.

  Splits: each annotation file is one split, named by the split word
  (train/training, val/valid/validation/minival, test...) in the file name,
  else in its folder name (`instances_val2017.json` and `valid/` ->
  validation). Files without one (`instances.json`, `result.json`, CVAT's
  `instances_default.json`) are split 80/20 into train/test by a hash of the
  image id; so is any export built with
  `--config '{"name": "hashed", "split_by_hash": true}'`. When other files
  have split words, one without is a split named after it
  (`instances_default.json` -> `default`).

  Classes are the COCO category names in id order, labels 0..N-1
  (`info.metadata['coco_categories']` keeps the COCO ids). Categories sharing
  a name are one class; a category that labels nothing and is the
  supercategory of the others (Roboflow's project category 0) is not a class.
  """

  def _parse_export(self, files: ExportFiles, dl_manager) -> ParsedExport:
    del dl_manager  # COCO exports are local files
    parsed = parse.parse_export(
        files, split_by_hash=getattr(self.builder_config, 'split_by_hash',
                                    False))
    # Saved in metadata.json: the map back to COCO ids, for evaluation.
    self.info.metadata['coco_categories'] = parsed.categories
    return parsed
