"""Labelbox export v2: one JSON object per data row (NDJSON).

A row is `{data_row: {id, global_key, external_id, row_data}, media_attributes:
{height, width, mime_type}, projects: {<id>: {labels: [{annotations:
{objects, classifications}}]}}}`; an object has `name`, `annotation_kind`,
`feature_id` and one geometry: `bounding_box` {top, left, height, width},
`polygon` [{x, y}] (first point repeated at the end), `mask` {url},
`composite_mask` {url, color_rgb}, `point` {x, y} or `line` [{x, y}].
Model-run exports carry their labels and data split in
`experiments.<id>.runs.<id>` (`labels`, `split`).
"""

from __future__ import annotations

import urllib.parse
from typing import Any

from tfds_builders.core import report, values
from tfds_builders.core.errors import ExportError, SkippableError
from tfds_builders.core.exportfs import open_regular, parse_json
from tfds_builders.core.records import ObjectAnnotation
from tfds_builders.labelbox import rows
from tfds_builders.labelbox.media import MASK_FOLDERS, Media, media_for

_FIX_LINE = ('Re-download the export: every line must be one JSON object, and'
             ' an export cut short ends in a broken line.')


def read_lines(path: str, file: str, read: rows.ReadRows) -> None:
  """Reads an .ndjson file (a confined real path); a broken line is an error
  naming the line."""
  with open_regular(path, file=file) as lines:
    for line_no, raw in enumerate(lines, 1):
      if not raw.strip():
        continue
      try:  # the shared reader: bad UTF-8, bad JSON, deep nesting, huge ints
        row = parse_json(raw.rstrip(b'\r\n'), file=file)
      except ExportError as e:
        raise ExportError(e.problem, file=file, item=f'line {line_no}',
                          fix=_FIX_LINE) from None
      _check_row(row, file, f'line {line_no}')
      read_row(row, file, f'line {line_no}', read)


def read_list(content: Any, file: str, read: rows.ReadRows) -> None:
  """Reads v2 rows saved as one JSON value (a row or a list of rows)."""
  for i, row in enumerate(content if isinstance(content, list) else
                          [content], 1):
    _check_row(row, file, f'row #{i}')
    read_row(row, file, f'row #{i}', read)


def _check_row(row: Any, file: str, item: str) -> None:
  if not isinstance(row, dict) or not isinstance(row.get('data_row'), dict):
    raise ExportError('not a Labelbox export v2 data row (no "data_row"'
                      ' object).', file=file, item=item, fix=_FIX_LINE)


def read_row(row: dict, file: str, where: str, read: rows.ReadRows) -> None:
  read.export_images += 1
  data_row = row['data_row']
  row_id = str(data_row.get('id') or '')
  item = f'{where} (data row {row_id or "without id"})'
  labels = _labels(row)
  shapes = [_objects(label) for _, label in labels]  # (objects, why not, n)
  counts = [count for _, _, count in shapes]
  read.export_objects += sum(counts)
  skipped = [_skipped(label, file, item) for _, label in labels]
  usable = [i for i, flag in enumerate(skipped) if flag is False]
  unreadable = [(i, flag) for i, flag in enumerate(skipped)
                if isinstance(flag, str)]
  problem = None
  mime = _dict(row.get('media_attributes')).get('mime_type') or 'image/'
  mime = mime if isinstance(mime, str) else repr(mime)
  if not row_id:
    problem = 'data row has no id'
  elif not mime.startswith('image/'):
    problem = f'data row is {mime}, not an image'
  elif not labels:
    problem = 'data row has no label (not labelled yet)'
  elif unreadable:  # which label the row means is not known
    i, flag = unreadable[0]
    problem = f'label {_label_id(labels, i)}: {flag}'
  elif not usable:
    problem = 'every label of the data row is marked skipped'
  elif shapes[usable[0]][1]:  # the label that would be used is unreadable
    problem = f'label {_label_id(labels, usable[0])}: {shapes[usable[0]][1]}'
  if problem:
    read.issues.append(report.Issue(
        file, item, problem, report.SKIPPED_IMAGE if sum(counts) else
        report.NOT_INCLUDED, sum(counts)))
    read.left_out.append((_image(data_row, row_id), file))
    return
  chosen = usable[0]
  for i, (source, label) in enumerate(labels):
    if i != chosen:
      read.issues.append(report.Issue(
          file, item, f'label {_label_id(labels, i)} ({source})'
          f' is left out: only one label per data row is used, the first'
          f' not skipped ({_label_id(labels, chosen)})',
          report.NOT_INCLUDED, counts[i]))
  read.rows.append(_row(row, data_row, row_id, file, item,
                        labels[chosen][1], shapes[chosen][0], read.issues))


def _image(data_row: dict, row_id: str) -> Media:
  return media_for(data_row.get('global_key'), data_row.get('external_id'),
                   row_id, url=data_row.get('row_data'))


def _row(row: dict, data_row: dict, row_id: str, file: str, item: str,
         label: dict, objects: list, issues: list[report.Issue]
         ) -> rows.Row:
  keys = (data_row.get('global_key'), data_row.get('external_id'), row_id)
  return rows.Row(
      image_id=row_id, file=file, item=item, image=_image(data_row, row_id),
      filename=str(next(k for k in keys if k)),
      objects=rows.read_objects(objects, _object, file, item, issues),
      declared_size=rows.declared_size(row.get('media_attributes'),
                                       'media_attributes', file, item, issues),
      split=rows.split_of(_split(row), file, item, issues),
      extra={'classifications': _dict(_dict(label).get('annotations')).get(
          'classifications', [])})


def _object(obj: Any, index: int, file: str, item: str
            ) -> tuple[ObjectAnnotation, Media | None]:
  name = rows.class_name(obj, ('name', 'value'), file=file,
                         item=f'{item}: object #{index + 1}')
  where = f'{item}: object #{index + 1} ({name or "no name"})'
  annotation = ObjectAnnotation(label=name, where=where)
  if not name:
    annotation.unsupported_geometry = 'an object without a name'
  if 'bounding_box' in obj:
    annotation.box = rows.box(obj['bounding_box'], 'bounding_box', file=file,
                              item=where)
  elif 'polygon' in obj:
    annotation.polygons = [rows.polygon(obj['polygon'], 'polygon', file=file,
                                        item=where)]
  elif isinstance(obj.get('mask'), dict):
    url = obj['mask'].get('url')
    return rows.mask_object(annotation, media_for(
        obj.get('feature_id'), url=url, folders=MASK_FOLDERS))
  elif isinstance(obj.get('composite_mask'), dict):
    composite = obj['composite_mask']
    url = composite.get('url')
    return rows.mask_object(annotation, media_for(
        _composite_id(url), url=url, folders=MASK_FOLDERS), rows.colour(
            composite.get('color_rgb'), 'composite_mask.color_rgb', file=file,
            item=where))
  elif 'point' in obj or 'line' in obj:
    annotation.unsupported_geometry = 'point' if 'point' in obj else 'line'
  else:
    annotation.unsupported_geometry = str(obj.get('annotation_kind') or
                                          'an unknown')
  return annotation, None


def _composite_id(url: Any) -> str | None:
  """`.../masks/<composite mask id>/index/1` -> the id, to find it locally."""
  if not isinstance(url, str):
    return None
  parts = urllib.parse.urlsplit(url).path.split('/')
  return parts[parts.index('masks') + 1] if 'masks' in parts[:-1] else None


def _labels(row: dict) -> list[tuple[str, dict]]:
  """(where from, label) of a row: project labels, else model-run labels."""
  labels = [(f'project {project_id}', label)
            for project_id, project in _dict(row.get('projects')).items()
            for label in _list(_dict(project).get('labels'))]
  return labels or [
      (f'model run {run_id}', label)
      for experiment in _dict(row.get('experiments')).values()
      for run_id, run in _dict(_dict(experiment).get('runs')).items()
      for label in _list(_dict(run).get('labels'))]


def _split(row: dict) -> str | None:
  for experiment in _dict(row.get('experiments')).values():
    for run in _dict(_dict(experiment).get('runs')).values():
      if _dict(run).get('split'):
        return run['split']
  return None


def _objects(label: Any) -> tuple[list, str | None, int]:
  """(objects, why the row cannot be read or None, objects it holds)."""
  annotations = _dict(label).get('annotations')
  if annotations is not None and not isinstance(annotations, dict):
    return [], (f'annotations is {rows.what_is(annotations)}, not an object'
                ' with "objects"'), 0
  return rows.object_list(_dict(annotations).get('objects'),
                          'annotations.objects')


def _label_id(labels: list[tuple[str, Any]], index: int) -> str:
  return str(_dict(labels[index][1]).get('id', index + 1))


def _skipped(label: Any, file: str, item: str) -> bool | str:
  """`performance_details.skipped` as a flag, or what is wrong with it
  (`bool("false")` would be True: the row's only label lost unreported)."""
  value = _dict(_dict(label).get('performance_details')).get('skipped')
  try:
    return values.flag(value, 'performance_details.skipped', text=True,
                       file=file, item=item)
  except SkippableError as e:
    return e.problem


def _dict(value: Any) -> dict:
  return value if isinstance(value, dict) else {}


def _list(value: Any) -> list:
  return value if isinstance(value, list) else []


def count(content: Any) -> tuple[int, int]:
  """(data rows, objects) of v2 rows that are not read, for the report."""
  all_rows = content if isinstance(content, list) else [content]
  return len(all_rows), sum(_objects(label)[2] for row in all_rows
                            for _, label in _labels(_dict(row)))
