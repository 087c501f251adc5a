"""Reading TF Object Detection API records into image records.

The keys are those of the OD API's `tf_example_decoder.py`, as the writers
fill them:
  * `create_*_tf_record.py`, `generate_tfrecord.py` (raccoon style):
    `image/encoded` with `image/format` 'jpeg', 'jpg' or 'png' (not always
    what the bytes are), class text and label, difficult/truncated/is_crowd/
    area, masks as one PNG per object or as dense floats (`NUMERICAL_MASKS`:
    objects x height x width values, 0/1);
  * CVAT "TFRecord 1.0" / Datumaro: empty `image/source_id`, `image/encoded`
    empty when images were not saved (then `image/filename` names a file in
    `images/`), an object without a label written as label 0 with empty text,
    an object without a mask as empty mask bytes;
  * Roboflow: no `image/source_id`, format 'jpg'.

One bad object never stops a build: an object without a usable class (label 0
with no text, an id or text the label map lacks) or with a bad number is
skipped and reported. A record whose lists do not line up (4 boxes, 3
labels) is skipped with its objects. A file that is not TFRecords, damaged
framing, or a record that is not an OD API example is an ExportError.
Every number goes through `core.values`; boxes are relative, so they are
handed on as `relative_box` and scaled by the real image size when encoded.
"""

from __future__ import annotations

import posixpath

import numpy as np

from tfds_builders.core import masks, record_store, report, tfrecords, values
from tfds_builders.core.errors import ExportError, SkippableError
from tfds_builders.core.exportfs import ExportFiles
from tfds_builders.core.lookup import ImageLookup
from tfds_builders.core.records import (ImageRecord, MaskRef, ObjectAnnotation,
                                        ParsedExport, RecordSlice)
from tfds_builders.tfod import example, layout
from tfds_builders.tfod.label_map import LabelMap

_BOX_KEYS = example.BOX_KEYS
_FLAG_KEYS = {'is_difficult': 'image/object/difficult',
              'is_truncated': 'image/object/truncated',
              'is_crowd': 'image/object/is_crowd'}
_MASK_KEY = example.MASK_KEY
_TEXT, _LABEL = 'image/object/class/text', 'image/object/class/label'
_AREA = 'image/object/area'
_PER_OBJECT = {_TEXT: 'bytes_list', _LABEL: 'int64_list', _AREA: 'float_list',
               **{key: 'int64_list' for key in _FLAG_KEYS.values()}}
# Relative coordinates may reach this far out (boxes past the edge are
# clipped and reported by the encoder); beyond it they are garbage.
RELATIVE_LIMIT = values.COORDINATE_SLACK + 1
MAX_AREA = float(values.MAX_IMAGE_SIDE) ** 2
# Dense masks are objects x height x width floats. A record is at most
# `tfrecords.MAX_RECORD_BYTES`, so this many 4-byte values can be there at
# all; they are converted one object at a time (height x width floats).
MAX_DENSE_MASK_VALUES = tfrecords.MAX_RECORD_BYTES // 4
_FORMATS = {'jpeg': 'JPEG', 'jpg': 'JPEG', 'png': 'PNG'}
_MAGIC = ((b'\xff\xd8\xff', 'JPEG'), (b'\x89PNG\r\n\x1a\n', 'PNG'))


def parse_export(files: ExportFiles) -> ParsedExport:
  record_files = layout.find_record_files(files)
  label_map = layout.read_label_maps(files)
  reader = _Reader(files, ImageLookup(files), label_map)
  for record_file in record_files:
    for index, serialized, offset in tfrecords.read_records(
        record_file.path, file=record_file.name, with_offsets=True):
      reader.read(serialized, record_file, index, offset)
  reader.check_classes(record_files[0].name)
  sources = [f.name for f in record_files] + files.files(
      suffixes=layout.LABEL_MAP_SUFFIXES)
  return ParsedExport(
      layout.describe(record_files, label_map), reader.records,
      label_map.classes if label_map else None, reader.export_images,
      reader.export_objects, layout.shard_issues(record_files) + reader.issues
      + reader.lookup.unclaimed_issues(),
      [files.path(name) for name in sources])


class _Reader:
  """Turns records into image records, collecting the report entries."""

  def __init__(self, files: ExportFiles, lookup: ImageLookup,
               label_map: LabelMap | None):
    self.files, self.lookup, self.label_map = files, lookup, label_map
    self.records = record_store.new_list()
    self.issues: list[report.Issue] = []
    self.export_images = self.export_objects = 0
    self._named = self._id_only = 0  # objects with a class / only an id

  def read(self, serialized: bytes, record_file: layout.RecordFile,
           index: int, offset: int | None = None) -> None:
    self.export_images += 1
    where = f'{record_file.name} record {index}'
    features = example.Features(
        example.parse_example(serialized, record_file.name, index), where)
    count = features.object_count()
    self.export_objects += count
    try:
      record = self._record(features, record_file, where, count)
      if record.image_bytes and offset is not None:
        # Read again when encoded: the export's images are never all held.
        record.image_bytes = None
        record.image_in_record = RecordSlice(record_file.path, offset,
                                             record_file.name, where)
    except SkippableError as e:
      self.issues.append(report.Issue.from_error(
          e, report.SKIPPED_IMAGE, count, file=where))
      return
    self.records.append(record)

  def check_classes(self, first_file: str) -> None:
    """Objects named only by ids, and no label map: one clear error."""
    if self.label_map is None and self._id_only and not self._named:
      raise ExportError(
          f'the records name their classes only by image/object/class/label'
          f' ids ({self._id_only} objects) and the export has no label map'
          ' (*.pbtxt) to name them.', file=first_file,
          fix='Put the label map the records were written with (e.g.'
          ' label_map.pbtxt) next to them.')

  def _record(self, features: example.Features,
              record_file: layout.RecordFile, where: str,
              count: int) -> ImageRecord:
    filename, readable_name = self._name_text(features, 'image/filename',
                                              where)
    record = ImageRecord(
        image_id=self._name_text(features, 'image/source_id', where)[0]
        or filename or where,
        filename=filename or where, annotation_file=where,
        split=record_file.split, split_source=record_file.split_source,
        declared_size=self._declared_size(features, where))
    encoded = features.scalar('image/encoded', 'bytes_list') or b''
    if encoded:
      record.image_bytes = encoded
      self._check_format(features.text('image/format'), encoded, where)
      if filename and readable_name:  # on disk too: not "unclaimed"
        self._find_file(filename, record_file, where)  # (never read)
    elif filename and not readable_name:
      record.missing_image = ('image/filename is not UTF-8, so the image file'
                              ' it names cannot be looked up')
    elif filename:  # CVAT/Datumaro without images: images/<filename>
      found = self._find_file(filename, record_file, where)
      if found.name:
        record.image_path = self.files.real_path(found.name)
        record.filename = found.name
      else:
        record.missing_image = found.problem
    else:
      record.missing_image = ('the record has neither image/encoded bytes nor'
                              ' an image/filename')
    record.objects = self._objects(features, record, count)
    return record

  def _name_text(self, features: example.Features, key: str,
                 where: str) -> tuple[str, bool]:
    """`(text, is UTF-8)` of an id or file name; not UTF-8 is warned."""
    text, problem = features.name_text(key)
    if problem:
      self.issues.append(report.Issue(where, key, problem, report.WARNING,
                                      fix=f'Write {key} as UTF-8.'))
    return text, not problem

  def _find_file(self, filename: str, record_file: layout.RecordFile,
                 where: str):
    folder = posixpath.dirname(record_file.name)
    near = (posixpath.join(folder, 'images'), folder)
    if posixpath.basename(folder) == 'annotations':  # Datumaro's layout
      near = (posixpath.join(posixpath.dirname(folder), 'images'),) + near
    return self.lookup.find(filename, near=near, file=record_file.name,
                            item=f'{where}: image/filename')

  def _declared_size(self, features: example.Features, where: str):
    """image/width x image/height, or None (absent, 0, or garbage: warned)."""
    try:
      return values.image_size(
          features.scalar('image/width', 'int64_list'),
          features.scalar('image/height', 'int64_list'), 'image/width x'
          ' image/height', file=where, item='image/width, image/height')
    except SkippableError as e:
      self.issues.append(report.Issue.from_error(e, report.WARNING,
                                                 file=where))
      return None

  def _check_format(self, given: str, data: bytes, where: str) -> None:
    declared = _FORMATS.get(given.strip().lower())
    actual = next((name for magic, name in _MAGIC if data.startswith(magic)),
                  None)
    if declared and actual and declared != actual:
      self.issues.append(report.Issue(
          where, 'image/format', f'image/format says {given!r} but the bytes'
          f' are {actual}; read as {actual}', report.WARNING,
          fix=f'Write image/format {actual.lower()!r} for this image.'))

  def _objects(self, features: example.Features, record: ImageRecord,
               count: int) -> list[ObjectAnnotation]:
    where = record.annotation_file
    boxes = [features.values(k, 'float_list') for k in _BOX_KEYS]
    if count and not any(len(b) for b in boxes):
      raise SkippableError(f'the record lists {count} objects but no boxes'
                           ' (image/object/bbox/*); they cannot be placed.',
                           file=where, fix='Re-export the records with'
                           ' their boxes.')
    if any(len(b) != len(boxes[0]) for b in boxes):
      lengths = ', '.join(f'{k.rsplit("/", 1)[1]}={len(b)}'
                          for k, b in zip(_BOX_KEYS, boxes))
      raise SkippableError(f'the bbox lists have different lengths'
                           f' ({lengths}); which box is which cannot be told.',
                           file=where, fix='Re-export the records.')
    count = len(boxes[0])  # a longer list than the boxes: per_object says so
    columns = {key: features.per_object(key, kind, count)
               for key, kind in _PER_OBJECT.items()}
    mask_refs = self._masks(features, count, record) or [None] * count
    objects = []
    for i in range(count):
      item = f'object #{i + 1}'
      def value(key, i=i):  # this object's value of a per-object list
        return columns[key][i] if columns[key] else None
      try:
        name = self._class_name(value(_TEXT) or b'', value(_LABEL), where,
                                item)
        box = tuple(values.number(b[i], key, limit=RELATIVE_LIMIT, file=where,
                                  item=item)
                    for key, b in zip(_BOX_KEYS, boxes))
        area = value(_AREA)
        if area is not None:
          area = values.number(area, _AREA, limit=MAX_AREA, file=where,
                               item=item)
        flags = {flag: values.flag(value(key), key, file=where, item=item)
                 for flag, key in _FLAG_KEYS.items()}
        objects.append(ObjectAnnotation(
            label=name, where=f'{item} ({name})', relative_box=box,
            mask=mask_refs[i], area=area, **flags))
      except SkippableError as e:
        self.issues.append(report.Issue.from_error(
            e, report.SKIPPED_OBJECT, 1, file=where, item=item))
    return objects

  def _class_name(self, text_bytes: bytes, label_id, where: str,
                  item: str) -> str:
    """`class/text` through the label map, else `class/label` through it
    (the order of the OD API decoder); SkippableError when neither names a
    class."""
    label_id = None if label_id is None else values.integer(
        label_id, _LABEL, high=2**31 - 1, file=where, item=item)
    label_map = self.label_map
    try:
      text = text_bytes.decode('utf-8')
    except UnicodeDecodeError as e:
      # Never a class of its own: an escaped or U+FFFD name would be a class
      # the export does not have. The label map may still name the id.
      problem = example.not_utf8(_TEXT, text_bytes, e)
      by_id = label_id and label_map and label_map.name_for_id(label_id)
      if not by_id:
        raise SkippableError(f'{problem}; the class cannot be read.',
                             file=where, item=item, fix=f'Write {_TEXT} as'
                             ' UTF-8, or class/label ids and a label map.')
      self.issues.append(report.Issue(
          where, item, f'{problem}; the class is label id {label_id}'
          f' ({by_id!r})', report.WARNING, fix=f'Write {_TEXT} as UTF-8.'))
      self._named += 1
      return by_id
    if not text.strip():
      text = ''
    if label_map is None:
      if text:
        self._named += 1
        return text
      if label_id:
        self._id_only += 1
        raise SkippableError(
            f'object has only label id {label_id} and the export has no label'
            ' map to name it.', file=where, item=item,
            fix='Put the label map the records were written with next to'
            ' them.')
    else:
      by_text = label_map.name_for_text(text) if text else None
      by_id = label_map.name_for_id(label_id) if label_id else None
      if by_text and by_id and by_text != by_id:
        self.issues.append(report.Issue(
            where, item, f'class/text {text!r} and class/label {label_id}'
            f' ({by_id!r}) disagree; the text is used', report.WARNING))
      if by_text or by_id:
        self._named += 1
        return by_text or by_id
    if not text and not label_id:
      raise SkippableError(
          f'object has no class: label {label_id} and no class/text (how'
          ' CVAT and Datumaro write an object without a label).' if
          label_id == 0 else 'object has neither class/text nor class/label.',
          file=where, item=item, fix='Give the object a label in the tool.')
    given = ' and '.join(
        ([f'class/text {text!r}'] if text else [])
        + ([f'label id {label_id}'] if label_id is not None else []))
    raise SkippableError(
        f'{given}: not in the label map ({label_map.file}).', file=where,
        item=item, fix='Use the label map the records were written with, or'
        ' add the class to it.')

  def _masks(self, features: example.Features, count: int,
             record: ImageRecord) -> list[MaskRef | None] | None:
    kind = features.kind(_MASK_KEY)
    if kind is None or count == 0:
      return None
    where = record.annotation_file
    if kind == 'bytes_list':  # one PNG per object; b'' = no mask (Datumaro)
      pngs = features.per_object(_MASK_KEY, 'bytes_list', count)
      return [MaskRef(data=png, file=f'{where} {_MASK_KEY} #{i + 1}')
              if png else None for i, png in enumerate(pngs)]
    if kind == 'float_list':
      return _dense_masks(features.values(_MASK_KEY, 'float_list'), count,
                          record.declared_size, where)
    raise SkippableError(f'{_MASK_KEY} holds {kind}; expected PNG bytes or'
                         ' floats.', file=where, fix='Re-export the records.')


def _dense_masks(dense, count: int, size: tuple[int, int] | None,
                 where: str) -> list[MaskRef] | None:
  """`NUMERICAL_MASKS`: objects x height x width floats, > 0 is in.

  Each object's mask becomes a 0/1 PNG, so the encoder holds it against the
  real image size like any mask file. Converted one object at a time.
  """
  if not len(dense):
    return None
  fix = 'Re-export the records (or write PNG masks).'
  if size is None:
    raise SkippableError(
        f'{_MASK_KEY} holds dense masks, which need image/width and'
        ' image/height to be shaped, and the record gives none that is'
        ' usable.', file=where, fix=fix)
  width, height = size
  needed = count * width * height
  if needed > MAX_DENSE_MASK_VALUES:
    raise SkippableError(
        f'{_MASK_KEY}: {count} dense masks of {width}x{height} would be'
        f' {needed:,} values, more than the {MAX_DENSE_MASK_VALUES:,}'
        ' allowed.', file=where, fix=fix)
  if len(dense) != needed:
    raise SkippableError(
        f'{_MASK_KEY} has {len(dense):,} values; {count} objects of'
        f' {width}x{height} (image/width x image/height) need {needed:,}.',
        file=where, fix=fix)
  stream = iter(dense)
  return [MaskRef(data=masks.encode_png(np.fromiter(
      stream, np.float32, count=width * height).reshape(height, width) > 0),
                  file=f'{where} {_MASK_KEY} #{i + 1}')
          for i in range(count)]
