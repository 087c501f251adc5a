"""The legacy Labelbox JSON export (export v1, `project.export_labels()`).

A list of rows (some tools save a single row object): `DataRow ID`, `Labeled
Data` (the image URL), `External ID`, `Global Key`, `Label` {`objects`:
[{title, value, featureId, bbox {top, left, height, width} | polygon [{x, y}]
| point | line | instanceURI}], `classifications`}, `Skipped`, `Data Split`,
`Media Attributes` {width, height, mimeType}. Every v1 object carries an
`instanceURI`; it is the geometry only for objects drawn with the mask tool.
"""

from __future__ import annotations

from typing import Any

from tfds_builders.core import report, values
from tfds_builders.core.records import ObjectAnnotation
from tfds_builders.labelbox import rows
from tfds_builders.labelbox.media import MASK_FOLDERS, Media, media_for


def read_rows(content: Any, file: str, read: rows.ReadRows) -> None:
  for i, row in enumerate(content if isinstance(content, list) else
                          [content], 1):
    read_row(row if isinstance(row, dict) else {}, file, f'row #{i}', read)


def read_row(row: dict, file: str, where: str, read: rows.ReadRows) -> None:
  read.export_images += 1
  row_id = row.get('DataRow ID')
  row_id = row_id if isinstance(row_id, str) else ''
  item = f'{where} (data row {row_id or "without id"})'
  label = row.get('Label')
  objects, shape_problem, count = _objects(label)
  read.export_objects += count
  attributes = row.get('Media Attributes')
  attributes = attributes if isinstance(attributes, dict) else {}
  mime = attributes.get('mimeType') or 'image/'
  skipped, bad_flag = _skipped(row.get('Skipped'), file, item)
  problem, fix = None, ''
  if not row_id:
    problem = 'row has no "DataRow ID"'
  elif bad_flag:
    problem, fix = bad_flag.problem, bad_flag.fix
  elif skipped or label == 'Skip':
    problem = 'data row was skipped in Labelbox'
  elif not label:
    problem = 'Label is empty (the data row was skipped or not labelled)'
  elif not isinstance(label, dict):
    problem = f'Label is {rows.what_is(label)}, not an object with "objects"'
  elif not isinstance(mime, str) or not mime.startswith('image/'):
    problem = f'data row is {mime}, not an image'
  elif shape_problem:
    problem = shape_problem
  image = media_for(row.get('Global Key'), row.get('External ID'), row_id,
                    url=row.get('Labeled Data'))
  if problem:
    read.issues.append(report.Issue(
        file, item, problem,
        report.SKIPPED_IMAGE if count else report.NOT_INCLUDED, count, fix))
    read.left_out.append((image, file))
    return
  keys = (row.get('Global Key'), row.get('External ID'), row_id)
  read.rows.append(rows.Row(
      image_id=row_id, file=file, item=item, image=image,
      filename=str(next(k for k in keys if k)),
      objects=rows.read_objects(objects, _object, file, item, read.issues),
      declared_size=rows.declared_size(attributes, 'Media Attributes', file,
                                       item, read.issues),
      split=rows.split_of(row.get('Data Split'), file, item, read.issues),
      extra={'classifications': label.get('classifications', [])}))


def _object(obj: Any, index: int, file: str, item: str
            ) -> tuple[ObjectAnnotation, Media | None]:
  name = rows.class_name(obj, ('title', 'value'), file=file,
                         item=f'{item}: object #{index + 1}')
  where = f'{item}: object #{index + 1} ({name or "no name"})'
  annotation = ObjectAnnotation(label=name, where=where)
  if not name:
    annotation.unsupported_geometry = 'an object without a title'
  if 'bbox' in obj:
    annotation.box = rows.box(obj['bbox'], 'bbox', file=file, item=where)
  elif 'polygon' in obj:
    annotation.polygons = [rows.polygon(obj['polygon'], 'polygon', file=file,
                                        item=where)]
  elif 'point' in obj or 'line' in obj:
    annotation.unsupported_geometry = 'point' if 'point' in obj else 'line'
  elif isinstance(obj.get('instanceURI'), str):
    return rows.mask_object(annotation, media_for(
        obj.get('featureId'), url=obj['instanceURI'], folders=MASK_FOLDERS))
  else:
    annotation.unsupported_geometry = 'an unknown'
  return annotation, None


def _objects(label: Any) -> tuple[list, str | None, int]:
  """(objects, why the row cannot be read or None, objects it holds)."""
  if isinstance(label, list):  # [{objects: [...]}, ...]: count what it holds
    return [], None, sum(rows.object_list(
        l.get('objects') if isinstance(l, dict) else None, '')[2]
                         for l in label)
  return rows.object_list(label.get('objects') if isinstance(label, dict)
                          else None, 'Label.objects')


def _skipped(value: Any, file: str, item: str
             ) -> tuple[bool, values.BadValue | None]:
  """`Skipped` as a flag (true/false, 0/1, also as text), or the error."""
  try:
    return values.flag(value, 'Skipped', text=True, file=file,
                       item=item), None
  except values.BadValue as e:
    return False, e


def count(content: Any) -> tuple[int, int]:
  """(data rows, objects) of a v1 export that is not read, for the report."""
  all_rows = content if isinstance(content, list) else [content]
  return len(all_rows), sum(_objects(row.get('Label'))[2] for row in all_rows
                            if isinstance(row, dict))
