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

from tfds_builders.core import report
from tfds_builders.core.records import ObjectAnnotation
from tfds_builders.labelbox import rows
from tfds_builders.labelbox.media import (MASK_FOLDERS, Media, check_keys,
                                          local_names)


def read_rows(content: Any, file: str, read: rows.ReadRows) -> None:
  for i, row in enumerate(content if isinstance(content, list) else
                          [content], 1):
    read_row(row if isinstance(row, dict) else {}, file, f'row #{i}', read)


def read_row(row: dict, file: str, where: str, read: rows.ReadRows) -> None:
  read.export_images += 1
  row_id = str(row.get('DataRow ID') or '')
  item = f'{where} (data row {row_id or "without id"})'
  label = row.get('Label')
  objects = label.get('objects') if isinstance(label, dict) else None
  objects = objects if isinstance(objects, list) else []
  read.export_objects += len(objects)
  problem = None
  if not row_id:
    problem = 'row has no "DataRow ID"'
  elif row.get('Skipped'):
    problem = 'data row was skipped in Labelbox'
  elif not isinstance(label, dict) or not label:
    problem = 'Label is empty (the data row was skipped or not labelled)'
  if problem:
    read.issues.append(report.Issue(
        file, item, problem,
        report.SKIPPED_IMAGE if objects else report.NOT_INCLUDED,
        len(objects)))
    return
  url = row.get('Labeled Data')
  url = url if isinstance(url, str) else None
  keys = (row.get('Global Key'), row.get('External ID'), row_id)
  check_keys(*keys[:2], file=file, item=item)
  attributes = row.get('Media Attributes')
  attributes = attributes if isinstance(attributes, dict) else {}
  width, height = attributes.get('width'), attributes.get('height')
  read.rows.append(rows.Row(
      image_id=row_id, file=file, item=item,
      image=Media(local_names(*keys, url=url), url),
      filename=str(next(k for k in keys if k)),
      objects=[_object(o, i, item) for i, o in enumerate(objects)],
      declared_size=(width, height) if isinstance(width, int) and isinstance(
          height, int) and width > 0 and height > 0 else None,
      split=rows.split_of(row.get('Data Split'), file, item, read.issues),
      extra={'classifications': label.get('classifications', [])}))


def _object(obj: Any, index: int, item: str
            ) -> tuple[ObjectAnnotation, Media | None]:
  obj = obj if isinstance(obj, dict) else {}
  name = str(obj.get('title') or obj.get('value') or '')
  annotation = ObjectAnnotation(
      label=name, where=f'{item}: object #{index + 1} ({name or "no name"})')
  if not name:
    annotation.unsupported_geometry = 'an object without a title'
  if 'bbox' in obj:
    annotation.box = rows.box(obj['bbox'])
  elif 'polygon' in obj:
    annotation.polygons = [rows.polygon(obj['polygon'])]
  elif 'point' in obj or 'line' in obj:
    annotation.unsupported_geometry = 'point' if 'point' in obj else 'line'
  elif isinstance(obj.get('instanceURI'), str):
    url = obj['instanceURI']
    return rows.mask_object(annotation, Media(
        local_names(obj.get('featureId'), url=url), url, MASK_FOLDERS))
  else:
    annotation.unsupported_geometry = 'an unknown'
  return annotation, None
