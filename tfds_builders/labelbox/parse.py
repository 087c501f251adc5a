"""Labelbox exports: export v2 NDJSON, the legacy JSON export, legacy TFRecords.

Which one the folder holds is worked out from the files at its root:
  * `*.ndjson` / `*.jsonl`: export v2 (project Export button, the SDK's
    `project.export()` / `export_v2()`), one data row per line; also a `.json`
    holding one v2 row or a list of them (`json.dump(task.result)`).
  * `*.json` holding a list of rows with `DataRow ID` / `Labeled Data`: the
    legacy (v1) JSON export.
  * `export.json` with `tfrecord_paths` and `legend`: the legacy TFRecord
    export (images with a class-index segmentation map).
One build reads one kind of export (all its files); an export of another
kind beside it is not read but reported, with its data rows and objects.

Rows are parsed into `Row`s (see `rows.py`); their images and masks are then
found locally or downloaded (`media.py`) and turned into `ImageRecord`s.
"""

from __future__ import annotations

import dataclasses
import pathlib
from typing import Any

from tfds_builders.core import report
from tfds_builders.core.errors import ExportError
from tfds_builders.core.exportfs import ExportFiles
from tfds_builders.core.records import ParsedExport
from tfds_builders.labelbox import (download, legacy_json, ndjson, rows,
                                    tfrecords)
from tfds_builders.labelbox.media import MediaFinder

NDJSON_SUFFIXES = ('.ndjson', '.jsonl')
FORMAT_NAMES = {'ndjson': 'Labelbox export v2 (NDJSON)',
                'v1': 'Labelbox legacy JSON export (v1)',
                'tfrecord': 'Labelbox legacy TFRecord export'}
_OTHER_NAMES = {'ndjson': 'a Labelbox export v2 saved as JSON',
                'v1': 'a Labelbox legacy JSON export (v1)',
                'tfrecord': 'a Labelbox legacy TFRecord export'}


def parse_export(export: ExportFiles, dl_manager,
                 fixed_classes: tuple[str, ...] | None = None, *,
                 deadline_s: float = download.DEADLINE_S,
                 max_bytes: int = download.MAX_BYTES) -> ParsedExport:
  """Reads whichever Labelbox export the folder holds; `deadline_s` and
  `max_bytes` bound each download (see `download.py`)."""
  root = export.root
  finder = MediaFinder(export, getattr(dl_manager, 'download_dir', None),
                       deadline_s=deadline_s, max_bytes=max_bytes)
  kind, files, contents, others = detect(export)
  issues, images, objects = _not_read(
      others, kind, [path.relative_to(root).as_posix() for path in files])
  if kind == 'tfrecord':
    parsed = tfrecords.parse(export, files[0], contents[0], finder,
                             fixed_classes)
    return dataclasses.replace(
        parsed, issues=issues + parsed.issues,
        export_images=parsed.export_images + images,
        export_objects=parsed.export_objects + objects)
  read = rows.ReadRows(issues=issues, export_images=images,
                       export_objects=objects)
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


def detect(export: ExportFiles) -> tuple[str, list[pathlib.Path], list,
                                        list[tuple[str | None, str, Any]]]:
  """(kind, files, parsed JSON of each file or None, others) of the export.

  Only one kind of export is read (all its files); `others` are the Labelbox
  exports of other kinds beside it, (kind, name, parsed JSON), and, beside
  an NDJSON export, JSON files that do not parse, (None, name, the error).
  """
  root = export.root
  at_root = [n for n in export.files() if '/' not in n]
  lines_files = [root / n for n in at_root
                 if pathlib.PurePosixPath(n).suffix.lower() in NDJSON_SUFFIXES]
  found: dict[str, list] = {'ndjson': [], 'v1': [], 'tfrecord': []}
  broken = []
  for name in at_root:
    if pathlib.PurePosixPath(name).suffix.lower() != '.json':
      continue
    try:
      content = export.read_json(name)
    except ExportError as e:
      if not lines_files:
        raise
      broken.append((None, name, e))
      continue
    kind = _json_kind(content)
    if kind:  # other JSON files (a COCO export beside it...) are ignored
      found[kind].append((root / name, content))
  if lines_files:
    kind, chosen = 'ndjson', [(path, None) for path in lines_files]
  else:
    kind = next((k for k in ('tfrecord', 'ndjson', 'v1') if found[k]), None)
    chosen = found.pop(kind) if kind else []
    if kind == 'tfrecord':  # one TFRecord export is read: the first
      found['tfrecord'], chosen = chosen[1:], chosen[:1]
  if chosen:
    others = broken + [(other, path.relative_to(root).as_posix(), content)
                       for other, entries in found.items()
                       for path, content in entries]
    files, contents = zip(*chosen)
    return kind, list(files), list(contents), others
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


def _not_read(others: list[tuple[str | None, str, Any]], kind: str,
              names: list[str]) -> tuple[list[report.Issue], int, int]:
  """Report entries for the exports beside the one read, with the data rows
  and objects they hold (counted in the export, listed as not included)."""
  issues, images, objects = [], 0, 0
  shown = ', '.join(names[:3]) + (f' and {len(names) - 3} more'
                                  if len(names) > 3 else '')
  read_as = (f'the build reads the {FORMAT_NAMES.get(kind, kind)}'
             f' ({shown})')
  for other, name, content in others:
    if other is None:
      issues.append(report.Issue(
          name, '', f'not read ({content.problem.rstrip(".")}): {read_as},'
          ' and a JSON file beside it that does not parse is not looked'
          ' into', report.WARNING, fix=content.fix))
      continue
    counted, n_rows, n_objects = '', 0, 0
    if other in _COUNTERS:  # (a TFRecord export's records are not opened)
      n_rows, n_objects = _COUNTERS[other](content)
      counted = f' with {_count(n_rows, "data row")} and' \
          f' {_count(n_objects, "object")}'
    images, objects = images + n_rows, objects + n_objects
    issues.append(report.Issue(
        name, '', f'{_OTHER_NAMES[other]}{counted}, not read: one build'
        f' reads one kind of export, and {read_as}', report.NOT_INCLUDED,
        n_objects, fix=f'Build {name} from a folder of its own, or delete it'
        f' if {names[0]} replaces it.'))
  return issues, images, objects


_COUNTERS = {'ndjson': ndjson.count, 'v1': legacy_json.count}


def _count(n: int, what: str) -> str:
  return f'{n} {what}' + ('' if n == 1 else 's')
