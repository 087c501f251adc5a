"""The legacy Labelbox TFRecord export: `export.json` + TFRecord files.

`export.json` holds `tfrecord_paths` (relative to the export, or http(s)
URLs, downloaded like media; absolute paths and other URIs are refused:
every file a build reads lies in the export or the download dir) and `legend`
(class name -> pixel value in the segmentation maps). Each record holds
`image/encoded`, `image/filename`, `image/ID`, `image/format`, `image/height`,
`image/width` and `image/segmentation/class/encoded` (a PNG of legend values).

The legend is the class list, ordered by pixel value. The map becomes
`segmentation_mask` (legend value -> label + 1); every connected region
(8-connectivity, `scipy.ndimage.label`) of a class becomes one object with
its box and instance mask.
"""

from __future__ import annotations

import pathlib
import urllib.parse
from typing import Any

import numpy as np
from scipy import ndimage

from tfds_builders.core import mask_files, masks, report, tfrecords
from tfds_builders.core import values as core_values
from tfds_builders.core.errors import ExportError
from tfds_builders.core.example_proto import Example
from tfds_builders.core.exportfs import ExportFiles
from tfds_builders.core.labels import BACKGROUND, ClassList
from tfds_builders.core.mask_files import ValueMap
from tfds_builders.core.records import (ImageRecord, MaskRef, ObjectAnnotation,
                                        ParsedExport, SemanticMaskRef)
from tfds_builders.labelbox.media import Media, MediaFinder

FORMAT_NAME = 'Labelbox legacy TFRecord export'
_EIGHT_NEIGHBOURS = np.ones((3, 3), bool)


def parse(export: ExportFiles, path: pathlib.Path, content: dict,
          finder: MediaFinder, fixed_classes: tuple[str, ...] | None
          ) -> ParsedExport:
  root = export.root
  file = path.relative_to(root).as_posix()
  classes, mapping = _legend(content.get('legend'), file, fixed_classes)
  records, issues, source_files = [], [], [path]
  export_images = export_objects = 0
  for record_file, location, inside in _tfrecord_files(content, export, file,
                                                       finder):
    if inside:
      source_files.append(root / record_file)
    for index, example in _read(location, record_file):
      export_images += 1
      where = f'record #{index + 1}'
      try:
        record = _record(example, record_file, where, mapping, classes,
                         issues)
      except ExportError as e:
        issues.append(report.Issue.from_error(e, report.SKIPPED_IMAGE,
                                              file=record_file, item=where))
        continue
      export_objects += len(record.objects)
      records.append(record)
  return ParsedExport(FORMAT_NAME, records, classes, export_images,
                      export_objects, issues, source_files)


def _legend(legend: Any, file: str, fixed: tuple[str, ...] | None
            ) -> tuple[ClassList, dict[int, int]]:
  """The class list and the pixel value -> segmentation value mapping."""
  fix = 'Give "legend" as {"class name": pixel value, ...}.'
  if not isinstance(legend, dict) or not legend:
    raise ExportError('"legend" is missing or empty.', file=file, fix=fix)
  values = {}
  for name, value in legend.items():
    try:
      values[name] = core_values.integer(value, f'legend value of {name!r}',
                                         high=255, file=file, item='legend')
    except core_values.BadValue as e:  # the legend is the whole class list
      raise ExportError(e.problem, file=file, item='legend', fix=fix) from None
  if len(set(values.values())) != len(values):
    raise ExportError('two classes share a pixel value.', file=file,
                      item='legend', fix=fix)
  names = sorted((n for n in values if n != BACKGROUND), key=values.get)
  for name in names:
    if values[name] == 0:
      raise ExportError(f'{name!r} has pixel value 0, the background.',
                        file=file, item='legend', fix=fix)
  classes = ClassList(tuple(names), f'{file} legend')
  if fixed:
    unknown = [n for n in names if n not in fixed]
    if unknown:
      raise ExportError(f'legend classes {unknown} are not among this'
                        f' dataset\'s classes {list(fixed)}.', file=file,
                        item='legend',
                        fix='Build labelbox_export instead, or re-export.')
    classes = ClassList(tuple(fixed), 'the builder')
  mapping = {values[n]: classes.index(n) + 1 for n in names}
  mapping[values.get(BACKGROUND, 0)] = 0
  return classes, mapping


def _tfrecord_files(content: dict, export: ExportFiles, file: str,
                    finder: MediaFinder):
  """(name for the report, confined path to open, whether it is in the
  export) of each listed TFRecord."""
  paths = content.get('tfrecord_paths')
  paths = [paths] if isinstance(paths, str) else paths
  if not isinstance(paths, list) or not paths or not all(
      isinstance(p, str) for p in paths):
    raise ExportError('"tfrecord_paths" is missing or not a list of paths.',
                      file=file, fix='List the TFRecord files of the export.')
  for name in paths:
    scheme = urllib.parse.urlsplit(name).scheme.lower()
    if scheme in ('http', 'https'):
      base = pathlib.PurePosixPath(urllib.parse.urlsplit(name).path).name
      found = finder.find(Media((base,), name, ('', 'tfrecords')), file=file)
      if found.path is None:
        raise ExportError(f'TFRecord file not found: {found.problem}.',
                          file=file, item='tfrecord_paths',
                          fix='Download it next to export.json.')
      yield base, str(found.path), False
    elif len(scheme) > 1:
      raise ExportError(
          f'TFRecord path {name!r} is a {scheme}:// URI; only files in the'
          ' export and http(s) URLs are read.', file=file,
          item='tfrecord_paths', fix='Copy the TFRecord files into the export'
          ' folder and list them by relative path.')
    else:
      found = export.confine(name, file=file, item='tfrecord_paths')
      if found is None:
        raise ExportError(f'TFRecord file {name!r} is not in the export.',
                          file=file, item='tfrecord_paths',
                          fix='Put it beside export.json.')
      yield found, export.real_path(found), True


def _read(location: str, name: str):
  """Yields (index, tf.train.Example); unreadable files are errors."""
  for index, raw in tfrecords.read_records(location, file=name):
    try:
      yield index, Example.FromString(raw)
    except Exception as e:  # protobuf DecodeError
      raise ExportError(f'record is not a tf.train.Example ({e}).', file=name,
                        item=f'record #{index + 1}',
                        fix='Re-download the export.') from None


def _record(example, file: str, where: str, mapping: dict[int, int],
            classes: ClassList, issues: list[report.Issue]) -> ImageRecord:
  feature = example.features.feature
  image = _bytes(feature, 'image/encoded')
  seg = _bytes(feature, 'image/segmentation/class/encoded')
  if not image:
    raise ExportError('record has no image/encoded.', file=file, item=where)
  if not seg:
    raise ExportError('record has no image/segmentation/class/encoded, so'
                      ' its objects are unknown.', file=file, item=where)
  name = _bytes(feature, 'image/filename').decode('utf-8', 'replace')
  image_id = _bytes(feature, 'image/ID').decode('utf-8', 'replace') or (
      name or f'{file}#{where}')
  item = f'{where} ({image_id})'
  try:
    declared = core_values.image_size(
        _int(feature, 'image/width'), _int(feature, 'image/height'),
        'image/width x image/height', file=file, item=item)
  except core_values.BadValue as e:  # the image's own size is used anyway
    issues.append(report.Issue.from_error(e, report.WARNING))
    declared = None
  return ImageRecord(
      image_id=image_id, filename=name or image_id, annotation_file=file,
      image_bytes=image,
      objects=_regions(seg, mapping, classes, file, item),
      semantic_mask=SemanticMaskRef(f'{file}: {item}', _value_map(mapping,
                                                                  classes),
                                    data=seg),
      declared_size=declared)


def _value_map(mapping: dict[int, int], classes: ClassList) -> ValueMap:
  names = {value: (classes.names[label - 1] if label else BACKGROUND)
           for value, label in mapping.items()}
  return ValueMap(names, {}, 'the export.json legend')


def _regions(seg: bytes, mapping: dict[int, int], classes: ClassList,
             file: str, item: str) -> list[ObjectAnnotation]:
  """One object per connected region of each class in the map, each mask
  cropped to its region (a map of thousands of specks stays small)."""
  pixels = mask_files.read_index_pixels(seg, file=f'{file}: {item}')
  objects = []
  for value, label in sorted(mapping.items()):
    if label == 0:
      continue
    regions, count = ndimage.label(pixels == value, _EIGHT_NEIGHBOURS)
    name = classes.names[label - 1]
    for region, mask in sorted(masks.masks_of_labels(
        regions, range(1, count + 1)).items()):
      objects.append(ObjectAnnotation(
          label=name, where=f'{item}: region #{region} of {name}',
          box=mask.box(), mask=MaskRef(mask=mask)))
  return objects


def _bytes(feature, key: str) -> bytes:
  values = feature[key].bytes_list.value if key in feature else []
  return values[0] if values else b''


def _int(feature, key: str) -> int | None:
  values = feature[key].int64_list.value if key in feature else []
  return values[0] if values else None
