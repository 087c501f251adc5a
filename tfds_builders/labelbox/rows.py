"""Data rows read from a JSON export, and turning them into image records.

Both JSON formats (export v2 and the legacy v1) are read into `Row`s, whose
images and masks are still `Media` (names to look for, a URL). Once every row
is read, the media that are not in the export folder are downloaded together
and each row becomes an `ImageRecord`; a missing image or mask is reported
with the places looked.

Every number of a row (box top/left/height/width, polygon points, the
declared image size, composite mask colours) goes through `core.values`: a
bad one skips its object (or, for the declared size, is warned about and
ignored), never the build.
"""

from __future__ import annotations

import dataclasses
import pathlib
from typing import Any, Callable

from tfds_builders.core import report, splits, values
from tfds_builders.core.errors import SkippableError
from tfds_builders.core.exportfs import ExportFiles
from tfds_builders.core.geometry import PixelBox
from tfds_builders.core.records import (ImageRecord, MaskRef, ObjectAnnotation,
                                        ParsedExport)
from tfds_builders.labelbox.media import Media, MediaFinder

SPLIT_SOURCE = 'Labelbox data split'


@dataclasses.dataclass
class Row:
  """One labelled data row, before its media are found."""
  image_id: str  # the data row id
  file: str  # the export file, relative to the export root
  item: str  # e.g. 'line 3 (data row ckx...)'
  image: Media
  filename: str  # image/filename when the image is downloaded
  # Each object with the mask file it still needs (its `mask` is a MaskRef
  # without a path until the file is found), or None.
  objects: list[tuple[ObjectAnnotation, Media | None]]
  declared_size: tuple[int, int] | None = None
  split: str | None = None
  extra: dict = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class ReadRows:
  """What the row readers collect over all files of an export."""
  rows: list[Row] = dataclasses.field(default_factory=list)
  issues: list[report.Issue] = dataclasses.field(default_factory=list)
  export_images: int = 0
  export_objects: int = 0
  # The images of rows that were left out (and reported): their files in the
  # export are accounted for, not reported again as named by nothing.
  left_out: list[tuple[Media, str]] = dataclasses.field(default_factory=list)


def to_parsed_export(read: ReadRows, files: ExportFiles, finder: MediaFinder,
                     format_name: str, export_files: list[pathlib.Path]
                     ) -> ParsedExport:
  """Finds (or downloads) every row's media and makes the image records."""
  finder.download_all([(media, row.file) for row in read.rows
                       for media in [row.image] + [m for _, m in row.objects
                                                   if m]])
  records = [_to_record(row, finder, read.issues) for row in read.rows]
  for media, file in read.left_out:
    finder.find_local(media, file=file)
  # Local mask files are annotations too: they go into the source manifest.
  mask_files = sorted({files.path(o.mask.file) for r in records
                       for o in r.objects if o.mask and o.mask.file})
  return ParsedExport(format_name, records, None, read.export_images,
                      read.export_objects,
                      read.issues + finder.unclaimed_issues(),
                      list(export_files) + mask_files)


def _to_record(row: Row, finder: MediaFinder,
               issues: list[report.Issue]) -> ImageRecord:
  record = ImageRecord(
      image_id=row.image_id, filename=row.filename, annotation_file=row.file,
      declared_size=row.declared_size, split=row.split,
      split_source=SPLIT_SOURCE if row.split else '', extra=row.extra)
  image = finder.find(row.image, file=row.file)
  if image.path is None:  # the encoder reports it with its objects
    record.missing_image = image.problem
    record.objects = [a for a, _ in row.objects]
    return record
  record.image_path, record.filename = str(image.path), (image.name
                                                         or row.filename)
  for annotation, mask in row.objects:
    if mask is not None:
      found = finder.find(mask, file=row.file)
      if found.path is None:
        issues.append(report.Issue(
            row.file, annotation.where, f'mask not found: {found.problem}',
            report.SKIPPED_OBJECT, 1))
        continue
      annotation.mask = dataclasses.replace(
          annotation.mask, path=str(found.path), file=found.name or '')
    record.objects.append(annotation)
  return record


def read_objects(objects: list, read_one: Callable, file: str, item: str,
                 issues: list[report.Issue]) -> list:
  """`read_one(obj, index, file, item)` for each object; one that raises a
  SkippableError (a bad number) is skipped and reported."""
  result = []
  for index, obj in enumerate(objects):
    try:
      result.append(read_one(obj, index, file, item))
    except SkippableError as e:
      issues.append(report.Issue.from_error(
          e, report.SKIPPED_OBJECT, 1, file=file,
          item=f'{item}: object #{index + 1}'))
  return result


def what_is(value: Any) -> str:
  """A JSON value in words, for messages: 'a list', "the text 'car'"..."""
  if value is None:
    return 'null'
  if isinstance(value, bool):
    return f'the flag {str(value).lower()}'
  if isinstance(value, (int, float)):
    shown = repr(value)
    return f'the number {shown[:40] + "..." if len(shown) > 40 else shown}'
  if isinstance(value, str):
    return f'the text {value[:40] + "..." if len(value) > 40 else value!r}'
  return 'a list' if isinstance(value, list) else 'a JSON object'


def object_list(value: Any, what: str) -> tuple[list, str | None, int]:
  """The objects of a label: (objects, None, count) for a list (or none);
  for anything else ([], why the data row is left out, how many objects it
  seems to hold, for the report)."""
  if value is None:
    return [], None, 0
  if isinstance(value, list):
    return value, None, len(value)
  count = 0
  if isinstance(value, dict) and value:  # {id: object, ...} or one object
    count = len(value) if all(isinstance(v, dict) for v in value.values()
                              ) else 1
  return [], f'{what} is {what_is(value)}, not a list of objects', count


def class_name(obj: Any, keys: tuple[str, ...], *, file: str,
               item: str) -> str:
  """The object's class name: the first of `keys` given, as text ('' when
  none is); an object that is not a JSON object, or a name that is not
  text, skips the object."""
  if not isinstance(obj, dict):
    raise _bad(f'object is {what_is(obj)}, not an object with a {keys[0]}'
               ' and a geometry', file, item)
  for key in keys:
    name = obj.get(key)
    if name is None or name == '':
      continue
    if not isinstance(name, str):
      raise _bad(f'{key} is {what_is(name)}, not text', file, item)
    return name
  return ''


def split_of(value: Any, row_file: str, item: str,
             issues: list[report.Issue]) -> str | None:
  """The TFDS split of a Labelbox data split name (the one table of split
  words, `core.splits`), or None (hash it)."""
  if value in (None, ''):
    return None
  split = splits.split_word(value) if isinstance(value, str) else None
  if split is None:
    issues.append(report.Issue(
        row_file, item, f'unknown data split {value!r}; the image is put in'
        ' train or test by hashing its id', report.WARNING))
  return split


def declared_size(attributes: Any, what: str, file: str, item: str,
                  issues: list[report.Issue]) -> tuple[int, int] | None:
  """media_attributes width x height, or None (absent, or bad: warned; the
  image's own size is used either way)."""
  if not isinstance(attributes, dict):
    return None
  try:
    return values.image_size(attributes.get('width'),
                             attributes.get('height'), what, file=file,
                             item=item)
  except SkippableError as e:
    issues.append(report.Issue.from_error(e, report.WARNING, file=file,
                                          item=item))
    return None


def box(geometry: Any, what: str, *, file: str, item: str) -> PixelBox:
  """`{top, left, height, width}` -> pixel (xmin, ymin, xmax, ymax)."""
  if not isinstance(geometry, dict):
    raise _bad(f'{what} is not an object with top, left, height and width',
               file, item)
  top, left, height, width = (
      values.number(geometry.get(key), f'{what}.{key}', file=file, item=item)
      for key in ('top', 'left', 'height', 'width'))
  return (left, top, left + width, top + height)


def polygon(points: Any, what: str, *, file: str, item: str) -> list[float]:
  """`[{x, y}, ...]` -> flat [x0, y0, ...], without the closing repeat."""
  if not isinstance(points, list):
    raise _bad(f'{what} is not a list of points', file, item)
  flat = []
  for i, point in enumerate(points):
    if not isinstance(point, dict):
      raise _bad(f'{what} point #{i + 1} is not an object with x and y',
                 file, item)
    flat.append(tuple(values.number(point.get(axis), f'{what}[{i}].{axis}',
                                    file=file, item=item)
                      for axis in ('x', 'y')))
  if len(flat) > 3 and flat[0] == flat[-1]:
    flat = flat[:-1]
  return [v for xy in flat for v in xy]


def colour(rgb: Any, what: str, *, file: str,
           item: str) -> tuple[int, int, int]:
  """A composite mask's `color_rgb` [r, g, b]. A composite mask holds every
  object of the image, each in its colour: without it, which pixels are
  this object's is not known (all of them would be made up)."""
  if rgb is None:
    raise _bad(f'{what} is missing, so which pixels of the shared composite'
               ' mask are this object is not known', file, item)
  if not isinstance(rgb, list) or len(rgb) != 3:
    raise _bad(f'{what} {str(rgb)[:40]} is not [red, green, blue]', file,
               item)
  return tuple(values.integer(c, f'{what}[{i}]', high=255, file=file,
                              item=item) for i, c in enumerate(rgb))


def mask_object(annotation: ObjectAnnotation, media: Media,
                value: tuple[int, int, int] | None = None
                ) -> tuple[ObjectAnnotation, Media]:
  """Gives `annotation` a mask that is still to be found: any non-zero pixel
  (`value` None), or the pixels of one colour (composite masks)."""
  annotation.mask = MaskRef(value=value)
  return annotation, media


def _bad(problem: str, file: str, item: str) -> values.BadValue:
  return values.BadValue(f'{problem}.', file=file, item=item,
                         fix='Fix the object in Labelbox and export again.')
