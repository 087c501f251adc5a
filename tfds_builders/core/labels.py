"""Class lists: read from the export when it names them, else from the data.

A list given by the export (`labels.txt`, CVAT/Datumaro `labelmap.txt`, a
label map, COCO categories, a Labelbox ontology) is kept in its own order,
because mask pixel values refer to it. Without one, the classes are the
sorted set of names found in the annotations, so two builds of the same
export always agree.
"""

from __future__ import annotations

import dataclasses
import functools
import pathlib
from typing import Iterable, Mapping

from tfds_builders.core.errors import ExportError

BACKGROUND = 'background'
LABEL_FILES = ('labels.txt', 'labelmap.txt')


@dataclasses.dataclass(frozen=True)
class ClassList:
  names: tuple[str, ...]
  source: str  # where the list came from, for the report
  # Optional RGB colour of each name (labelmap.txt), used to read RGB masks.
  colors: Mapping[str, tuple[int, int, int]] = dataclasses.field(
      default_factory=dict)

  def index(self, name: str) -> int:
    return self._lookup[name]

  @functools.cached_property
  def _lookup(self) -> dict[str, int]:
    return {n: i for i, n in enumerate(self.names)}

  def color_to_pixel(self) -> dict[tuple[int, int, int], int]:
    """Colour -> segmentation pixel value (label + 1, background 0)."""
    table = {c: self.index(n) + 1 for n, c in self.colors.items()
             if n in self.names}
    table.setdefault((0, 0, 0), 0)
    return table


def read_label_file(root: pathlib.Path) -> ClassList | None:
  """Reads `labels.txt` or `labelmap.txt` at the export root, if present."""
  for file_name in LABEL_FILES:
    path = root / file_name
    if path.is_file():
      return _parse_label_file(path, file_name)
  return None


def _parse_label_file(path: pathlib.Path, file_name: str) -> ClassList:
  names, colors = [], {}
  for line_no, raw in enumerate(path.read_text(encoding='utf-8').splitlines(),
                                1):
    line = raw.strip()
    if not line or line.startswith('#'):
      continue
    name, _, rest = line.partition(':')
    name = name.strip()
    color = rest.split(':', 1)[0]
    if color:
      try:
        r, g, b = (int(v) for v in color.split(','))
      except ValueError:
        raise ExportError(
            f'colour {color!r} is not "R,G,B".', file=file_name,
            item=f'line {line_no}',
            fix='Write lines as "name:R,G,B::" (CVAT labelmap.txt).') from None
      colors[name] = (r, g, b)
    if name == BACKGROUND:
      continue
    if name in names:
      raise ExportError(f'class {name!r} is listed twice.', file=file_name,
                        item=f'line {line_no}', fix='Remove the duplicate.')
    names.append(name)
  if not names:
    raise ExportError('the label file lists no classes.', file=file_name,
                      fix='List one class name per line, or delete the file.')
  return ClassList(tuple(names), file_name, colors)


def resolve_classes(given: ClassList | None,
                    found: Mapping[str, str]) -> ClassList:
  """Checks the names found in the data against the given list.

  Args:
    given: the list named by the export or the builder, or None.
    found: every class name seen in the annotations -> where it was first
      seen (for the error message).

  Raises:
    ExportError: a name in the data is not in the given list. Dropping those
      objects silently would quietly change what the model learns.
  """
  if given is None:
    names = sorted(n for n in found if n != BACKGROUND)
    if not names:
      raise ExportError('the export has no labelled objects, so there is no'
                        ' class list.',
                        fix='Add labels.txt listing the classes, or label some'
                        ' objects.')
    return ClassList(tuple(names), 'sorted names found in the annotations')
  unknown = {n: where for n, where in found.items()
             if n not in given.names and n != BACKGROUND}
  if unknown:
    listed = ', '.join(f'{n!r} (first in {w})' for n, w in sorted(
        unknown.items()))
    raise ExportError(
        f'classes not in the class list from {given.source}: {listed}.',
        fix=f'Add them to {given.source}, or relabel those objects.')
  return given


def first_seen(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
  """name -> where it first appears, from `(name, where)` pairs."""
  seen: dict[str, str] = {}
  for name, where in pairs:
    seen.setdefault(name, where)
  return seen
