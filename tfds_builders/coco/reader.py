"""Reading one COCO instance file into image records.

`layout.py` says which files these are and where their images may be; this
module turns one file's `images` and `annotations` into `ImageRecord`s.
Every value enters through `core.values`: a `bbox` is four finite numbers
(`[]` or absent: the box comes from the segmentation), `iscrowd` is 0/1 or
true/false (the string `"0"` is refused, never read as crowd), `area` a
finite number (else it is measured), `width`/`height` a declared size that
is only compared with the image. Ids are JSON integers or text. The
segmentation is handed over as written: `core.masks` checks and decodes it
at encode time, and `core.encode` compares it with the box.

Per-item problems skip the image or the annotation and are reported; an
annotation whose `category_id` is not among the categories stops the build
(a class the category list does not name is never dropped silently).

Memory: the file's `images` and `annotations` lists are emptied while the
records are built, so a large export is never held twice.
"""

from __future__ import annotations

import dataclasses
import posixpath
import reprlib

from tfds_builders.coco.categories import Category, CategoryTable, id_key
from tfds_builders.core import geometry, report, values
from tfds_builders.core.errors import ExportError, SkippableError
from tfds_builders.core.exportfs import ExportFiles
from tfds_builders.core.geometry import box_from_xywh
from tfds_builders.core.lookup import ImageLookup
from tfds_builders.core.records import ImageRecord, ObjectAnnotation

_WITH_ID = 'annotation id '


def identity(obj: ObjectAnnotation) -> tuple | None:
  """An object's identity across files: its annotation id (as its `where`
  spells it), class and box. None for an annotation without an id
  (`annotation #3`), which is never taken for another. The box is part of
  it because tools number each file's annotations from 1 (Datumaro, CVAT
  tasks): the same id and class in two files is the same annotation only
  where it is also the same box. Derived from what the object holds
  anyway, so that no per-annotation key is kept for the whole export.
  """
  if not obj.where.startswith(_WITH_ID):
    return None
  return obj.where, obj.label, obj.box


@dataclasses.dataclass
class FileRecords:
  """What one instance file says."""
  name: str
  records: list[ImageRecord]
  images: int  # entries in its "images" list
  annotations: int  # entries in its "annotations" list
  issues: list[report.Issue]


@dataclasses.dataclass
class Context:
  """Where one file's images are looked for, and the export's categories."""
  files: ExportFiles
  lookup: ImageLookup
  table: CategoryTable
  near: tuple[str, ...]  # see layout.image_folders
  split_folder: str | None  # see layout.subset


def read_file(name: str, data: dict, categories: dict[str, Category],
              context: Context) -> FileRecords:
  """The records of instance file `name`; empties `data`'s lists."""
  return _Reader(name, categories, context).read(data)


class _Reader:

  def __init__(self, name: str, categories: dict[str, Category],
               context: Context):
    self.name, self.categories, self.context = name, categories, context
    self.issues: list[report.Issue] = []
    self.keypoints = 0
    self.rle_not_crowd = 0  # CVAT/Datumaro iscrowd=1 masks (see below)
    self.ignored = 0  # "ignore": 1 regions kept as crowds

  def read(self, data: dict) -> FileRecords:
    images, annotations = data.pop('images'), data.pop('annotations')
    counts = len(images), len(annotations)
    by_id: dict[str, int] = {}
    records: list[ImageRecord] = []
    for index, image in _drain(images):
      record = self._image(index, image, by_id)
      if record is not None:
        by_id[record.image_id] = len(records)
        records.append(record)
    for index, annotation in _drain(annotations):
      self._annotation(index, annotation, by_id, records)
    for count, what in (
        (self.rle_not_crowd, 'have iscrowd=1 in a CVAT/Datumaro file, where'
         ' it marks a mask stored as RLE (brush, ellipse), not a crowd; kept'
         ' as single objects'),
        (self.ignored, 'are marked "ignore": 1 (regions to neither learn nor'
         ' score); kept as crowd regions (is_crowd, void in'
         ' segmentation_mask), not as objects'),
        (self.keypoints, 'carry keypoints, which the common schema has no'
         ' field for; their boxes and masks are kept')):
      if count:  # one report entry per file, with the count
        self.issues.append(report.Issue(
            self.name, '', f'{count} annotation(s) {what}', report.WARNING))
    return FileRecords(self.name, records, *counts, self.issues)

  # Images.

  def _image(self, index: int, image, by_id: dict) -> ImageRecord | None:
    item = f'image #{index + 1}'
    if not isinstance(image, dict):
      return self._skip_image(item, 'image entry is not a JSON object')
    key = id_key(image.get('id'))
    if key is None:
      return self._skip_image(item, f'image id {_shown(image.get("id"))} is'
                              ' not an integer or a text id; annotations of'
                              ' it are reported as unknown image_id')
    item = f'image id {key}'
    file_name = image.get('file_name')
    if key in by_id:
      return self._skip_image(
          item, 'image id is listed twice; the later entry is left out (file'
          f' {_shown(file_name)}) and annotations of this id go to the first')
    if not isinstance(file_name, str) or not file_name:
      return self._skip_image(item, 'image entry has no "file_name"; its'
                              ' annotations are reported as unknown image_id')
    context = self.context
    found = context.lookup.find(
        file_name, near=context.near, split_folder=context.split_folder,
        file=self.name, item=f'{item}: file_name')
    try:
      declared = values.image_size(image.get('width'), image.get('height'),
                                   'image', file=self.name, item=item)
    except SkippableError as e:
      self.issues.append(report.Issue.from_error(e, report.WARNING))
      declared = None
    return ImageRecord(
        image_id=key, filename=found.name or file_name,
        split_key=posixpath.basename(found.name or file_name),
        annotation_file=self.name,
        image_path=(context.files.real_path(found.name) if found.name
                    else None),
        missing_image=found.problem, declared_size=declared)

  def _skip_image(self, item: str, problem: str) -> None:
    self.issues.append(report.Issue(self.name, item, problem,
                                    report.SKIPPED_IMAGE))

  # Annotations.

  def _annotation(self, index: int, annotation, by_id: dict,
                  records: list[ImageRecord]) -> None:
    if not isinstance(annotation, dict):
      self._skip_object(f'annotation #{index + 1}',
                        'annotation is not a JSON object')
      return
    annotation_key = id_key(annotation.get('id'))
    item = (f'{_WITH_ID}{annotation_key}' if annotation_key is not None
            else f'annotation #{index + 1}')
    category_key = id_key(annotation.get('category_id'))
    if category_key is None:
      self._skip_object(item, f'category_id'
                        f' {_shown(annotation.get("category_id"))} is not an'
                        ' integer or a text id')
      return
    category = self.categories.get(category_key)
    if category is None:
      known = [str(c.id) for c in sorted(self.categories.values(),
                                         key=lambda c: c.order)]
      raise ExportError(
          f'category_id {_shown(annotation.get("category_id"))} is not among'
          f' the categories (ids {_short(known)}).', file=self.name,
          item=item, fix='Add the category to "categories" or fix the'
          ' annotation.')
    self.context.table.use(category_key)
    at = by_id.get(id_key(annotation.get('image_id')))
    if at is None:
      self._skip_object(item, f'image_id {_shown(annotation.get("image_id"))}'
                        ' is not in "images"')
      return
    # CVAT and Datumaro give every annotation an `attributes` dict (no other
    # writer does). In their files iscrowd=1 only says "the segmentation is
    # RLE", and a rotated rectangle is stored as the unrotated box with the
    # angle in `attributes.rotation`.
    attributes = annotation.get('attributes')
    cvat = isinstance(attributes, dict)
    segmentation = _segmentation(annotation.get('segmentation'))
    polygons = ()
    try:
      box = self._box(annotation.get('bbox'), item)
      is_crowd = values.flag(annotation.get('iscrowd'), 'iscrowd',
                             file=self.name, item=item)
      # CityPersons, CrowdHuman and others mark regions that detectors must
      # neither learn nor be scored on with "ignore": 1 (mmdetection skips
      # them, Detectron2 refuses the key): a crowd region, not an object.
      ignored = values.flag(annotation.get('ignore'), 'ignore',
                            file=self.name, item=item)
      rotation = values.number(attributes.get('rotation', 0), 'rotation',
                               file=self.name, item=item) if cvat else 0.0
    except SkippableError as e:
      self.issues.append(report.Issue.from_error(e, report.SKIPPED_OBJECT, 1))
      return
    if cvat and is_crowd:
      is_crowd = False
      self.rle_not_crowd += 1
    if ignored and not is_crowd:
      is_crowd = True
      self.ignored += 1
    if rotation % 360 and box is not None and segmentation is None:
      polygons, box = [geometry.rotated_box(box, rotation)], None
    if annotation.get('keypoints'):
      self.keypoints += 1
    records[at].objects.append(ObjectAnnotation(
        label=category.name, where=item, box=box, polygons=polygons,
        coco_segmentation=segmentation, is_crowd=is_crowd,
        area=self._area(annotation.get('area'), item)))

  def _box(self, bbox, item: str):
    if bbox is None or bbox == []:  # `[]`: the box comes from the mask
      return None
    if not isinstance(bbox, list) or len(bbox) != 4:
      raise SkippableError(f'bbox {_shown(bbox)} is not [x, y, width,'
                           ' height].', file=self.name, item=item,
                           fix='Fix the box in the labelling tool.')
    return box_from_xywh(*(values.number(v, f'bbox[{i}]', file=self.name,
                                         item=item)
                           for i, v in enumerate(bbox)))

  def _area(self, area, item: str) -> float | None:
    """The export's area (COCO evaluation uses it), or None: measured from
    the mask or box instead. A bad one is reported, not a reason to skip."""
    if area is None:
      return None
    try:
      return values.number(area, 'area', file=self.name, item=item,
                           limit=float('inf'))
    except SkippableError as e:
      self.issues.append(report.Issue(
          self.name, item, f'{e.problem.rstrip(".")}; the area is measured'
          ' from the mask or box instead', report.WARNING, fix=e.fix or ''))
      return None

  def _skip_object(self, item: str, problem: str) -> None:
    self.issues.append(report.Issue(self.name, item, problem,
                                    report.SKIPPED_OBJECT, 1))


def _drain(items: list):
  """Yields `(index, item)` in order while emptying the list, so each item
  can be freed as soon as it has been turned into a record."""
  items.reverse()
  index = 0
  while items:
    yield index, items.pop()
    index += 1


def _segmentation(segmentation):
  """The segmentation as written, or None when it is absent or empty.

  Detection exports (Roboflow, CVAT and Label Studio boxes) write `[]` or
  `[[]]` for box-only objects; those stay boxes, with no mask.
  """
  if segmentation in (None, '', {}) or (isinstance(segmentation, list) and all(
      isinstance(p, list) and not p for p in segmentation)):
    return None
  return segmentation


# Bounded in depth and length: values from a hostile file may be nested a
# thousand deep or hold a million items.
_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxlist, _REPR.maxdict, _REPR.maxstring = 3, 6, 4, 40


def _shown(value) -> str:
  return _REPR.repr(value)


def _short(items: list, limit: int = 10) -> str:
  text = ', '.join(items[:limit])
  return text + (', ...' if len(items) > limit else '') if text else 'none'
