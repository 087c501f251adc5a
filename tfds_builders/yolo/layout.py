"""Recognising a YOLO export: its classes, and which images are in which split.

Layouts, the first found wins:

  * Ultralytics: a dataset YAML (`data.yaml`, or any `*.yaml` with `names`
    or `nc`) as Ultralytics, Roboflow, CVAT "Ultralytics YOLO" and Datumaro
    write it. `path` is the dataset root (honoured only inside the export,
    else the YAML's folder is used and that is reported); `train`, `val`
    (or `validation`, `minival`) and `test` are each a folder of images
    (read recursively), a `.txt` list of image paths, or a list of either.
  * Darknet: `obj.data` (CVAT "YOLO 1.1", Datumaro `yolo`): `names=` the
    class list, `train=`/`valid=`/`test=` (or other keys naming `.txt`
    lists) the split lists, with paths relative to the darknet folder whose
    `data/` the export is (`data/obj_train_data/a.jpg`).
  * A class list (`classes.txt`, `obj.names`, Roboflow's `_darknet.labels`)
    with images and label files (Label Studio, labelImg, Roboflow "YOLO
    Darknet", CVAT without obj.data). Lists named by a split word beside the
    class list or at the root (`train.txt`, `valid.txt`) state the splits;
    without them every image is in the dataset, split by its folders
    (`images/train/`, `valid/`), else by hashing.

When the YAML or obj.data states its splits, or split lists do, the images
they name are the dataset and any other image is reported as not included;
otherwise every image is (`placing.py` keeps that account). Each label file
is found from its image by `parse.label_for`. Recognising is kept apart from
reading the label lines (`parse.py`, `lines.py`), as in `voc/`.
"""

from __future__ import annotations

import dataclasses
import posixpath
import re

from tfds_builders.core import report, splits
from tfds_builders.core.errors import ExportError
from tfds_builders.core.exportfs import ExportFiles
from tfds_builders.core.lookup import IMAGE_SUFFIXES, ImageLookup
from tfds_builders.yolo import config, paths
from tfds_builders.yolo.config import Classes
from tfds_builders.yolo.placing import Missing, Placement, Placer

# YAML keys Ultralytics reads as splits (it renames `validation` to `val`).
_YAML_SPLITS = (('train', splits.TRAIN), ('val', splits.VALIDATION),
                ('validation', splits.VALIDATION),
                ('minival', splits.VALIDATION), ('test', splits.TEST))
_DATASET_YAMLS = ('data.yaml', 'dataset.yaml', 'data.yml')
_NUMBERS = re.compile(r'[-+0-9.eE]+(?:\s+[-+0-9.eE]+){4,}')


@dataclasses.dataclass
class Layout:
  kind: str  # for the report's export format
  classes: Classes
  stated: bool  # images nothing names are not included
  states: str = ''  # the file(s) stating the splits, for messages
  images: dict[str, Placement] = dataclasses.field(default_factory=dict)
  missing: list[Missing] = dataclasses.field(default_factory=list)
  kpt_shape: tuple[int, int] | None = None
  config_files: list[str] = dataclasses.field(default_factory=list)
  issues: list[report.Issue] = dataclasses.field(default_factory=list)


def find_layout(files: ExportFiles, lookup: ImageLookup) -> Layout:
  return _Finder(files, lookup).find()


def _depth_order(name: str, preferred: tuple[str, ...]):
  base = posixpath.basename(name).lower()
  return (name.count('/'), base not in preferred, name)


class _Finder:
  """Finds the layout; collects placements and issues on the way."""

  def __init__(self, files: ExportFiles, lookup: ImageLookup):
    self.files, self.lookup = files, lookup
    self.issues: list[report.Issue] = []
    self.placer = Placer(files, lookup, self.issues)
    self.used: list[str] = []  # config and class files
    self._known: set[str] | None = None
    self._folder_set: set[str] | None = None

  def find(self) -> Layout:
    dataset_yaml = self._dataset_yaml()
    darknet = None if dataset_yaml else self._darknet_data()
    if dataset_yaml:
      layout = self._ultralytics(*dataset_yaml)
    elif darknet:
      layout = self._darknet(*darknet)
    else:
      layout = self._bare()
    placer = self.placer
    if layout.stated and not placer.images and not placer.missing:
      self.issues.append(report.Issue(
          layout.states, '', 'names no image of the export; every image is'
          ' used, split by its folders or by hashing', report.WARNING,
          fix='Fix the split paths.'))
      layout.stated = False
    if not layout.stated:
      placer.place_all()
    placer.report_repeats()
    layout.images, layout.missing = placer.images, placer.missing
    layout.config_files = list(dict.fromkeys(self.used + placer.lists))
    layout.issues = self.issues
    return layout

  # Ultralytics.

  def _dataset_yaml(self) -> tuple[str, dict] | None:
    found = []
    for name in self.files.files(suffixes=('.yaml', '.yml')):
      try:
        doc = config.read_yaml(self.files, name)
      except ExportError as e:
        if posixpath.basename(name).lower() in _DATASET_YAMLS:
          raise
        self.issues.append(report.Issue.from_error(e, report.WARNING))
        continue
      if config.is_dataset_yaml(doc):
        found.append((name, doc))
    found.sort(key=lambda f: _depth_order(f[0], _DATASET_YAMLS))
    for name, _ in found[1:]:
      self.issues.append(report.Issue(
          name, '', f'another dataset YAML; not read ({found[0][0]} is)',
          report.WARNING, fix='Keep one dataset YAML in the export.'))
    return found[0] if found else None

  def _ultralytics(self, name: str, doc: dict) -> Layout:
    self.used.append(name)
    # Without names, a class list file names the classes better than nc's
    # class_0, class_1... (what Ultralytics calls them).
    classes = (self._class_file('', required=False) if doc.get('names') is None
               else None) or config.yaml_classes(
                   doc, name, self.issues) or self._class_file(
                       f'{name} has neither names nor nc')
    root = self._dataset_root(doc, name)
    stated = False
    for key, split in _YAML_SPLITS:
      value = doc.get(key)
      for entry in value if isinstance(value, list) else [value]:
        if entry is None or entry == '':
          continue
        if not isinstance(entry, str):
          self.issues.append(report.Issue(
              name, f'{key}:', f'{entry!r} is not a path; not read',
              report.WARNING, fix='Give a folder or a .txt list.'))
          continue
        stated = True
        self._yaml_entry(name, key, entry, Placement(
            split, f'{name} {key}: {paths.clean(entry)}', name), root)
    return Layout(f'Ultralytics {name}', classes, stated, name,
                  kpt_shape=config.kpt_shape(doc, name))

  def _dataset_root(self, doc: dict, name: str) -> str:
    folder = posixpath.dirname(name)
    path = doc.get('path')
    if not isinstance(path, str) or not path.strip():
      return folder
    given = paths.clean(path)
    root = self.files.root.as_posix()
    if given.rstrip('/') == root:
      return ''
    if given.startswith(root + '/'):
      given = given[len(root) + 1:]
    candidate = None if paths.is_outside(given) else paths.join_inside(
        folder, given)
    if candidate is not None and candidate in self._folders:
      return candidate
    where = ('outside the export' if candidate is None else
             'not a folder of the export')
    self.issues.append(report.Issue(
        name, 'path:', f'dataset root {path!r} is {where}; the folder of the'
        f' YAML ({folder or "."}) is used instead', report.WARNING,
        fix='Write path: . (or leave it out): the export is read where it'
        ' is, not where it was written.'))
    return folder

  def _yaml_entry(self, name: str, key: str, entry: str,
                  placement: Placement, root: str) -> None:
    found = paths.resolve(entry, [root], self.known,
                          prefixes=paths.ULTRALYTICS_PREFIXES, fallback='')
    if found.name is None:
      self.issues.append(report.Issue(
          name, f'{key}:', f'{entry!r} {found.problem}; no images from it',
          report.WARNING, fix=f'Point {key}: at a folder or list in the'
          ' export, relative to the YAML (or to path:).'))
      return
    if found.note:
      self.issues.append(report.Issue(
          name, f'{key}:', f'{entry!r} is not in the export as written;'
          f' {found.note}', report.REPAIRED,
          fix=f'Write {key}: relative to the YAML\'s folder (or to path:).'))
    if found.name in self._folders:
      self.placer.place_folder(found.name, placement)
    elif posixpath.splitext(found.name)[1].lower() in IMAGE_SUFFIXES:
      self.placer.place(self.lookup.find(found.name).name or found.name,
                        placement)
    else:
      self.placer.read_list(found.name, placement,
                            [root, posixpath.dirname(found.name), ''])

  # Darknet.

  def _darknet_data(self) -> tuple[str, dict] | None:
    candidates = sorted(self.files.files(suffixes=('.data',)),
                        key=lambda n: _depth_order(n, ('obj.data',)))
    for name in candidates:
      data = config.read_darknet_data(self.files, name, self.issues)
      if data:
        return name, data
    return None

  def _darknet(self, name: str, data: dict) -> Layout:
    self.used.append(name)
    folder = posixpath.dirname(name)
    bases = [folder] + ([posixpath.dirname(folder)] if posixpath.basename(
        folder).lower() == 'data' else []) + ['']
    classes = None
    if 'names' in data:
      value, line = data['names']
      found = paths.resolve(value, bases, self.known,
                            prefixes=paths.DARKNET_PREFIXES)
      if found.name and found.name not in self._folders:
        self.used.append(found.name)
        classes = config.read_class_names(self.files, found.name, self.issues)
      else:
        problem = found.problem or 'is a folder'
        self.issues.append(report.Issue(
            name, f'line {line}', f'names={value} {problem}; looking for a'
            ' class list elsewhere', report.WARNING,
            fix='Put the names file in the export or fix its path.'))
    classes = classes or self._class_file(f'{name} names no class list')
    config.darknet_class_count(data, name, classes, self.issues)
    stated = False
    for key, (value, line) in data.items():
      split = splits.split_word(key)
      if key in config.DARKNET_KEYS or (
          split is None and not value.lower().endswith('.txt')):
        continue
      stated = True
      found = paths.resolve(value, bases, self.known,
                            prefixes=paths.DARKNET_PREFIXES)
      if found.name is None or found.name in self._folders:
        problem = found.problem or 'is a folder'
        self.issues.append(report.Issue(
            name, f'line {line}', f'{key}={value} {problem}; no images from'
            ' it', report.WARNING,
            fix='Put the list in the export or fix its path.'))
        continue
      placement = Placement(split, f'{found.name} (obj.data {key})'
                            if split else '', found.name)
      self.placer.read_list(found.name, placement,
                            bases + [posixpath.dirname(found.name)],
                            paths.DARKNET_PREFIXES)
    return Layout(f'Darknet {name}', classes, stated, name)

  # A class list with images and label files.

  def _bare(self) -> Layout:
    classes = self._class_file('no data.yaml, obj.data or class list found')
    near = [posixpath.dirname(classes.source), '']
    stated = []
    for name in self.files.files(suffixes=('.txt',)):
      stem = posixpath.splitext(posixpath.basename(name))[0]
      split = splits.split_word(stem)
      if (split and posixpath.dirname(name) in near and
          name not in self.used and self._is_image_list(name)):
        stated.append(name)
        self.placer.read_list(
            name, Placement(split, f'list file {name}', name),
            [posixpath.dirname(name), ''], paths.DARKNET_PREFIXES)
    return Layout(f'{classes.source} + label files', classes, bool(stated),
                  ', '.join(stated))

  def _is_image_list(self, name: str) -> bool:
    """A list names images (`data/obj/a.jpg`); a label file (of an image
    called `train.jpg`) holds lines of numbers."""
    for line in self.files.read_text(name).splitlines():
      if line.strip():
        return not _NUMBERS.fullmatch(line.strip())
    return False

  def _class_file(self, why: str, required: bool = True) -> Classes | None:
    """The class list file nearest the root; the same list in several
    (Roboflow writes `_darknet.labels` per split) is fine, different ones
    are an error. None when there is none and it is not `required`."""
    names = sorted((n for n in self.files.files() if config.is_class_file(n)),
                   key=lambda n: _depth_order(n, config.CLASS_FILE_NAMES))
    if not names and not required:
      return None
    if not names and not self.files.files(suffixes=('.txt',)):
      raise ExportError(
          'no YOLO export found: no data.yaml, obj.data, class list or label'
          ' files.', file=str(self.files.root),
          fix='Point --manual_dir at the folder holding the YOLO export.')
    if not names:
      raise ExportError(
          f'{why}: YOLO label files hold class ids, and no file names the'
          ' classes.', file=str(self.files.root),
          fix='Add data.yaml with names:, or classes.txt with one class name'
          ' per line in class id order.')
    first = config.read_class_names(self.files, names[0], self.issues)
    for other in names[1:]:
      classes = config.read_class_names(self.files, other, self.issues)
      if classes.by_id != first.by_id:
        raise ExportError(
            f'class list differs from {names[0]}; class ids would mean'
            ' different classes in different files.', file=other,
            fix='Keep one class list (or make them the same).')
    self.used.extend(names)
    return first

  @property
  def known(self) -> set[str]:
    if self._known is None:
      self._known = set(self.files.files()) | self._folders
    return self._known

  @property
  def _folders(self) -> set[str]:
    if self._folder_set is None:
      self._folder_set = self.files.folders()
    return self._folder_set
