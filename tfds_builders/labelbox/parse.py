"""Labelbox exports: export v2 NDJSON, the legacy JSON export, legacy TFRecords.

Which one the folder holds is worked out from the files at its root:
  * `*.ndjson` / `*.jsonl`: export v2 (project Export button, the SDK's
    `project.export()` / `export_v2()`), one data row per line; also a `.json`
    holding one v2 row or a list of them (`json.dump(task.result)`).
  * `*.json` holding a list of rows with `DataRow ID` / `Labeled Data`: the
    legacy (v1) JSON export.
  * `export.json` with `tfrecord_paths` and `legend`: the legacy TFRecord
    export (images with a class-index segmentation map).

Rows are parsed into `Row`s (see `rows.py`); their images and masks are then
found locally or downloaded (`media.py`) and turned into `ImageRecord`s.
"""

from __future__ import annotations

import pathlib

from tfds_builders.core.errors import ExportError
from tfds_builders.core.exportfs import ExportFiles
from tfds_builders.core.records import ParsedExport
from tfds_builders.labelbox import (download, legacy_json, ndjson, rows,
                                    tfrecords)
from tfds_builders.labelbox.media import MediaFinder

NDJSON_SUFFIXES = ('.ndjson', '.jsonl')
FORMAT_NAMES = {'ndjson': 'Labelbox export v2 (NDJSON)',
                'v1': 'Labelbox legacy JSON export (v1)'}


def parse_export(export: ExportFiles, dl_manager,
                 fixed_classes: tuple[str, ...] | None = None, *,
                 deadline_s: float = download.DEADLINE_S,
                 max_bytes: int = download.MAX_BYTES) -> ParsedExport:
  """Reads whichever Labelbox export the folder holds; `deadline_s` and
  `max_bytes` bound each download (see `download.py`)."""
  root = export.root
  finder = MediaFinder(export, getattr(dl_manager, 'download_dir', None),
                       deadline_s=deadline_s, max_bytes=max_bytes)
  kind, files, contents = detect(export)
  if kind == 'tfrecord':
    return tfrecords.parse(export, files[0], contents[0], finder,
                           fixed_classes)
  read = rows.ReadRows()
  for path, content in zip(files, contents):
    name = path.relative_to(root).as_posix()
    if kind == 'ndjson' and content is None:
      ndjson.read_lines(export.real_path(name), name, read)
    elif kind == 'ndjson':
      ndjson.read_list(content, name, read)
    else:
      legacy_json.read_rows(content, name, read)
  return rows.to_parsed_export(read, export, finder, FORMAT_NAMES[kind],
                              files)


def detect(export: ExportFiles) -> tuple[str, list[pathlib.Path], list]:
  """(kind, files, parsed JSON of each file or None) of the export."""
  root = export.root
  at_root = [n for n in export.files() if '/' not in n]
  lines_files = [root / n for n in at_root
                 if pathlib.PurePosixPath(n).suffix.lower() in NDJSON_SUFFIXES]
  if lines_files:
    return 'ndjson', lines_files, [None] * len(lines_files)
  found: dict[str, list] = {'ndjson': [], 'v1': [], 'tfrecord': []}
  for name in at_root:
    if pathlib.PurePosixPath(name).suffix.lower() != '.json':
      continue
    path = root / name
    content = export.read_json(name)
    kind = _json_kind(content)
    if kind:  # other JSON files (a COCO export beside it...) are ignored
      found[kind].append((path, content))
  for kind in ('tfrecord', 'ndjson', 'v1'):
    if found[kind]:
      files, contents = zip(*found[kind])
      return kind, list(files), list(contents)
  listed = ', '.join(at_root[:10]) or 'nothing'
  raise ExportError(
      'no Labelbox export found: expected an export v2 *.ndjson file, a'
      ' legacy JSON export (*.json, a list of rows with "DataRow ID") or a'
      ' legacy TFRecord export (export.json with "tfrecord_paths" and'
      f' "legend"). The folder holds: {listed}.', file=str(root),
      fix='Point --manual_dir at the folder holding the .ndjson file that'
      " Labelbox's Export button (or project.export()) gave you.")


def _json_kind(content) -> str | None:
  if isinstance(content, dict):
    if 'tfrecord_paths' in content:
      return 'tfrecord'
    content = [content]
  if not isinstance(content, list) or not content:
    return None
  first = content[0]
  if not isinstance(first, dict):
    return None
  if 'data_row' in first:
    return 'ndjson'
  if {'DataRow ID', 'Labeled Data', 'External ID'} & set(first):
    return 'v1'
  return None
