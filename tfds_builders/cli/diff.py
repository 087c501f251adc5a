"""`python -m tfds_builders diff OLD_DIR NEW_DIR`: what changed between two
built versions of a dataset, as a first draft of the release notes.

Both folders are built dataset versions (`.../voc_export/default/1.1.0`).
Every build writes `image_index.jsonl` there (one line per image: id,
split, sha256 of the stored bytes, objects as `[label, ymin, xmin, ymax,
xmax]`) and `build_report.json` (the class list). From them:

  * images added, removed, and changed (same id, other bytes);
  * images that moved to another split: the same id in another split (VOC
    split lists, Labelbox data splits), or the same bytes under another id
    (formats whose image id is the file's path, when a file moves from
    `train/` to `test/`); the same bytes under another id in the same split
    are renamed;
  * the class list: added, removed (a rename is both), label ids changed;
  * objects per class before and after;
  * relabelled objects: within an image kept in both, objects are paired
    (see `pair_objects`), so reordering them is no change; a pair whose
    label differs is relabelled, one whose box moved more than
    `box_tolerance` (any edge, as a fraction of the image size) is moved,
    and the objects left unpaired were added or removed.
"""

from __future__ import annotations

import collections
import dataclasses
import json
import math
import pathlib

from tfds_builders.core import geometry, report
from tfds_builders.core.errors import ExportError

BOX_TOLERANCE = 0.01
# Boxes overlapping less than this are not the same object (COCO's match).
MIN_IOU = 0.5


@dataclasses.dataclass(frozen=True)
class Obj:
  label: str
  box: tuple[float, float, float, float]  # ymin, xmin, ymax, xmax (relative)


@dataclasses.dataclass
class Version:
  """One built dataset folder, as `diff` reads it."""
  folder: pathlib.Path
  dataset: str  # e.g. voc_export/default/1.1.0
  classes: list[str]
  images: dict[str, dict]  # id -> {'split', 'sha256', 'objects': [Obj]}


@dataclasses.dataclass
class Diff:
  old: Version
  new: Version
  box_tolerance: float
  added: list[str] = dataclasses.field(default_factory=list)  # image ids
  removed: list[str] = dataclasses.field(default_factory=list)
  changed: list[str] = dataclasses.field(default_factory=list)
  moved: list[tuple[str, str, str, str]] = dataclasses.field(
      default_factory=list)  # (old id, new id, old split, new split)
  renamed: list[tuple[str, str]] = dataclasses.field(
      default_factory=list)  # (old id, new id): same bytes and split
  relabelled: list[tuple[str, Obj, Obj]] = dataclasses.field(
      default_factory=list)  # (id, old, new): other label (box may move too)
  boxes_moved: list[tuple[str, Obj, Obj]] = dataclasses.field(
      default_factory=list)  # (id, old, new): same label, box moved
  objects_added: list[tuple[str, Obj]] = dataclasses.field(
      default_factory=list)  # in images kept in both
  objects_removed: list[tuple[str, Obj]] = dataclasses.field(
      default_factory=list)

  @property
  def classes_added(self) -> list[str]:
    return [c for c in self.new.classes if c not in self.old.classes]

  @property
  def classes_removed(self) -> list[str]:
    return [c for c in self.old.classes if c not in self.new.classes]

  @property
  def label_ids_changed(self) -> list[tuple[str, int, int]]:
    """(class, old id, new id) of the classes in both whose id changed."""
    return [(c, i, self.new.classes.index(c))
            for i, c in enumerate(self.old.classes)
            if c in self.new.classes and self.new.classes.index(c) != i]

  def objects_per_class(self) -> dict[str, tuple[int, int]]:
    before, after = _class_counts(self.old), _class_counts(self.new)
    names = list(dict.fromkeys(self.old.classes + self.new.classes +
                               sorted(set(before) | set(after))))
    return {n: (before.get(n, 0), after.get(n, 0)) for n in names}

  def images_per_split(self) -> dict[str, tuple[int, int]]:
    before, after = _split_counts(self.old), _split_counts(self.new)
    return {s: (before.get(s, 0), after.get(s, 0))
            for s in sorted(set(before) | set(after))}


# Reading a built folder.


def load(folder) -> Version:
  """The index and classes of a built dataset folder, or an ExportError
  that says what to do."""
  folder = pathlib.Path(folder).expanduser()
  if not folder.is_dir():
    raise ExportError('not a folder.', file=str(folder),
                      fix='Pass a built dataset version folder, e.g.'
                      ' ~/tensorflow_datasets/voc_export/default/1.1.0.')
  index = folder / report.INDEX_FILENAME
  if not index.is_file():
    inside = sorted(p.parent.name for p in folder.glob(
        f'*/{report.INDEX_FILENAME}'))
    if inside:
      raise ExportError(
          f'this folder holds versions ({", ".join(inside)}), not one'
          ' built version.', file=str(folder),
          fix=f'Pass one of them, e.g. {folder / inside[-1]}.')
    raise ExportError(
        f'no {report.INDEX_FILENAME} here: the folder was not built by'
        ' tfds_builders, or was built by an older version that did not'
        ' write the per-image index diff compares.', file=str(folder),
        fix='Rebuild that version with this tfds_builders (tfds build NAME'
        ' --imports tfds_builders --manual_dir EXPORT --data_dir DIR), then'
        ' diff again.')
  dataset, classes = _dataset_and_classes(folder)
  images = {}
  try:
    text = index.read_text(encoding='utf-8')
  except (OSError, UnicodeDecodeError) as e:
    raise ExportError(f'cannot read the index ({e}).', file=str(index),
                      fix=_REBUILD) from None
  for number, line in enumerate(text.splitlines(), 1):
    if not line.strip():
      continue
    try:
      image_id, entry = _index_entry(json.loads(line))
    except (ValueError, KeyError, TypeError, IndexError) as e:
      problem = str(e) if isinstance(e, _BadEntry) else repr(e)
      raise ExportError(f'line is not an index entry ({problem}).',
                        file=str(index), item=f'line {number}',
                        fix=_REBUILD) from None
    if image_id in images:
      raise ExportError(f'image id {image_id!r} is listed twice.',
                        file=str(index), item=f'line {number}',
                        fix=_REBUILD)
    images[image_id] = entry
  return Version(folder, dataset, classes, images)


_REBUILD = ('Rebuild that version (tfds build NAME --imports tfds_builders'
            ' --manual_dir EXPORT --data_dir DIR) to rewrite it, then diff'
            ' again.')


class _BadEntry(ValueError):
  """An index line that is JSON but not `{"id", "split", "sha256",
  "objects": [[label, ymin, xmin, ymax, xmax], ...]}`."""


def _index_entry(entry) -> tuple[str, dict]:
  """`(id, {'split', 'sha256', 'objects'})` of one parsed index line, or
  _BadEntry saying what is wrong with it."""
  if not isinstance(entry, dict):
    raise _BadEntry(f'a JSON {type(entry).__name__}, not an object')
  for key in ('id', 'split', 'sha256', 'objects'):
    if key not in entry:
      raise _BadEntry(f'no {key!r}')
  for key in ('id', 'split', 'sha256'):
    if not isinstance(entry[key], str) or not entry[key]:
      raise _BadEntry(f'{key!r} is {entry[key]!r}, not a non-empty string')
  if not isinstance(entry['objects'], list):
    raise _BadEntry(f"'objects' is {entry['objects']!r}, not a list")
  objects = []
  for number, o in enumerate(entry['objects'], 1):
    if (not isinstance(o, list) or len(o) != 5 or not isinstance(o[0], str)
        or not all(_is_finite_number(v) for v in o[1:])):
      raise _BadEntry(f'object #{number} is {json.dumps(o)}, not [label,'
                      ' ymin, xmin, ymax, xmax] with a string label and 4'
                      ' finite numbers')
    objects.append(Obj(o[0], tuple(float(v) for v in o[1:])))
  return entry['id'], {'split': entry['split'], 'sha256': entry['sha256'],
                       'objects': objects}


def _is_finite_number(value) -> bool:
  return (isinstance(value, (int, float)) and not isinstance(value, bool)
          and math.isfinite(value))


def _dataset_and_classes(folder: pathlib.Path) -> tuple[str, list[str]]:
  """From the build report written with the index; from the TFDS metadata
  (`dataset_info.json`, `features.json`) when the report is gone."""
  path = folder / report.REPORT_FILENAME
  if path.is_file():
    try:
      data = json.loads(path.read_text(encoding='utf-8'))
    except (OSError, ValueError) as e:  # UnicodeDecodeError is a ValueError
      raise ExportError(f'cannot read the build report ({e}).',
                        file=str(path), fix=_REPORT_FIX) from None
    dataset = data.get('dataset') if isinstance(data, dict) else None
    classes = data.get('classes') if isinstance(data, dict) else None
    if not (isinstance(dataset, str) and dataset and
            isinstance(classes, list) and
            all(isinstance(c, str) for c in classes)):
      raise ExportError(
          'not a build report: it needs "dataset" (a name) and "classes"'
          ' (a list of names).', file=str(path), fix=_REPORT_FIX)
    return dataset, list(classes)
  info_file = folder / 'dataset_info.json'
  if not info_file.is_file():
    raise ExportError(
        f'neither {report.REPORT_FILENAME} nor dataset_info.json is here, so'
        ' the dataset and its classes are unknown: the folder is not a'
        ' complete build.', file=str(folder), fix=_REBUILD)
  import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top
  try:
    info = tfds.builder_from_directory(str(folder)).info
    return info.full_name, list(info.features['objects']['label'].names)
  except Exception as e:  # pylint: disable=broad-except
    # TFDS raises many types here (DatasetInfoFileError, KeyError, JSON and
    # protobuf errors): all mean the metadata cannot give the classes.
    raise ExportError(
        f'{report.REPORT_FILENAME} is missing and the TFDS metadata does not'
        f' give the dataset and its classes ({type(e).__name__}: {e}).',
        file=str(info_file), fix=_REBUILD) from None


_REPORT_FIX = (f'Rebuild that version to rewrite it; or delete'
               f' {report.REPORT_FILENAME}, and diff reads the classes from'
               ' the TFDS metadata (dataset_info.json, features.json).')


# Comparing.


def compare(old: Version, new: Version,
            box_tolerance: float = BOX_TOLERANCE) -> Diff:
  if not (math.isfinite(box_tolerance) and box_tolerance >= 0):
    raise ValueError(f'box_tolerance must be a finite number >= 0, not'
                     f' {box_tolerance!r}.')
  diff = Diff(old, new, box_tolerance)
  kept = [(i, i) for i in sorted(set(old.images) & set(new.images))]
  same_bytes = _same_bytes(old, new)
  diff.removed = sorted(set(old.images) - set(new.images) -
                        {a for a, _ in same_bytes})
  diff.added = sorted(set(new.images) - set(old.images) -
                      {b for _, b in same_bytes})
  for old_id, new_id in sorted(kept + same_bytes):
    before, after = old.images[old_id], new.images[new_id]
    if before['sha256'] != after['sha256']:
      diff.changed.append(new_id)
    if before['split'] != after['split']:
      diff.moved.append((old_id, new_id, before['split'], after['split']))
    elif old_id != new_id:
      diff.renamed.append((old_id, new_id))
    pairs, gone, came = pair_objects(before['objects'], after['objects'],
                                     box_tolerance)
    for a, b in pairs:
      if a.label != b.label:
        diff.relabelled.append((new_id, a, b))
      elif _shift(a, b) > box_tolerance:
        diff.boxes_moved.append((new_id, a, b))
    diff.objects_removed += [(new_id, o) for o in gone]
    diff.objects_added += [(new_id, o) for o in came]
  return diff


def _same_bytes(old: Version, new: Version) -> list[tuple[str, str]]:
  """(old id, new id) of images only in one version each that hold the same
  bytes: one file moved or renamed. Paired one to one, in id order."""
  waiting: dict[str, list[str]] = collections.defaultdict(list)
  for image_id in sorted(set(new.images) - set(old.images)):
    waiting[new.images[image_id]['sha256']].append(image_id)
  pairs = []
  for image_id in sorted(set(old.images) - set(new.images)):
    candidates = waiting.get(old.images[image_id]['sha256'])
    if candidates:
      pairs.append((image_id, candidates.pop(0)))
  return pairs


def pair_objects(old: list[Obj], new: list[Obj], tolerance: float):
  """`(pairs, unpaired old, unpaired new)` of one image's objects.

  First the unchanged: same label, every edge within `tolerance`, closest
  first. Then the rest by overlap, highest IoU first, down to MIN_IOU (an
  equal label wins a tie): a pair with another label is a relabelled
  object, one with a moved box a moved object. So a list in another order
  pairs up as before, and two overlapping objects of which one was
  relabelled pair with the right partners.
  """
  pairs: list[tuple[Obj, Obj]] = []
  left_old, left_new = set(range(len(old))), set(range(len(new)))

  def take(candidates):
    for _, i, j in sorted(candidates):
      if i in left_old and j in left_new:
        left_old.discard(i)
        left_new.discard(j)
        pairs.append((old[i], new[j]))

  take((_shift(a, b), i, j) for i, a in enumerate(old)
       for j, b in enumerate(new)
       if a.label == b.label and _shift(a, b) <= tolerance)
  overlaps = []
  for i in left_old:
    for j in left_new:
      # IoU does not care which axis comes first: [ymin, xmin, ...] boxes
      # go in as they are.
      iou = geometry.iou(old[i].box, new[j].box)
      if iou >= MIN_IOU:
        overlaps.append(((-iou, old[i].label != new[j].label), i, j))
  take(overlaps)
  return (pairs, [old[i] for i in sorted(left_old)],
          [new[j] for j in sorted(left_new)])


def _shift(a: Obj, b: Obj) -> float:
  return max(abs(x - y) for x, y in zip(a.box, b.box))


def _class_counts(version: Version) -> collections.Counter:
  return collections.Counter(o.label for image in version.images.values()
                             for o in image['objects'])


def _split_counts(version: Version) -> collections.Counter:
  return collections.Counter(i['split'] for i in version.images.values())
