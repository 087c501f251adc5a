"""Data rows read from a JSON export, and turning them into image records.

Both JSON formats (export v2 and the legacy v1) are read into `Row`s, whose
images and masks are still `Media` (names to look for, a URL). Once every row
is read, the media that are not in the export folder are downloaded together
and each row becomes an `ImageRecord`; a missing image or mask is reported
with the places looked.
"""

from __future__ import annotations

import dataclasses
import math
import pathlib
from typing import Any

from tfds_builders.core import report
from tfds_builders.core.records import (ImageRecord, MaskRef, ObjectAnnotation,
                                        ParsedExport)
from tfds_builders.labelbox.media import Media, MediaFinder

# Labelbox data split names (and common spellings) -> TFDS split names.
SPLITS = {'train': 'train', 'training': 'train', 'val': 'validation',
          'valid': 'validation', 'validation': 'validation', 'test': 'test',
          'testing': 'test'}


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


def to_parsed_export(read: ReadRows, root: pathlib.Path, finder: MediaFinder,
                     format_name: str, export_files: list[pathlib.Path]
                     ) -> ParsedExport:
  """Finds (or downloads) every row's media and makes the image records."""
  urls = set()
  for row in read.rows:
    for media in [row.image] + [m for _, m in row.objects if m]:
      if media.url and finder.find_local(media, file=row.file) is None:
        urls.add(media.url)
  finder.download_all(urls)
  records = [r for r in (_to_record(row, root, finder, read.issues)
                         for row in read.rows) if r is not None]
  # Local mask files are annotations too: they go into the source manifest.
  mask_files = sorted({root / o.mask.file for r in records
                       for o in r.objects if o.mask and o.mask.file})
  return ParsedExport(format_name, records, None, read.export_images,
                      read.export_objects, read.issues,
                      list(export_files) + mask_files)


def _to_record(row: Row, root: pathlib.Path, finder: MediaFinder,
               issues: list[report.Issue]) -> ImageRecord | None:
  image = finder.find(row.image, file=row.file)
  if image.path is None:
    return ImageRecord(
        image_id=row.image_id, filename=row.filename,
        annotation_file=row.file, missing_image=image.problem,
        objects=[a for a, _ in row.objects], declared_size=row.declared_size,
        split=row.split, split_source='Labelbox data split', extra=row.extra)
  objects = []
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
    objects.append(annotation)
  return ImageRecord(
      image_id=row.image_id, filename=image.name or row.filename,
      annotation_file=row.file, image_path=str(image.path), objects=objects,
      declared_size=row.declared_size, split=row.split,
      split_source='Labelbox data split', extra=row.extra)


def split_of(value: Any, row_file: str, item: str,
             issues: list[report.Issue]) -> str | None:
  """The TFDS split of a Labelbox data split name, or None (hash it)."""
  if value in (None, ''):
    return None
  split = SPLITS.get(str(value).strip().lower())
  if split is None:
    issues.append(report.Issue(
        row_file, item, f'unknown data split {value!r}; the image is put in'
        ' train or test by hashing its id', report.WARNING))
  return split


def number(mapping: Any, key: str) -> float:
  """A coordinate; missing or non-numeric values become NaN (then reported)."""
  try:
    value = float(mapping[key])
  except (TypeError, ValueError, KeyError, IndexError):
    return math.nan
  return value


def box(geometry: Any) -> tuple[float, float, float, float]:
  """`{top, left, height, width}` -> pixel (xmin, ymin, xmax, ymax)."""
  left, top = number(geometry, 'left'), number(geometry, 'top')
  return (left, top, left + number(geometry, 'width'),
          top + number(geometry, 'height'))


def polygon(points: Any) -> list[float]:
  """`[{x, y}, ...]` -> flat [x0, y0, ...], without the closing repeat."""
  if not isinstance(points, list):
    return []
  flat = [(number(p, 'x'), number(p, 'y')) for p in points]
  if len(flat) > 3 and flat[0] == flat[-1]:
    flat = flat[:-1]
  return [v for xy in flat for v in xy]


def mask_object(annotation: ObjectAnnotation, media: Media,
                color: Any = None) -> tuple[ObjectAnnotation, Media]:
  """Gives `annotation` a mask that is still to be found."""
  value = None
  if isinstance(color, (list, tuple)) and len(color) == 3:
    try:
      value = tuple(int(c) for c in color)
    except (TypeError, ValueError):
      annotation.unsupported_geometry = f'a mask with colour {color!r}'
  annotation.mask = MaskRef(value=value)
  return annotation, media
