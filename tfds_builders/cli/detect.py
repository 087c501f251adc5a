"""Which format an export folder holds, from its files, for `check`.

Each format is recognised by what its files hold, not only by their names,
so that the README or class list that every tool writes beside its
annotations does not make a match:

  * voc: `*.xml` whose root element is `<annotation>` (CVAT's own "for
    images" XML has `<annotations>` and is not VOC), or PNG masks in a
    `SegmentationClass/` folder (CVAT "Segmentation mask 1.1", Datumaro
    `voc_segmentation`: masks without XML).
  * coco: a `*.json` object with `"images"`, `"annotations"` and
    `"categories"` lists (captions and image-info files lack one of them).
  * labelbox: at the root, an `*.ndjson` / `*.jsonl` export v2 (rows with
    `"data_row"`), a legacy JSON export (rows with `"DataRow ID"`,
    `"Labeled Data"` or `"External ID"`) or a legacy TFRecord export
    (`export.json` with `"tfrecord_paths"`; its record files are then part
    of the Labelbox export, not a TF OD API export).
  * tfod: TFRecord files as `tfod_export` finds them (`*.tfrecord`,
    `*.record`, sharded `-00000-of-N`...).
  * yolo: a dataset YAML with `names` or `nc`, Darknet's `obj.data`, or a
    label `*.txt` whose lines are `class x y w h ...` numbers.

A folder matching several formats is refused with the list (the user picks
one with --format); a folder matching none says what was looked for.
Detection reads only heads of files and at most a few of each kind; it is
not the parse, which the format's builder then runs in full.
"""

from __future__ import annotations

import dataclasses
import posixpath
import re

from tfds_builders.core.errors import ExportError
from tfds_builders.core.exportfs import ExportFiles, open_regular
from tfds_builders.tfod import layout as tfod_layout
from tfds_builders.yolo import config as yolo_config

FORMATS = ('voc', 'coco', 'labelbox', 'tfod', 'yolo')
LOOKED_FOR = {
    'voc': 'PASCAL VOC *.xml with an <annotation> root or'
           ' SegmentationClass/*.png',
    'coco': 'COCO *.json with "images", "annotations" and "categories"',
    'labelbox': 'a Labelbox *.ndjson (data_row), legacy JSON export or'
                ' export.json with tfrecord_paths at the root',
    'tfod': 'TFRecord files (*.tfrecord, *.record, *.tfrec)',
    'yolo': 'YOLO data.yaml (names/nc), obj.data, or label *.txt lines'
            ' "class x y w h"',
}
_SAMPLE = 20  # files of one kind read at most
_HEAD = 64 << 10
_CHUNK = 4 << 20

_XML_ROOT = re.compile(
    rb'^(?:\xef\xbb\xbf)?\s*(?:<\?[^>]*\?>\s*|<!--.*?-->\s*|<!DOCTYPE[^>]*>\s*)*'
    rb'<annotation[\s>/]', re.DOTALL)
_COCO_KEYS = (re.compile(rb'"images"\s*:\s*\['),
              re.compile(rb'"annotations"\s*:\s*\['),
              re.compile(rb'"categories"\s*:\s*\['))
_LABELBOX_ROW = re.compile(rb'"data_row"\s*:')
_LABELBOX_V1 = re.compile(rb'"(?:DataRow ID|Labeled Data|External ID)"\s*:')
_LABELBOX_TFRECORD = re.compile(rb'"tfrecord_paths"\s*:')
_NUMBER = r'[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?'
_YOLO_LINE = re.compile(rf'\d+(?:\s+{_NUMBER}){{4,}}')


@dataclasses.dataclass(frozen=True)
class Match:
  format: str  # one of FORMATS
  evidence: str  # the file(s) that matched, for messages


def detect(files: ExportFiles) -> Match:
  """The one format the export holds, or an ExportError.

  Reading leaves no report entries in `files` (a class list in another
  encoding is reported once, by the parser), so the same `files` and its
  one walk of the folder serve the check that follows.
  """
  files.files()  # the walk first: what it refuses is reported, by the check
  before = len(files.issues)
  try:
    matches = find_matches(files)
  finally:
    del files.issues[before:]
  if len(matches) == 1:
    return matches[0]
  if not matches:
    looked = '; '.join(f'{k}: {v}' for k, v in LOOKED_FOR.items())
    raise ExportError(
        f'no known export format found (looked for {looked}).',
        file=str(files.root),
        fix='Point at the folder holding the export, or pass --format'
        ' voc|coco|labelbox|tfod|yolo.')
  found = ', '.join(f'{m.format} ({m.evidence})' for m in matches)
  raise ExportError(
      f'the folder matches several export formats: {found}.',
      file=str(files.root),
      fix='Pass the one to check with --format '
      + '|'.join(m.format for m in matches) + '.')


def find_matches(files: ExportFiles) -> list[Match]:
  """Every format whose files are in the export, in FORMATS order."""
  labelbox = _labelbox(files)
  found = {'voc': _voc(files), 'coco': _coco(files), 'labelbox': labelbox,
           # A legacy Labelbox TFRecord export holds TFRecords of its own.
           'tfod': None if labelbox and 'tfrecord_paths' in labelbox
           else _tfod(files),
           'yolo': _yolo(files)}
  return [Match(k, v) for k, v in found.items() if v]


def _voc(files: ExportFiles) -> str | None:
  found = _first(files, files.files(suffixes=('.xml',)),
                 lambda head: bool(_XML_ROOT.match(head)))
  if found:
    return found
  masks = sorted(f for f in files.folders()
                 if f.rsplit('/', 1)[-1].lower() == 'segmentationclass'
                 and files.files(f, ('.png',)))
  return f'{masks[0]}/*.png' if masks else None


def _coco(files: ExportFiles) -> str | None:
  # Whole files are scanned: "categories" often comes after megabytes of
  # annotations. Parsing them here would double the cost of a big export.
  for name in files.files(suffixes=('.json',))[:_SAMPLE]:
    if _all_keys_in(files.real_path(name), name, _COCO_KEYS):
      return name
  return None


def _labelbox(files: ExportFiles) -> str | None:
  at_root = [n for n in files.files() if '/' not in n]
  for name in at_root:
    suffix = posixpath.splitext(name)[1].lower()
    head = None
    if suffix in ('.ndjson', '.jsonl'):
      head = _head(files, name)
      if _LABELBOX_ROW.search(head):
        return name
    elif suffix == '.json':
      head = _head(files, name)
      if _LABELBOX_TFRECORD.search(head):
        return f'{name} with tfrecord_paths'
      if head.lstrip()[:1] in (b'[', b'{') and (
          _LABELBOX_ROW.search(head) or _LABELBOX_V1.search(head)):
        return name
  return None


def _tfod(files: ExportFiles) -> str | None:
  try:
    records = tfod_layout.find_record_files(files)
  except ExportError:
    return None
  return _shown([r.name for r in records])


def _yolo(files: ExportFiles) -> str | None:
  for name in files.files(suffixes=('.yaml', '.yml'))[:_SAMPLE]:
    try:
      if yolo_config.is_dataset_yaml(yolo_config.read_yaml(files, name)):
        return name
    except ExportError:
      continue
  darknet = files.named('obj.data')
  if darknet:
    return darknet[0]
  labels = [n for n in files.files(suffixes=('.txt',))
            if not yolo_config.is_class_file(n)]
  # Many images have no objects, so their label files are empty: look further.
  return _first(files, labels, _is_yolo_label, sample=10 * _SAMPLE)


def _is_yolo_label(head: bytes) -> bool:
  lines = [line.strip() for line in head.decode('utf-8', 'replace')
           .splitlines()[:20] if line.strip()]
  return bool(lines) and all(_YOLO_LINE.fullmatch(line) for line in lines)


def _first(files: ExportFiles, names: list[str], test,
           sample: int = _SAMPLE) -> str | None:
  """The first of (at most `sample` of) `names` whose head passes `test`."""
  for name in names[:sample]:
    if test(_head(files, name)):
      return name
  return None


def _head(files: ExportFiles, name: str) -> bytes:
  try:
    with open_regular(files.real_path(name), file=name) as stream:
      return stream.read(_HEAD)
  except (ExportError, OSError):
    return b''


def _all_keys_in(path: str, name: str, patterns) -> bool:
  """Whether every pattern occurs in the file, read in chunks (a key that
  straddles two chunks is caught by the overlap)."""
  left = list(patterns)
  tail = b''
  try:
    with open_regular(path, file=name) as stream:
      while left:
        chunk = stream.read(_CHUNK)
        if not chunk:
          break
        window = tail + chunk
        left = [p for p in left if not p.search(window)]
        tail = window[-256:]
  except (ExportError, OSError):
    return False
  return not left


def _shown(names: list[str], limit: int = 3) -> str:
  more = f' and {len(names) - limit} more' if len(names) > limit else ''
  return ', '.join(names[:limit]) + more
