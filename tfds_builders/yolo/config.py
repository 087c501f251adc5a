"""The files that describe a YOLO export: what they say, read safely.

  * The dataset YAML of Ultralytics (YOLOv5 to v11), Roboflow, CVAT
    "Ultralytics YOLO" and Datumaro `yolo_ultralytics`: `names` (a list, or a
    mapping `{0: person}`), `nc`, `path`, `train`/`val`/`test` and, for pose
    exports, `kpt_shape`.
  * Darknet's `obj.data` (CVAT "YOLO 1.1", Datumaro `yolo`): `key = value`
    lines, `classes=`, `train=`, `valid=`, `names=`, `backup=`.
  * Class lists, one name per line, line i naming class id i: `obj.names`,
    `classes.txt` (Label Studio, labelImg), Roboflow's `_darknet.labels`.

The YAML is composed into nodes and read from their text, never constructed
into Python objects: a class called `yes`, `1.0` or `null` stays that text
(PyYAML would make it True, 1.0 or None), every number still goes through
`core.values`, and aliases are refused (nested aliases expand a few hundred
bytes into gigabytes when walked). A YAML's `download:` (a URL or a script
Ultralytics runs) is never used.
"""

from __future__ import annotations

import dataclasses
import posixpath

import yaml

from tfds_builders.core import report, values
from tfds_builders.core.errors import ExportError, SkippableError
from tfds_builders.core.exportfs import ExportFiles, decode_text
from tfds_builders.core.labels import BACKGROUND, ClassList
from tfds_builders.core.mask_files import special_name

MAX_CONFIG_BYTES = 4 << 20  # dataset files are a few KB
_MAX_DEPTH = 32
_NULL_TAG = 'tag:yaml.org,2002:null'
# The tags YAML's core schema resolves plain values to (what `safe_load`
# knows); any other (`!!python/...`, `!custom`) is refused.
_PLAIN_TAGS = frozenset(f'tag:yaml.org,2002:{t}' for t in (
    'str', 'int', 'float', 'bool', 'null', 'seq', 'map', 'timestamp'))
CLASS_FILE_NAMES = ('obj.names', 'classes.txt', '_darknet.labels')
CLASS_FILE_SUFFIXES = ('.names',)


@dataclasses.dataclass
class Classes:
  """Class id -> name, as the export numbers its classes."""
  by_id: dict[int, str]
  source: str  # the file (and key) that named them, for the report

  @property
  def class_list(self) -> ClassList:
    """The names in id order. Names that mean background are left out: the
    schema reserves segmentation value 0 for it, and the encoder skips and
    reports objects labelled so (see `label`)."""
    names = [n for _, n in sorted(self.by_id.items())
             if special_name(n) != BACKGROUND]
    return ClassList(tuple(names), self.source)

  def label(self, class_id: int) -> str:
    name = self.by_id[class_id]
    return BACKGROUND if special_name(name) == BACKGROUND else name

  def ids(self) -> str:
    keys = sorted(self.by_id)
    if keys == list(range(len(keys))):
      return f'ids 0..{len(keys) - 1}'
    return 'ids ' + ', '.join(map(str, keys))


# The dataset YAML.


class _NoAliasLoader(yaml.SafeLoader):  # pylint: disable=too-many-ancestors
  """A safe loader that refuses aliases (`*name`)."""

  def compose_node(self, parent, index):
    if self.check_event(yaml.AliasEvent):
      mark = self.peek_event().start_mark
      raise yaml.composer.ComposerError(
          None, None, 'aliases (*name) are not accepted in a dataset file',
          mark)
    return super().compose_node(parent, index)


def read_yaml(files: ExportFiles, name: str) -> dict | None:
  """The top-level mapping of a YAML file as plain text values: str (None
  for null), lists and dicts with str keys; None when the document is not a
  mapping. ExportError when the file is not YAML."""
  text = files.read_text(name, limit=MAX_CONFIG_BYTES)
  try:
    node = yaml.compose(text, Loader=_NoAliasLoader)
  except yaml.YAMLError as e:
    mark = getattr(e, 'problem_mark', None)
    where = f'line {mark.line + 1}, column {mark.column + 1}' if mark else ''
    problem = getattr(e, 'problem', None) or str(e).splitlines()[0]
    raise ExportError(f'not valid YAML ({problem}).', file=name, item=where,
                      fix='Fix the YAML (a YAML linter shows where) or'
                      ' re-export it.') from None
  except RecursionError:
    raise ExportError('YAML is nested too deeply.', file=name,
                      fix='A dataset file needs two levels.') from None
  if not isinstance(node, yaml.MappingNode):
    return None
  return _plain(node, name, 0)


def _plain(node, name: str, depth: int):
  if depth > _MAX_DEPTH:
    raise ExportError('YAML is nested too deeply.', file=name,
                      fix='A dataset file needs two levels.')
  if node.tag not in _PLAIN_TAGS:  # `compose` keeps tags yaml.safe_load refuses
    raise ExportError(
        f'a value is tagged {node.tag}, which a dataset file does not use'
        ' (yaml.safe_load refuses it too).', file=name,
        item=f'line {node.start_mark.line + 1}',
        fix='Write the value as plain text, a list or a mapping.')
  if isinstance(node, yaml.ScalarNode):
    return None if node.tag == _NULL_TAG else node.value
  if isinstance(node, yaml.SequenceNode):
    return [_plain(n, name, depth + 1) for n in node.value]
  result = {}
  for key, value in node.value:
    if not isinstance(key, yaml.ScalarNode):
      raise ExportError('a YAML key is not text.', file=name,
                        item=f'line {key.start_mark.line + 1}',
                        fix='Use plain keys (train:, names:).')
    result[key.value] = _plain(value, name, depth + 1)  # last wins, as PyYAML
  return result


def is_dataset_yaml(doc: dict | None) -> bool:
  """Ultralytics needs `names` or `nc` (and train/val to train). A model
  YAML (`nc` with `backbone` and `head`: Roboflow's YOLOv5 notebook writes
  custom_yolov5s.yaml beside the data) names no classes and is not one."""
  if not isinstance(doc, dict) or not ('names' in doc or 'nc' in doc):
    return False
  return 'names' in doc or not {'backbone', 'head'} & doc.keys()


def yaml_classes(doc: dict, name: str, issues: list[report.Issue]
                 ) -> Classes | None:
  """`names` (list or mapping) or, failing that, `nc` as Ultralytics reads
  them; None when the YAML has neither."""
  names, count = doc.get('names'), doc.get('nc')
  nc = None
  if count is not None:
    nc = _whole(count, 'nc', name, 'nc:', low=1, high=1 << 20)
  if names is None:
    if nc is None:
      return None
    issues.append(report.Issue(
        name, 'names:', f'no class names, only nc: {nc}; the classes are'
        f' called class_0..class_{nc - 1}, as Ultralytics calls them',
        report.WARNING, fix='Add names: to the YAML.'))
    return Classes({i: f'class_{i}' for i in range(nc)}, f'{name} nc')
  if isinstance(names, list):
    by_id = {i: _class_name(v, name, f'names[{i}]')
             for i, v in enumerate(names)}
  elif isinstance(names, dict):
    by_id = {}
    for key, value in names.items():
      class_id = _whole(key, 'class id', name, f'names: {key}', high=1 << 20)
      if class_id in by_id:
        raise ExportError(f'class id {class_id} is named twice.', file=name,
                          item='names:', fix='Give each id one name.')
      by_id[class_id] = _class_name(value, name, f'names: {key}')
  else:
    raise ExportError(
        f'names is {_shown(names)}, not a list or a mapping of class names.',
        file=name, item='names:',
        fix="Write names: ['cat', 'dog'] or names: {0: cat, 1: dog}.")
  if not by_id:
    raise ExportError('names lists no classes.', file=name, item='names:',
                      fix='List the class names in class id order.')
  _check_unique(by_id, name, 'names:')
  if nc is not None and nc != len(by_id):
    issues.append(report.Issue(
        name, 'nc:', f'nc is {nc} but names has {len(by_id)} entries; the'
        ' names are used', report.WARNING, fix='Make nc match names.'))
  return Classes(dict(sorted(by_id.items())), f'{name} names')


def kpt_shape(doc: dict, name: str) -> tuple[int, int] | None:
  """Pose exports: `kpt_shape: [keypoints, 2 or 3]`."""
  shape = doc.get('kpt_shape')
  if shape is None:
    return None
  if not isinstance(shape, list) or len(shape) != 2:
    raise ExportError(f'kpt_shape is {_shown(shape)}, not [keypoints, dims].',
                      file=name, item='kpt_shape:',
                      fix='Write kpt_shape: [17, 3] (or remove it).')
  return (_whole(shape[0], 'kpt_shape[0]', name, 'kpt_shape:', low=1,
                 high=10_000),
          _whole(shape[1], 'kpt_shape[1]', name, 'kpt_shape:', low=2, high=3))


def _whole(value, what: str, file: str, item: str, low: int = 0,
           high: int = 1 << 20) -> int:
  if not isinstance(value, str):
    raise ExportError(f'{what} is {_shown(value)}, not a whole number.',
                      file=file, item=item, fix=f'Fix {what}.')
  try:
    return values.integer(value, what, text=True, low=low, high=high,
                          file=file, item=item)
  except SkippableError as e:  # the whole file depends on it
    raise ExportError(e.problem, file=file, item=item, fix=e.fix) from None


def _class_name(value, file: str, item: str) -> str:
  if not isinstance(value, str) or not value.strip():
    raise ExportError(f'class name {_shown(value)} is not a name.', file=file,
                      item=item, fix='Name every class.')
  return value.strip()


def _shown(value) -> str:
  shown = repr(value)
  return shown if len(shown) <= 60 else shown[:57] + '...'


def _check_unique(by_id: dict[int, str], file: str, item: str) -> None:
  seen: dict[str, int] = {}
  for class_id, name in by_id.items():
    if name in seen:
      raise ExportError(
          f'class {name!r} has two ids ({seen[name]} and {class_id}); a class'
          ' name must say which class it is.', file=file, item=item,
          fix='Rename one of them, or relabel its objects and remove it.')
    seen[name] = class_id


# Darknet obj.data.

# obj.data keys that are not lists of images (darknet's detector.c reads
# these; Datumaro reserves classes, names and backup).
DARKNET_KEYS = frozenset({'classes', 'names', 'backup', 'eval', 'results',
                          'labels', 'map', 'tree', 'top', 'leaves',
                          'prefix'})


def read_darknet_data(files: ExportFiles, name: str,
                      issues: list[report.Issue]
                      ) -> dict[str, tuple[str, int]] | None:
  """`key -> (value, line)` of an obj.data file; None when it has neither
  `names` nor `train` (not a darknet dataset file: `*.data` is a common
  suffix)."""
  data = files.read_bytes(name, limit=MAX_CONFIG_BYTES)
  if b'\0' in data:
    return None
  text, warning = decode_text(data, file=name)
  found: dict[str, tuple[str, int]] = {}
  for line_no, raw in enumerate(text.splitlines(), 1):
    line = raw.split('#', 1)[0].strip()
    key, sep, value = line.partition('=')
    if sep and key.strip() and value.strip():
      found.setdefault(key.strip().lower(), (value.strip(), line_no))
  if not {'names', 'train'} & set(found):
    return None
  if warning:
    issues.append(report.Issue(name, '', warning, report.WARNING,
                               fix='Save the file as UTF-8.'))
  return found


def darknet_class_count(data: dict[str, tuple[str, int]], name: str,
                        classes: Classes, issues: list[report.Issue]) -> None:
  """Reports a `classes=` that disagrees with the class list."""
  if 'classes' not in data:
    return
  value, line = data['classes']
  try:
    count = values.integer(value, 'classes', text=True, file=name,
                           item=f'line {line}')
  except SkippableError as e:
    issues.append(report.Issue.from_error(e, report.WARNING))
    return
  if count != len(classes.by_id):
    issues.append(report.Issue(
        name, f'line {line}', f'classes={count} but {classes.source} names'
        f' {len(classes.by_id)}; the names are used', report.WARNING,
        fix='Make classes= match the names file.'))


# Class files.


def is_class_file(name: str) -> bool:
  base = posixpath.basename(name).lower()
  return base in CLASS_FILE_NAMES or base.endswith(CLASS_FILE_SUFFIXES)


def read_class_names(files: ExportFiles, name: str,
                     issues: list[report.Issue]) -> Classes:
  """One class per line, line i (blank lines left out) naming id i."""
  lines = [line.strip() for line in files.read_text(
      name, limit=MAX_CONFIG_BYTES).splitlines()]
  while lines and not lines[-1]:
    lines.pop()
  if '' in lines:
    issues.append(report.Issue(
        name, f'line {lines.index("") + 1}', 'blank line inside the class'
        ' list is left out; the classes after it are numbered without it',
        report.WARNING, fix='Remove blank lines from the class list.'))
  names = [line for line in lines if line]
  if not names:
    raise ExportError('the class list names no classes.', file=name,
                      fix='List one class name per line, in class id order.')
  by_id = dict(enumerate(names))
  _check_unique(by_id, name, '')
  return Classes(by_id, name)
