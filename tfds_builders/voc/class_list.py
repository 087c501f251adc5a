"""The class list and mask-value map of a VOC export.

A class file (`labels.txt`, `labelmap.txt`) at the root or in a dataset
folder gives both; several that disagree are an error when class masks
depend on them (a mask value must mean one class in the whole export), a
warning otherwise. An export with `SegmentationClass/` masks and no class
file uses the VOC devkit's 20 classes and colour map.
"""

from __future__ import annotations

from tfds_builders.core import report
from tfds_builders.core.class_files import find_class_file, read_class_file
from tfds_builders.core.errors import ExportError
from tfds_builders.core.exportfs import ExportFiles
from tfds_builders.core.labels import ClassList
from tfds_builders.core.mask_files import VOC_CLASSES, ValueMap
from tfds_builders.voc.layout import Group


def read(files: ExportFiles, groups: list[Group], issues: list[report.Issue]
         ) -> tuple[ClassList | None, ValueMap | None]:
  """The export's class list and mask-value map (None, None: the classes
  are the names found in the XML)."""
  names = class_files(files, groups)
  if names:
    found = [read_class_file(files, name) for name in names]
    first = _meaning(*found[0])
    for name, other in zip(names[1:], found[1:]):
      if _meaning(*other) == first:
        continue
      if any(g.segmentation_class for g in groups):
        raise ExportError(
            f'{names[0]} and {name} give different classes or mask values'
            f' ({", ".join(found[0][0].names)} / {", ".join(other[0].names)});'
            ' one export has one meaning for each mask value.',
            file=name, fix='Keep one class file at the export root.')
      issues.append(report.Issue(
          name, '', f'lists other classes than {names[0]}; {names[0]} is'
          ' used', report.WARNING, fix='Keep one class file at the export'
          ' root.'))
    return found[0]
  if any(g.segmentation_class for g in groups):
    return (ClassList(VOC_CLASSES, "the VOC devkit's 20 classes (the export"
                      ' has class masks and no labels.txt or labelmap.txt)'),
            ValueMap.voc_devkit())
  return None, None


def class_files(files: ExportFiles, groups: list[Group]) -> list[str]:
  """The class file of the export root and of each dataset folder."""
  return [n for n in dict.fromkeys(
      find_class_file(files, folder) for folder in
      ['', *(g.folder for g in groups)]) if n]


def _meaning(classes: ClassList, value_map: ValueMap) -> tuple:
  """What a class file says, without where it says it."""
  return (tuple(classes.names), dict(value_map.by_index),
          dict(value_map.by_colour), value_map.palette_by_index)
