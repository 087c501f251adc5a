"""TFRecords in the TF Object Detection API schema, with their label map.

Layouts found anywhere under the export root:
  * CVAT "TFRecord 1.0" / Datumaro `tf_detection_api`: `default.tfrecord` or
    `<subset>.tfrecord` + `label_map.pbtxt`; without embedded images the
    records name files in `images/`.
  * Roboflow "Tensorflow TFRecord": `train/ valid/ test/`, each with
    `<name>.tfrecord` and `<name>_label_map.pbtxt`.
  * The OD API's `create_*_tf_record.py`: sharded `name.record-00000-of-00010`
    files, or plain `*.record` / `*.tfrecord` files.

Splits follow the file name (`pets_val.record-*` -> validation) or the folder
(`valid/` -> validation); `default` and other names leave the split to the
builder's hash split. Records are numbered from 0 within each file.

Keys are those of the OD API `tf_example_decoder.py`. Boxes are relative, so
they are handed on as `relative_box` and scaled by the real image size.
"""

from __future__ import annotations

import dataclasses
import pathlib
import posixpath
import re

import numpy as np
import tensorflow as tf
from google.protobuf import message as protobuf_message

from tfds_builders.core import report, splits, tfrecords
from tfds_builders.core.errors import ExportError
from tfds_builders.core.exportfs import ExportFiles
from tfds_builders.tfod.label_map import LabelMap, parse_label_map
from tfds_builders.core.lookup import ImageLookup
from tfds_builders.core.masks import Mask
from tfds_builders.core.records import (ImageRecord, MaskRef, ObjectAnnotation,
                                        ParsedExport)

_RECORD_FILE = re.compile(
    r'^(?P<base>.+\.(?:tfrecords?|records?|tfrec))'
    r'(?:-(?P<shard>\d+)-of-(?P<shards>\d+))?(?:\.gz)?$', re.IGNORECASE)
_BOX_KEYS = tuple(f'image/object/bbox/{c}'
                  for c in ('xmin', 'ymin', 'xmax', 'ymax'))
_FLAG_KEYS = {'is_difficult': 'image/object/difficult',
              'is_truncated': 'image/object/truncated',
              'is_crowd': 'image/object/is_crowd'}
_MASK_KEY = 'image/object/mask'


@dataclasses.dataclass(frozen=True)
class RecordFile:
  path: str  # the confined real path
  file: str  # relative to the export root, for messages
  split: str | None
  sharded: bool


def find_record_files(files: ExportFiles) -> list[RecordFile]:
  found = []
  for name in files.files():
    match = _RECORD_FILE.match(name.rsplit('/', 1)[-1])
    if match:
      folders = pathlib.PurePosixPath(name).parent.parts
      found.append(RecordFile(files.real_path(name), name,
                              split_from_names(match['base'], folders),
                              match['shard'] is not None))
  if not found:
    raise ExportError(
        'no TFRecord files found (*.tfrecord, *.record, *.record-00000-of-N).',
        file=str(files.root), fix='Point --manual_dir at the folder holding'
        ' the TFRecords and label_map.pbtxt.')
  return found


def split_from_names(base: str, folders: tuple[str, ...]) -> str | None:
  """`pets_val.record` -> validation; `valid/cars.tfrecord` -> validation.

  The file name is tried first (whole, then its last and first word, digits
  dropped: `val2017` -> val), then the folders from the nearest up. None when
  nothing names a split (`default.tfrecord`): the builder hashes the ids.
  """
  stem = base.rsplit('.', 1)[0]
  if stem.lower() == 'trainval':
    return 'trainval'
  found = splits.split_word(stem) or splits.split_from_folders(folders)
  return found[0] if isinstance(found, tuple) else found


def read_label_maps(export: ExportFiles) -> LabelMap | None:
  """Every `*.pbtxt` in the export, merged; the same id must name the same
  class in all of them (Roboflow writes one per split folder)."""
  merged: dict[int, tuple] = {}
  ids: dict[str, int] = {}
  files = []
  for file in export.files(suffixes=('.pbtxt',)):
    files.append(file)
    for item in parse_label_map(export.read_text(file), file=file).items:
      first, first_file = merged.setdefault(item.id, (item, file))
      first_id = ids.setdefault(item.class_name, item.id)
      if first != item or first_id != item.id:
        raise ExportError(
            f'item id {item.id} {item.class_name!r} disagrees with'
            f' {first_file} (where id {item.id} is {first.class_name!r} and'
            f' {item.class_name!r} has id {first_id}).', file=file,
            fix='Use one label map for all splits, or make them agree.')
  if not files:
    return None
  return LabelMap(tuple(item for _, (item, _) in sorted(merged.items())),
                  files[0] if len(files) == 1 else ', '.join(files))


def parse_export(export: ExportFiles) -> ParsedExport:
  lookup = ImageLookup(export)
  record_files = find_record_files(export)
  label_map = read_label_maps(export)
  records, issues = [], []
  export_images = export_objects = 0
  for record_file in record_files:
    for index, serialized in read_records(record_file):
      export_images += 1
      example = parse_example(serialized, record_file.file, index)
      reader = _RecordReader(example, record_file, index, export, lookup,
                             label_map)
      export_objects += reader.object_count()
      try:
        records.append(reader.image_record())
      except _BadRecord as e:
        issues.append(report.Issue(reader.where, '', e.problem,
                                   report.SKIPPED_IMAGE,
                                   reader.object_count()))
      issues += reader.warnings
  return ParsedExport(_describe(record_files, label_map), records,
                      label_map.classes if label_map else None,
                      export_images, export_objects, issues)


def _describe(record_files: list[RecordFile], label_map) -> str:
  if any(f.sharded for f in record_files):
    layout = 'sharded records'
  elif any(f.split and len(pathlib.PurePosixPath(f.file).parts) > 1
           for f in record_files):
    layout = 'split folders (Roboflow)'
  else:
    layout = 'record files'
  source = label_map.file if label_map else 'no label map'
  return (f'TF Object Detection API TFRecords ({layout},'
          f' {len(record_files)} files, {source})')


def read_records(record_file: RecordFile):
  """Yields `(index, serialized bytes)`; corrupt data is an ExportError."""
  return tfrecords.read_records(record_file.path, file=record_file.file)


def parse_example(serialized: bytes, file: str, index: int) -> tf.train.Example:
  try:
    example = tf.train.Example.FromString(serialized)
  except protobuf_message.DecodeError as e:
    raise ExportError(f'record is not a tf.train.Example ({e}).', file=file,
                      item=f'record {index}',
                      fix='Only TF Object Detection API TFRecords can be'
                      ' read here.') from None
  keys = example.features.feature
  if 'image/encoded' not in keys and 'image/filename' not in keys:
    raise ExportError(
        'record has neither image/encoded nor image/filename: not a TF Object'
        ' Detection API example.', file=file, item=f'record {index}',
        fix='Only TF Object Detection API TFRecords can be read here.')
  return example


class _BadRecord(Exception):
  """A record that cannot be used: skipped and reported."""

  def __init__(self, problem: str):
    super().__init__(problem)
    self.problem = problem


class _RecordReader:
  """One `tf.train.Example` -> `ImageRecord`."""

  def __init__(self, example: tf.train.Example, record_file: RecordFile,
               index: int, export: ExportFiles, lookup: ImageLookup,
               label_map: LabelMap | None):
    self._features = example.features.feature
    self._record_file = record_file
    self._export, self._lookup = export, lookup
    self._label_map = label_map
    self._record_item = f'record {index}'
    self.where = f'{record_file.file} {self._record_item}'
    self.warnings: list[report.Issue] = []

  def object_count(self) -> int:
    return max(len(self._values(k, 'float_list', check=False))
               for k in _BOX_KEYS)

  def image_record(self) -> ImageRecord:
    filename = self._text('image/filename')
    image_id = self._text('image/source_id') or filename or self.where
    width, height = self._int('image/width'), self._int('image/height')
    record = ImageRecord(
        image_id=image_id, filename=filename or self.where,
        annotation_file=self.where, split=self._record_file.split,
        split_source=f'record file {self._record_file.file}',
        declared_size=(width, height) if width > 0 and height > 0 else None)
    encoded = self._scalar('image/encoded', 'bytes_list') or b''
    if encoded:
      record.image_bytes = encoded
    elif filename:  # CVAT/Datumaro without images: images/<filename>
      folder = posixpath.dirname(self._record_file.file)
      near = (posixpath.join(folder, 'images'), folder)
      if posixpath.basename(folder) == 'annotations':  # Datumaro
        near = (posixpath.join(posixpath.dirname(folder), 'images'),) + near
      found = self._lookup.find(
          filename, near=near, split_folder=None, file=self._record_file.file,
          item=f'{self._record_item} image/filename')
      if found.name:
        record.image_path = self._export.real_path(found.name)
        record.filename = found.name
      else:
        record.missing_image = found.problem
    record.objects = self._objects(width, height)
    return record

  def _objects(self, width: int, height: int) -> list[ObjectAnnotation]:
    boxes = [self._values(k, 'float_list') for k in _BOX_KEYS]
    count = len(boxes[0])
    if any(len(b) != count for b in boxes):
      raise _BadRecord('the bbox lists have different lengths ('
                       + ', '.join(f'{k.rsplit("/", 1)[1]}={len(b)}'
                                   for k, b in zip(_BOX_KEYS, boxes)) + ').')
    texts = self._per_object('image/object/class/text', 'bytes_list', count)
    labels = self._per_object('image/object/class/label', 'int64_list', count)
    areas = self._per_object('image/object/area', 'float_list', count)
    flags = {name: self._per_object(key, 'int64_list', count)
             for name, key in _FLAG_KEYS.items()}
    masks = self._masks(count, width, height)
    objects = []
    for i in range(count):
      text = texts[i].decode('utf-8', 'replace') if texts else ''
      label_id = labels[i] if labels else None
      item = f'object #{i + 1}'
      name = self._class_name(text, label_id, item)
      obj = ObjectAnnotation(
          label=name, where=f'{item} ({name})',
          relative_box=tuple(b[i] for b in boxes),
          mask=masks[i] if masks else None,
          area=areas[i] if areas else None,
          **{flag: bool(values[i]) if values else False
             for flag, values in flags.items()})
      objects.append(obj)
    return objects

  def _class_name(self, text: str, label_id: int | None, item: str) -> str:
    """`class/text` through the label map, else `class/label` through it."""
    label_map = self._label_map
    if label_map is None:
      if text:
        return text
      problem = (f'object has only label id {label_id} and the export has no'
                 ' label map to name it.' if label_id is not None else
                 'object has neither class/text nor class/label.')
      raise ExportError(problem, file=self._record_file.file,
                        item=f'{self._record_item}, {item}',
                        fix='Put the label_map.pbtxt the records were written'
                        ' with next to them.')
    by_text = label_map.name_for_text(text) if text else None
    by_id = label_map.name_for_id(label_id) if label_id is not None else None
    if by_text and by_id and by_text != by_id:
      self.warnings.append(report.Issue(
          self.where, item, f'class/text {text!r} and class/label {label_id}'
          f' ({by_id!r}) disagree; the text is used', report.WARNING))
    if by_text or by_id:
      return by_text or by_id
    if label_id is None and not text:
      problem = 'object has neither class/text nor class/label.'
    elif label_id is None:
      problem = f'class/text {text!r} is not in the label map.'
    else:
      problem = (f'label id {label_id}' + (f' (class/text {text!r})' if text
                                           else '') + ' is not in the label'
                 ' map.')
    raise ExportError(problem, file=self._record_file.file,
                      item=f'{self._record_item}, {item}',
                      fix=f'Use the label map the records were written with'
                      f' ({label_map.file} here), or add the class to it.')

  def _masks(self, count: int, width: int, height: int) -> list | None:
    feature = self._features.get(_MASK_KEY)
    kind = feature.WhichOneof('kind') if feature is not None else None
    if kind is None or count == 0:
      return None
    if kind == 'bytes_list':  # one PNG per object; b'' = no mask (Datumaro)
      pngs = self._per_object(_MASK_KEY, 'bytes_list', count)
      return [MaskRef(data=png) if png else None for png in pngs] or None
    if kind == 'float_list':  # dense H*W floats per object (NUMERICAL_MASKS)
      values = feature.float_list.value
      if not values:
        return None
      if len(values) != count * width * height:
        raise _BadRecord(
            f'{_MASK_KEY} has {len(values)} values; {count} objects of'
            f' {width}x{height} (image/width x image/height) need'
            f' {count * width * height}.')
      dense = np.asarray(values, np.float32).reshape(count, height, width)
      return [MaskRef(mask=Mask.from_full(m > 0)) for m in dense]
    raise _BadRecord(f'{_MASK_KEY} holds {kind}; expected PNG bytes or'
                     ' floats.')

  # Reading features.

  def _values(self, key: str, kind: str, check: bool = True):
    feature = self._features.get(key)
    actual = feature.WhichOneof('kind') if feature is not None else None
    if actual is None:
      return []
    if actual != kind:
      if check:
        raise _BadRecord(f'{key} holds {actual}, expected {kind}.')
      return []
    return getattr(feature, kind).value

  def _per_object(self, key: str, kind: str, count: int) -> list:
    values = list(self._values(key, kind))
    if values and len(values) != count:
      raise _BadRecord(f'{key} has {len(values)} values for {count} boxes.')
    return values

  def _scalar(self, key: str, kind: str):
    values = self._values(key, kind)
    return values[0] if values else None

  def _text(self, key: str) -> str:
    return (self._scalar(key, 'bytes_list') or b'').decode('utf-8', 'replace')

  def _int(self, key: str) -> int:
    return self._scalar(key, 'int64_list') or 0
