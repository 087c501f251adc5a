"""Class files: `labels.txt` and CVAT/Datumaro `labelmap.txt`.

`labels.txt` holds one class name per line. `labelmap.txt` (written by CVAT
and Datumaro with VOC exports) holds `name:R,G,B:parts:actions` per line
after a `# label:color_rgb:parts:actions` header, background first. Both
give the class list in their order and the `ValueMap` that says what the
pixel values (positions) or colours of the export's masks mean. Background
and void entries are kept in the map and out of the class list.
"""

from __future__ import annotations

from tfds_builders.core import values
from tfds_builders.core.errors import ExportError
from tfds_builders.core.exportfs import ExportFiles
from tfds_builders.core.labels import BACKGROUND, ClassList
from tfds_builders.core.mask_files import VOID, ValueMap, special_name

CLASS_FILES = ('labels.txt', 'labelmap.txt')
_FIX_LABELMAP = 'Write lines as "name:R,G,B::" (CVAT labelmap.txt).'


def find_class_file(files: ExportFiles, *folders: str) -> str | None:
  """The first class file in `folders` (relative; '' is the export root)."""
  for folder in folders:
    for file_name in CLASS_FILES:
      name = f'{folder.strip("/")}/{file_name}' if folder.strip('/') else (
          file_name)
      if files.has(name):
        return name
  return None


def read_name_list(files: ExportFiles, name: str) -> list[tuple[int, str]]:
  """`(line number, text)` of each non-blank, non-comment line of a list."""
  lines = []
  for line_no, raw in enumerate(files.read_text(name).splitlines(), 1):
    line = raw.strip()
    if line and not line.startswith('#'):
      lines.append((line_no, line))
  return lines


def read_class_file(files: ExportFiles, name: str
                    ) -> tuple[ClassList, ValueMap]:
  """Reads `labels.txt` or `labelmap.txt` into the class list and value map."""
  is_labelmap = name.rsplit('/', 1)[-1] == 'labelmap.txt'
  names, colours, seen = [], {}, {}
  for line_no, line in read_name_list(files, name):
    item = f'line {line_no}'
    class_name, colour = line, None
    if is_labelmap or _looks_like_labelmap(line):
      class_name, _, rest = line.partition(':')
      colour = _colour(rest.split(':', 1)[0], name, item)
    class_name = class_name.strip()
    if not class_name:
      raise ExportError('a line has no class name.', file=name, item=item,
                        fix='Name the class or delete the line.')
    if class_name in seen:
      raise ExportError(f'class {class_name!r} is listed twice (lines'
                        f' {seen[class_name]} and {line_no}).', file=name,
                        item=item, fix='Remove the duplicate.')
    seen[class_name] = line_no
    names.append(class_name)
    if colour is not None:
      colours[class_name] = colour
  value_map = ValueMap.from_list(names, name, colours)
  classes = [n for n in names if special_name(n) not in (BACKGROUND, VOID)
             and colours.get(n) != (0, 0, 0)]  # black is the background
  if not classes:
    raise ExportError('the class file lists no classes.', file=name,
                      fix='List one class name per line, or delete the file.')
  return ClassList(tuple(classes), name), value_map


def _looks_like_labelmap(line: str) -> bool:
  """`name:0,0,0::` in a file not called labelmap.txt."""
  parts = line.split(':')
  return len(parts) >= 2 and parts[1].count(',') == 2


def _colour(text: str, file: str, item: str) -> tuple[int, int, int] | None:
  text = text.strip()
  if not text:
    return None
  parts = text.split(',')
  if len(parts) != 3:
    raise ExportError(f'colour {text!r} is not "R,G,B".', file=file,
                      item=item, fix=_FIX_LABELMAP)
  return tuple(values.integer(v, 'colour value', text=True, high=255,
                              file=file, item=item) for v in parts)
