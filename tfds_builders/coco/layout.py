"""Recognising a COCO export: its instance files, their splits and where
their images are.

Tools write COCO in several layouts:
  * the official release: `annotations/instances_train2017.json` (also
    `person_keypoints_*.json`, `stuff_*.json`, `captions_*.json`,
    `panoptic_*.json`, `image_info_*.json`) + `train2017/`, `val2017/`;
  * CVAT "COCO 1.0" and Datumaro: `annotations/instances_<subset>.json` +
    `images/` or `images/<subset>/`;
  * Roboflow "COCO": `<split>/_annotations.coco.json` beside its images;
  * Label Studio "COCO": `result.json` + `images/`, with `file_name`
    `images/...` relative to the JSON;
  * one JSON file anywhere with the images beside it or in `images/`.

So a file is recognised by what it holds, not by its name: every `*.json`
in the export is read once, and it is an *instance file* when it is a JSON
object with an `images` list, an `annotations` list (annotation objects
with a `bbox` or a `segmentation`) and a `categories` list. Keypoint and
stuff files are instance files too (boxes and polygons/RLE per annotation;
keypoints are not part of the schema). Captions, panoptic and image-info
files are reported as not included, with the reason (`instance_file_problem`).

Splits (`assign_splits`), one per instance file:
  * `core.splits.split_word` of the file name, else of its folder's name:
    `instances_val2017.json` and `valid/_annotations.coco.json` ->
    validation. The export root's own name is the user's and is not read.
  * Files without a split word: when none of the files has one and they all
    name the same thing (`instances.json`, `result.json`, CVAT's
    `instances_default.json`, or that and `person_keypoints_default.json`)
    their images get the 80/20 hash split of the image id. Otherwise each is
    a split named after its file (`instances_default.json` -> `default`,
    `extra/_annotations.coco.json` -> `extra`).
  * The `split_by_hash` config hashes every image, whatever the files say.
Several files may land in one split (`instances_train2017.json` and
`person_keypoints_train2017.json`); `parse.py` merges what they say per image.

Images (`image_folders`): `file_name` is looked up by `core.lookup` in
`images/<subset>/`, `<subset>/`, the folder itself and `images/` of the
JSON's folder, then of the folder above `annotations/`, where `<subset>` is
the file name without its task prefix (`instances_train2017.json` ->
`train2017`) or, for a file without one, its folder (`train/`). So
`images/train2017/x.jpg` and `train2017/x.jpg` are both found for
`file_name` `x.jpg`, and `images/x.jpg` for Label Studio's `images/x.jpg`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import posixpath
import re
import unicodedata

from tfds_builders.core import report, splits
from tfds_builders.core.errors import ExportError
from tfds_builders.core.exportfs import ExportFiles

# What the official release and Datumaro put before the subset name.
# Instance-like tasks first: when two files describe the same images, the
# first in this order is the one the others are merged into.
TASK_PREFIXES = ('instances_', 'person_keypoints_', 'stuff_', 'labels_',
                 'captions_', 'panoptic_', 'image_info_')
_MAX_SPLIT_NAME = 48
# Words that say nothing about a split, left out of split names derived
# from a file name (`instances_default.json` -> `default`).
_GENERIC_WORDS = {'instances', 'instance', 'annotations', 'annotation',
                  'coco', 'json', 'person', 'keypoints', 'stuff', 'result',
                  'results'}


@dataclasses.dataclass(frozen=True)
class SplitOfFile:
  group: str  # the split name, or the name hashed images share
  split: str | None  # None: hash the image ids
  source: str  # for the report: what stated the split


def candidate_files(files: ExportFiles
                    ) -> tuple[list[str], list[report.Issue]]:
  """Every `*.json` file of the export, in reading order, and report entries
  for things named `*.json` that are not files."""
  names = files.files(suffixes=('.json',))
  issues = [report.Issue(folder, '', 'a folder named like a JSON file; not'
                         ' read', report.NOT_INCLUDED)
            for folder in sorted(files.folders())
            if folder.lower().endswith('.json')]
  if not names:
    refused = [i for i in files.issues if i.file.lower().endswith('.json')]
    why = ''.join(f' {i.file}: {i.problem}.' for i in refused + issues)
    raise ExportError(
        'no COCO annotation file: there is no readable *.json file in the'
        ' export.' + why, file=str(files.root),
        fix='Point --manual_dir at the folder holding the COCO export (the'
        ' JSON files and the images).')
  return sorted(names, key=_reading_order), issues


def _reading_order(name: str) -> tuple:
  """Instance-like tasks before the others (see TASK_PREFIXES), then by
  name: files merged per image are merged into the first."""
  base = posixpath.basename(name).lower()
  rank = next((i for i, p in enumerate(TASK_PREFIXES) if base.startswith(p)),
              len(TASK_PREFIXES))
  return rank, name


def instance_file_problem(data) -> str | None:
  """Why the JSON `data` is not an instance file, or None when it is one."""
  if not isinstance(data, dict):
    return f'the top level is a JSON {_json_type(data)}, not an object'
  if not isinstance(data.get('images'), list):
    return 'no "images" list'
  annotations = data.get('annotations')
  if annotations is None:
    return ('no "annotations" list; an image-info file lists images only'
            if isinstance(data.get('categories'), list) else
            'no "annotations" list')
  if not isinstance(annotations, list):
    return f'"annotations" is a JSON {_json_type(annotations)}, not a list'
  if not isinstance(data.get('categories'), list):
    return ('no "categories" list; a captions file has none'
            if any(isinstance(a, dict) and 'caption' in a
                   for a in annotations) else 'no "categories" list')
  if annotations and not any(
      isinstance(a, dict) and ('bbox' in a or 'segmentation' in a)
      for a in annotations):
    if any(isinstance(a, dict) and 'segments_info' in a for a in annotations):
      return ('its annotations are panoptic (segments_info and PNG files),'
              ' not boxes or polygons')
    if any(isinstance(a, dict) and 'caption' in a for a in annotations):
      return 'its annotations are captions, not boxes or polygons'
    return 'no annotation has a "bbox" or a "segmentation"'
  return None


def _json_type(value) -> str:
  return {dict: 'object', list: 'list', str: 'string', bool: 'boolean',
          type(None): 'null'}.get(type(value), 'number')


def subset(name: str) -> str | None:
  """The subset an annotation file names: its name without the task prefix
  (`annotations/instances_train2017.json` -> `train2017`), or, without a
  task prefix, its folder (`train/_annotations.coco.json` -> `train`)."""
  stem = posixpath.splitext(posixpath.basename(name))[0]
  for prefix in TASK_PREFIXES:
    if stem.lower().startswith(prefix) and len(stem) > len(prefix):
      return stem[len(prefix):]
  folder = posixpath.basename(posixpath.dirname(name))
  return folder if folder and folder.lower() != 'annotations' else None


def image_folders(name: str, existing: set[str]) -> tuple[str, ...]:
  """Folders (relative to the root, '' = the root) where the images of
  annotation file `name` may be, nearest first; only those in `existing`.

  `core.lookup` tries the export root, `images/`, `images/<subset>/` and
  `<subset>/` itself; these add the same around the JSON's own folder and
  the folder above an `annotations/` one, for exports kept in a sub-folder.
  """
  folder = posixpath.dirname(name)
  bases = [folder]
  if posixpath.basename(folder).lower() == 'annotations':
    bases.append(posixpath.dirname(folder))
  part = subset(name)
  near = []
  for base in bases:
    # The subset's own folder first: CVAT video tasks name every subset's
    # frames `frame_000000.jpg`, in `images/train/`, `images/val/`...
    for child in ((f'images/{part}', part) if part else ()) + ('', 'images'):
      candidate = posixpath.join(base, child).rstrip('/') if child else base
      if candidate in existing and candidate not in near:
        near.append(candidate)
  return tuple(near)


def assign_splits(names: list[str], split_by_hash: bool = False
                  ) -> dict[str, SplitOfFile]:
  """The split of each instance file (see the module doc)."""
  words = {name: _split_word(name) for name in names}
  derived = {name: _name_from_file(name) for name in names}
  hashed = not any(words.values()) and len(set(derived.values())) == 1
  result = {}
  for name in names:
    group = words[name] or derived[name]
    split = None if split_by_hash or hashed else group
    source = (splits.HASHED if split is None else
              f'annotation file {name}')
    result[name] = SplitOfFile(group, split, source)
  return result


def _split_word(name: str) -> str | None:
  stem = posixpath.splitext(posixpath.basename(name))[0]
  folder = posixpath.basename(posixpath.dirname(name))
  for text in (stem, folder):
    split = splits.split_word(text) if text else None
    if split:
      return split
  return None


def _name_from_file(name: str) -> str:
  """A split name from a file or folder name: its words in ASCII (`Übung`
  -> `ubung`), at most `_MAX_SPLIT_NAME` characters (the split name is part
  of every shard's file name; a longer one is cut and keeps a hash of the
  whole, so two long names stay apart)."""
  stem = posixpath.splitext(posixpath.basename(name))[0]
  folder = posixpath.basename(posixpath.dirname(name))
  for text in (stem, '' if folder.lower() == 'annotations' else folder):
    ascii_text = unicodedata.normalize('NFKD', text).encode(
        'ascii', 'ignore').decode().lower()
    words = [w for w in re.split(r'[^a-z0-9]+', ascii_text)
             if w and w not in _GENERIC_WORDS]
    if words:
      joined = '_'.join(words)
      if len(joined) > _MAX_SPLIT_NAME:
        digest = hashlib.sha256(joined.encode()).hexdigest()[:8]
        joined = f'{joined[:_MAX_SPLIT_NAME - 9]}_{digest}'
      return joined
  return 'export'
