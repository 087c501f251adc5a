"""One `<object>` of a PASCAL VOC XML file: name, flags, box, polygon.

`<bndbox>` children are read by tag (Roboflow writes xmin, xmax, ymin,
ymax); every number through `core.values`; a CVAT rotated rectangle
(`<attributes>` rotation) becomes its polygon.
"""

from __future__ import annotations

from tfds_builders.core import geometry, values
from tfds_builders.core.errors import SkippableError
from tfds_builders.core.records import ObjectAnnotation


def parse_object(element, index: int, file: str) -> ObjectAnnotation:
  item = f'object #{index + 1}'
  name = (text(element, 'name') or '').strip()
  where = f'{item} ({name or "no name"})'
  obj = ObjectAnnotation(
      label=name, where=where,
      is_difficult=values.flag(text(element, 'difficult'), '<difficult>',
                               text=True, file=file, item=where),
      is_truncated=values.flag(text(element, 'truncated'), '<truncated>',
                               text=True, file=file, item=where))
  boxes = element.findall('bndbox')
  if len(boxes) > 1:
    raise SkippableError(
        f'has {len(boxes)} <bndbox> elements; one object has one box.',
        file=file, item=where, fix='Make each box an <object> of its own.')
  if boxes:
    obj.box = tuple(_number(boxes[0], tag, file, where)
                    for tag in ('xmin', 'ymin', 'xmax', 'ymax'))
  polygon = element.find('polygon')
  if polygon is not None:
    points = _polygon_points(polygon, file, where)
    if points or obj.box is None:  # an empty <polygon/> beside a box: no shape
      obj.polygons = [points]
  rotation = _attribute(element, 'rotation')
  if rotation is not None and obj.box is not None and not obj.polygons:
    # CVAT stores a rotated rectangle as its unrotated box and the angle.
    degrees = values.number(rotation, 'rotation', text=True, file=file,
                            item=where)
    if degrees % 360:
      obj.polygons, obj.box = [geometry.rotated_box(obj.box, degrees)], None
  return obj


def _attribute(element, name: str) -> str | None:
  """`<attributes><attribute><name>N</name><value>V</value>` (CVAT)."""
  for attribute in element.findall('attributes/attribute'):
    if (text(attribute, 'name') or '') == name:
      return text(attribute, 'value')
  return None


def _polygon_points(polygon, file: str, item: str) -> list[float]:
  """`<pt><x/><y/></pt>...` (LabelMe, Labelbox) or `<x1/><y1/>...` (CVAT,
  Roboflow)."""
  points = polygon.findall('pt') or polygon.findall('point')
  if points:
    return [v for pt in points for v in (_number(pt, 'x', file, item),
                                         _number(pt, 'y', file, item))]
  coords, i = [], 1
  while polygon.find(f'x{i}') is not None:
    coords += [_number(polygon, f'x{i}', file, item),
               _number(polygon, f'y{i}', file, item)]
    i += 1
  return coords


def text(element, tag: str) -> str | None:
  text = element.findtext(tag)
  return text.strip() if text else None


def _number(element, tag: str, file: str, item: str) -> float:
  return values.number(text(element, tag), f'<{tag}>', text=True, file=file,
                       item=item)
