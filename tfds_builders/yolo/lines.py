"""YOLO label lines: one object per line, coordinates as fractions of the image.

  class cx cy w h                    a box (Darknet, Ultralytics detect)
  class cx cy w h score              a box with a confidence, as `yolo
                                     predict save_conf=True` writes: the box
                                     is kept, the score is not
  class x1 y1 x2 y2 ... xn yn        a polygon, n >= 3 (Ultralytics segment,
                                     Roboflow, CVAT); an oriented box
                                     (Ultralytics OBB, 4 points) is the same
                                     line, and is read as the polygon it is
  class cx cy w h k1x k1y [k1v] ...  pose, when the YAML's `kpt_shape: [k, d]`
                                     says so and the line has 5 + k*d values:
                                     the box is kept, the keypoints are not
                                     (the schema has none; reported)

An even number of values above 6 is not a polygon (odd coordinates); it is
read as pose only with `kpt_shape`, as Ultralytics does, else the object is
skipped with a hint.

Class ids are whole numbers in the class list. `2.0` is accepted (some
converters write ids as floats, and Ultralytics reads every value as a
float); `2.5`, `-1`, `1_0` or an id the class list lacks skip the object.

Every number goes through `core.values` as text: finite decimals only (no
`nan`, `inf`, `1e400`, `1_0`). Coordinates in [-1, 2] (one image size past
each edge) are handed on, and the shared encoder clips what reaches outside
the image and reports it; further out is no normalised coordinate (pixels
written by mistake) and the object is skipped. Boxes and polygons stay
relative here (`relative_box`, `relative_polygons`): the image size is only
known when the encoder reads the image.
"""

from __future__ import annotations

import dataclasses

from tfds_builders.core import report, values
from tfds_builders.core.errors import SkippableError
from tfds_builders.core.records import ObjectAnnotation
from tfds_builders.yolo.config import Classes

LOW, HIGH = -1.0, 2.0  # normalised coordinates further out are garbage
_MAX_ID = 1 << 40
_SHAPES = ('a box is "class cx cy w h" (5 values), a polygon "class x1 y1'
           ' ... xn yn" (an odd number, at least 7)')


@dataclasses.dataclass
class LabelFile:
  objects: list[ObjectAnnotation]
  issues: list[report.Issue]
  count: int  # non-blank lines: the objects the file holds
  scores: int = 0  # lines with a confidence score (not kept)
  keypoints: int = 0  # pose lines (keypoints not kept)


def count_objects(text: str) -> int:
  return sum(1 for line in text.splitlines() if line.strip())


def parse_label_text(text: str, file: str, classes: Classes,
                     kpt_shape: tuple[int, int] | None) -> LabelFile:
  result = LabelFile([], [], 0)
  for line_no, line in enumerate(text.splitlines(), 1):
    tokens = line.split()
    if not tokens:
      continue
    result.count += 1
    item = f'line {line_no}'
    try:
      obj, kind = _parse_line(tokens, file, item, classes, kpt_shape)
    except SkippableError as e:
      result.issues.append(report.Issue.from_error(
          e, report.SKIPPED_OBJECT, 1, file=file, item=item))
      continue
    result.objects.append(obj)
    result.scores += kind == 'score'
    result.keypoints += kind == 'pose'
  return result


def _parse_line(tokens: list[str], file: str, item: str, classes: Classes,
                kpt_shape: tuple[int, int] | None
                ) -> tuple[ObjectAnnotation, str]:
  n = len(tokens)
  pose = kpt_shape is not None and n == 5 + kpt_shape[0] * kpt_shape[1]
  if n < 5 or (n % 2 == 0 and n > 6 and not pose):
    hint = ('; a pose line needs kpt_shape in the dataset YAML'
            if n % 2 == 0 and n > 6 and kpt_shape is None else '')
    expected = (f', a pose line {5 + kpt_shape[0] * kpt_shape[1]}'
                if kpt_shape else '')
    raise SkippableError(
        f'line has {n} values; {_SHAPES}{expected}{hint}.', file=file,
        item=item, fix='Fix or delete the line.')
  class_id = _class_id(tokens[0], file, item, classes)
  label = classes.label(class_id)
  where = f'{item} ({classes.by_id[class_id]})'
  box = n in (5, 6) or pose
  numbers = [_fraction(t, _name(i, box), file, where)
             for i, t in enumerate(tokens[1:5] if box else tokens[1:])]
  obj = ObjectAnnotation(label=label, where=where)
  if box:
    cx, cy, w, h = numbers[:4]
    obj.relative_box = (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
    if n == 6:  # the score is checked as a number, not kept
      values.number(tokens[5], 'score', text=True, file=file, item=where)
    return obj, 'pose' if pose else 'score' if n == 6 else 'box'
  obj.relative_polygons = [numbers]
  return obj, 'polygon'


def _name(index: int, box: bool) -> str:
  if box:
    return ('cx', 'cy', 'w', 'h')[index]
  return f'{"xy"[index % 2]}{index // 2 + 1}'


def _class_id(token: str, file: str, item: str, classes: Classes) -> int:
  try:
    class_id = values.integer(token, 'class id', text=True, low=-_MAX_ID,
                              high=_MAX_ID, file=file, item=item)
  except values.BadValue:
    number = values.number(token, 'class id', text=True, file=file,
                           item=item, limit=_MAX_ID)
    if not number.is_integer():
      raise values.BadValue(
          f'class id {token!r} is not a whole number.', file=file, item=item,
          fix='Class ids are whole numbers: the line number of the class in'
          ' the class list, from 0.') from None
    class_id = values.integer(number, 'class id', low=-_MAX_ID, high=_MAX_ID,
                              file=file, item=item)
  if class_id not in classes.by_id:
    raise SkippableError(
        f'class id {class_id} is not in the class list from {classes.source}'
        f' ({classes.ids()}).', file=file, item=item,
        fix='Add the class to the class list (in id order), or fix the id.')
  return class_id


def _fraction(token: str, what: str, file: str, item: str) -> float:
  value = values.number(token, what, text=True, file=file, item=item)
  if not LOW <= value <= HIGH:
    raise values.BadValue(
        f'{what} {token!r} is far outside 0..1: YOLO coordinates are'
        ' fractions of the image width and height.', file=file, item=item,
        fix='Write normalised coordinates (pixels divided by the image size)'
        ' or re-export the labels.')
  return value
