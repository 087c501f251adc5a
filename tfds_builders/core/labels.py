"""Class lists: read from the export when it names them, else from the data.

A list given by the export (`labels.txt`, CVAT/Datumaro `labelmap.txt`, a
label map, COCO categories, a Labelbox ontology) is kept in its own order.
Without one, the classes are the sorted set of names found in the
annotations, so two builds of the same export always agree. Class files are
read by `core.class_files`, which also says what mask pixel values mean.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Iterable, Mapping, Sequence

from tfds_builders.core.errors import ExportError

BACKGROUND = 'background'


@dataclasses.dataclass(frozen=True)
class ClassList:
  names: tuple[str, ...]
  source: str  # where the list came from, for the report

  def index(self, name: str) -> int:
    return self._lookup[name]

  def __contains__(self, name: str) -> bool:
    return name in self._lookup

  @functools.cached_property
  def _lookup(self) -> dict[str, int]:
    return {n: i for i, n in enumerate(self.names)}


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
    _check_storable(names, found)
    return ClassList(tuple(names), 'sorted names found in the annotations')
  _check_storable(given.names, {n: given.source for n in given.names})
  unknown = {n: where for n, where in found.items()
             if n not in given.names and n != BACKGROUND}
  if unknown:
    listed = ', '.join(f'{n!r} (first in {w})' for n, w in sorted(
        unknown.items()))
    raise ExportError(
        f'classes not in the class list from {given.source}: {listed}.',
        fix=f'Add them to {given.source}, or relabel those objects.')
  return given


def _check_storable(names: Sequence[str], where: Mapping[str, str]) -> None:
  """TFDS stores class names one per line and strips each line when the
  dataset is read: a line break inside a name would shift every label after
  it, and two names equal but for surrounding spaces would load as one
  duplicated name (the dataset would not load)."""
  stripped: dict[str, str] = {}
  for name in names:
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
      raise ExportError(
          f'class name {name!r} holds a line break or another control'
          ' character, which the dataset cannot store as one name'
          f' (first in {where.get(name, "?")}).',
          fix='Rename the class in the labelling tool and export again.')
    other = stripped.setdefault(name.strip(), name)
    if other != name:
      raise ExportError(
          f'class names {other!r} and {name!r} differ only in the spaces'
          ' around them, and are read back as one name (first in'
          f' {where.get(other, "?")} and {where.get(name, "?")}).',
          fix='Trim the class names in the labelling tool or the label map,'
          ' and export again.')


def first_seen(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
  """name -> where it first appears, from `(name, where)` pairs.

  Blank names are left out: such objects are skipped and reported by the
  encoder, they do not make a class.
  """
  seen: dict[str, str] = {}
  for name, where in pairs:
    if name and name.strip():
      seen.setdefault(name, where)
  return seen
