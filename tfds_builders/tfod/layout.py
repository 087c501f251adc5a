"""Recognising a TF Object Detection API export: record files, label maps,
splits.

The tools lay these exports out a few ways; all of them are found anywhere
under the export root:
  * CVAT "TFRecord 1.0" / Datumaro `tf_detection_api`: `<subset>.tfrecord`
    (`default.tfrecord` for a task without subsets) + `label_map.pbtxt`;
    without embedded images the records name files in `images/`.
  * Roboflow "Tensorflow TFRecord": `train/ valid/ test/`, each with
    `<name>.tfrecord` and `<name>_label_map.pbtxt`.
  * The OD API's `create_*_tf_record.py` and the many `generate_tfrecord.py`
    copies: `train.record`, `pets_val.record`, sharded
    `name.record-00000-of-00010`, with a label map of any name (`*.pbtxt`).

A record file's split is the split word in its own name, else in its
folders, nearest first (`core.splits`: one table for every format); a file
that names none (`default.tfrecord`) leaves its images to the hash split.
Reading the records is `parse.py`'s job.
"""

from __future__ import annotations

import dataclasses
import pathlib
import posixpath
import re

from tfds_builders.core import report, splits
from tfds_builders.core.errors import ExportError
from tfds_builders.core.exportfs import ExportFiles
from tfds_builders.tfod.label_map import LabelMap, parse_label_map

_RECORD_FILE = re.compile(
    r'^(?P<base>.+\.(?:tfrecords?|records?|tfrec))'
    r'(?:-(?P<shard>\d+)-of-(?P<shards>\d+))?(?:\.gz)?$', re.IGNORECASE)
LABEL_MAP_SUFFIXES = ('.pbtxt',)
_MAX_LISTED = 10  # missing shard names listed in one warning


@dataclasses.dataclass(frozen=True)
class RecordFile:
  name: str  # relative to the export root, for messages
  path: str  # the confined real path, for reading
  split: str | None  # None: the builder hashes the image ids
  split_source: str  # what stated the split, for the report
  sharded: bool


def find_record_files(files: ExportFiles) -> list[RecordFile]:
  """Every TFRecord file of the export, in name order."""
  found = []
  for name in files.files():
    match = _RECORD_FILE.match(name.rsplit('/', 1)[-1])
    if match:
      split, source = split_of(match['base'], pathlib.PurePosixPath(
          name).parent.parts)
      found.append(RecordFile(name, files.real_path(name), split, source,
                              match['shard'] is not None))
  if not found:
    raise ExportError(
        'no TFRecord files found (*.tfrecord, *.record, *.tfrec,'
        ' *.record-00000-of-N, optionally .gz).', file=str(files.root),
        fix='Point --manual_dir at the folder holding the TFRecords and their'
        ' label map (*.pbtxt).')
  return found


def shard_issues(record_files: list[RecordFile]) -> list[report.Issue]:
  """A warning for each set of shards (`train.record-0000i-of-0000N`) with
  files missing or whose names disagree on N: the records of the shards
  present are built, but the export is not all there."""
  groups: dict[tuple, dict[str, re.Match]] = {}
  for f in record_files:
    folder, base = posixpath.split(f.name)
    match = _RECORD_FILE.match(base)
    if match['shard'] is not None:
      suffix = base[match.end('shards'):]  # '.gz' as written, or ''
      groups.setdefault((folder, match['base'], suffix), {})[base] = match
  return [issue for (folder, base, suffix), found in sorted(groups.items())
          for issue in _shard_issue(folder, base, suffix, found)]


def _shard_issue(folder: str, base: str, suffix: str,
                 found: dict[str, re.Match]) -> list[report.Issue]:
  counts = sorted({int(m['shards']) for m in found.values()})
  width = len(next(iter(found.values()))['shard'])
  problems, missing, lost = [], [], 0
  if len(counts) > 1:
    problems.append('the shard files disagree on the number of shards ('
                    + ', '.join(f'{name} says {int(m["shards"])}'
                                for name, m in sorted(found.items())) + ')')
  for n in counts:
    of = [m for m in found.values() if int(m['shards']) == n]
    present, written = {int(m['shard']) for m in of}, of[0]['shards']
    beyond = sorted(i for i in present if i >= n)
    if beyond:
      problems.append(f'shard number(s) {beyond} of {n} do not exist')
    lost += n - len(present) + len(beyond)
    i = 0
    while len(missing) < _MAX_LISTED and i < n:  # the first few, by number
      if i not in present:
        missing.append(f'{base}-{i:0{width}d}-of-{written}{suffix}')
      i += 1
  if missing:
    problems.append(f'{lost} shard file(s) missing: {", ".join(missing)}'
                    + (' ...' if lost > len(missing) else ''))
  if not problems:
    return []
  return [report.Issue(
      posixpath.join(folder, f'{base}-*-of-*{suffix}'), 'shard files',
      '; '.join(problems) + f'; the records of the {len(found)} shard'
      ' file(s) present are built', report.WARNING,
      fix='Copy every shard file of the export, all from the same run.')]


def split_of(base: str, folders: tuple[str, ...]) -> tuple[str | None, str]:
  """`(split, what stated it)` of a record file, from its folders
  (`valid/cars.tfrecord` -> validation), else its name (`pets_val.record`
  -> validation); `(None, '')` when nothing states one.

  The folder wins: Roboflow names the file after the project in every
  split folder (`valid/train-detection.tfrecord` for a project about
  trains), so a split word in the name says less than the folder.
  """
  stem = base.rsplit('.', 1)[0]
  found = splits.split_from_folders(folders)
  if found:
    return found[0], f'folder {found[1]}/'
  split = splits.split_word(stem)
  if split:
    return split, f'file name {base}'
  return None, ''


def read_label_maps(files: ExportFiles) -> LabelMap | None:
  """Every `*.pbtxt` in the export, merged; None when there is none.

  The same id must name the same class in all of them (Roboflow writes one
  per split folder). Text is read through `files.read_text` (BOM, CRLF,
  Windows-1252 fallback reported); a label map that is a symlink leading
  out of the export was never indexed, and is reported as not read.
  """
  merged: dict[int, tuple] = {}
  ids: dict[str, int] = {}
  names = files.files(suffixes=LABEL_MAP_SUFFIXES)
  for name in names:
    for item in parse_label_map(files.read_text(name), file=name).items:
      first, first_file = merged.setdefault(item.id, (item, name))
      first_id = ids.setdefault(item.class_name, item.id)
      if first != item or first_id != item.id:
        raise ExportError(
            f'item id {item.id} {item.class_name!r} disagrees with'
            f' {first_file} (where id {item.id} is {first.class_name!r} and'
            f' {item.class_name!r} has id {first_id}).', file=name,
            fix='Use one label map for all splits, or make them agree.')
  if not names:
    return None
  return LabelMap(tuple(item for _, (item, _) in sorted(merged.items())),
                  ', '.join(names))


def describe(record_files: list[RecordFile], label_map: LabelMap | None
             ) -> str:
  """The export format line of the build report."""
  if any(f.sharded for f in record_files):
    layout = 'sharded records'
  elif any(f.split_source.startswith('folder') for f in record_files):
    layout = 'split folders (Roboflow)'
  else:
    layout = 'record files'
  source = label_map.file if label_map else 'no label map'
  return (f'TF Object Detection API TFRecords ({layout},'
          f' {len(record_files)} files, {source})')
