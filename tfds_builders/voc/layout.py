"""Recognising a PASCAL VOC export: which XML files, and what surrounds them.

Tools lay VOC out in several ways, and one export may mix them (a Roboflow
export whose `train/` was rearranged into the devkit shape beside a raw
`valid/`). Every `*.xml` file under the root is an annotation; each belongs
to a group:

  * a dataset folder, when the XML lies in an `Annotations/` (or
    `annotations/`) folder: the VOC devkit's `VOC20xx/`, CVAT's "PASCAL VOC
    1.1" and Datumaro's exports, labelImg's `annotations/` + `images/`. The
    folder may hold `JPEGImages/` (or `images/`), split lists in
    `ImageSets/Main/` and `ImageSets/Segmentation/`, `SegmentationClass/`,
    `SegmentationObject/` and a class file (`labelmap.txt`, `labels.txt`).
  * loose: XML files beside their images anywhere (labelImg's default,
    Roboflow "Pascal VOC" `train/ valid/ test/`).
  * masks only: a dataset folder with `SegmentationClass/` (and
    `SegmentationObject/`) and no XML, as CVAT's "Segmentation mask 1.1" and
    Datumaro's `voc_segmentation` write it; its objects are the instances of
    `SegmentationObject/`, labelled by the class mask under them.

Recognising is kept apart from reading (`parse.py`), as Datumaro does.
"""

from __future__ import annotations

import dataclasses
import posixpath
import re

from tfds_builders.core import splits
from tfds_builders.core.class_files import read_name_list
from tfds_builders.core.errors import ExportError
from tfds_builders.core.exportfs import ExportFiles
from tfds_builders.core.lookup import IMAGE_SUFFIXES

_ANNOTATIONS = 'annotations'
_IMAGES = ('jpegimages', 'images')
_LIST_FOLDERS = ('Main', 'Segmentation')
MASK_FOLDERS = ('segmentationclass', 'segmentationobject')


@dataclasses.dataclass
class Group:
  """XML files that share a dataset folder (or are loose)."""
  folder: str  # the dataset folder, relative to the root ('' = the root)
  annotations: str | None  # its Annotations/ folder; None for loose XML
  images: str | None = None  # JPEGImages/ or images/
  segmentation_class: str | None = None
  segmentation_object: str | None = None
  xml_files: list[str] = dataclasses.field(default_factory=list)
  # image id -> (split or None, list file) from ImageSets; None: no lists.
  lists: dict[str, tuple[str | None, str]] | None = None
  masks_only: bool = False

  @property
  def name(self) -> str:
    if self.masks_only:
      return f'{self.folder or "."}/ masks without XML (CVAT, Datumaro)'
    if self.annotations is None:
      return 'XML beside the images'
    if self.lists is not None:
      return f'{self.folder or "."}/ with ImageSets (VOC devkit, CVAT)'
    return f'{self.annotations}/ + {self.images or "?"}/'

  def image_id(self, xml_name: str) -> str:
    """The XML's path below its Annotations/ folder (or the root), without
    the suffix: the VOC image id, which split lists and masks use."""
    base = self.annotations or ''
    relative = xml_name[len(base) + 1:] if base else xml_name
    return posixpath.splitext(relative)[0]


def find_groups(files: ExportFiles) -> list[Group]:
  """The groups of annotation files in the export, or an ExportError saying
  what was looked for."""
  folders = files.folders()
  groups: dict[str | None, Group] = {}
  for name in files.files(suffixes=('.xml',)):
    parts = name.split('/')[:-1]
    at = max((i for i, p in enumerate(parts) if p.lower() == _ANNOTATIONS),
             default=None)
    if at is None:
      group = groups.setdefault(None, Group('', None))
    else:
      annotations = '/'.join(parts[:at + 1])
      group = groups.get(annotations)
      if group is None:
        group = groups[annotations] = _dataset_group(
            files, folders, '/'.join(parts[:at]), annotations)
    group.xml_files.append(name)
  annotated = {g.folder for g in groups.values() if g.annotations is not None}
  for folder in sorted(folders):
    parent, _, base = folder.rpartition('/')
    if base.lower() == MASK_FOLDERS[0] and parent not in annotated and any(
        files.files(folder, ('.png',))):
      group = _dataset_group(files, folders, parent, None)
      group.masks_only = True
      groups[f'{folder}/'] = group
  if not groups:
    raise ExportError(
        'no PASCAL VOC export found: no *.xml annotation files and no'
        ' SegmentationClass/ masks anywhere in the folder.',
        file=str(files.root), fix='Point --manual_dir at the folder holding'
        ' Annotations/ (or VOCdevkit/, the XML files, or SegmentationClass/).')
  return [groups[k] for k in sorted(groups, key=lambda k: (k is None, k))]


def _dataset_group(files: ExportFiles, folders: set[str], folder: str,
                   annotations: str | None) -> Group:
  return Group(
      folder, annotations, _child(folders, folder, *_IMAGES),
      _child(folders, folder, MASK_FOLDERS[0]),
      _child(folders, folder, MASK_FOLDERS[1]),
      lists=_read_split_lists(files, folders, folder))


def _child(folders: set[str], folder: str, *names: str) -> str | None:
  """The sub-folder of `folder` with one of `names` (any case), if any."""
  prefix = folder + '/' if folder else ''
  for name in names:
    for candidate in sorted(folders):
      if candidate.startswith(prefix) and candidate[len(prefix):].lower(
      ) == name:
        return candidate
  return None


def _read_split_lists(files: ExportFiles, folders: set[str], folder: str
                      ) -> dict[str, tuple[str | None, str]] | None:
  """image id -> (split, list file) from `ImageSets/Main` and
  `ImageSets/Segmentation`; None when the folder has no lists.

  A list named by a split word is that split; `trainval.txt` counts only
  when there are no separate train and val lists (it is their union); other
  whole-name lists (CVAT's `default.txt`) list images without naming a
  split. Per-class lists (`cat_train.txt`: `<class>_<split>`, each line an
  id and a 1/-1/0 flag) repeat the split lists and are not read; other
  names with `_` are subsets (Datumaro's `night_val.txt`, `train_extra.txt`).
  """
  imagesets = _child(folders, folder, 'imagesets')
  if imagesets is None:
    return None
  found: dict[str, tuple[str | None, str]] = {}
  for sub in _LIST_FOLDERS:
    lists = {}
    for name in files.files(f'{imagesets}/{sub}', suffixes=('.txt',)):
      stem = posixpath.splitext(posixpath.basename(name))[0]
      if ('/' in name[len(imagesets) + len(sub) + 2:] or
          _is_per_class_list(files, name, stem)):
        continue
      lists[name] = (splits.split_word(stem) if stem.lower() != 'trainval'
                     else 'trainval')
    named = set(lists.values())
    if {splits.TRAIN, splits.VALIDATION} & named:
      lists = {n: s for n, s in lists.items() if s != 'trainval'}
    for name, split in lists.items():
      for _, line in read_name_list(files, name):
        found.setdefault(_list_entry(line), (split, name))
  return found or None


def _is_per_class_list(files: ExportFiles, name: str, stem: str) -> bool:
  """`<class>_<split>.txt` whose lines carry the devkit's 1/-1/0 flag."""
  if '_' not in stem or stem.rsplit('_', 1)[1].lower() not in (
      'train', 'val', 'trainval', 'test'):
    return False
  lines = read_name_list(files, name)
  return not lines or re.search(r'\s(-1|0|1)$', lines[0][1]) is not None


def _list_entry(line: str) -> str:
  """The image id of a split-list line: the whole line, without the
  ` 1` / ` -1` / ` 0` flag of per-class lists (ids may hold spaces), and
  without an image or XML suffix (`b.jpg` is the id `b`: hand-written and
  script-made lists often keep it)."""
  head, _, flag = line.rpartition(' ')
  if head and flag in ('1', '-1', '0'):
    line = head.strip()
  stem, suffix = posixpath.splitext(line)
  if stem and suffix.lower() in IMAGE_SUFFIXES + ('.xml',):
    return stem
  return line
