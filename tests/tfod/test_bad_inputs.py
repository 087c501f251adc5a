"""Bad and hostile TF Object Detection API exports, with exact outcomes.

Structural damage (not TFRecords, broken framing, records that are not OD API
examples) is one clear ExportError; one bad object or record is skipped and
reported, and the rest of the export builds.
"""

import os
import pathlib
import shutil
import struct

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from tests.builds import build, examples, read_report, tfds_build
from tests.fixtures.tfod_records import (GOOD, JPEG, LABEL_MAP, example,
                                         export, issues, to_feature)
from tests.fixtures.writers import write_records
from tests.paths import DUMMY_DATA
from tfds_builders.core import encode, tfrecords
from tfds_builders.core.builder import ExportConfig
from tfds_builders.core.errors import ExportError
from tfds_builders.core.exportfs import ExportFiles
from tfds_builders.tfod import TfodExport, label_map, parse

TFOD = DUMMY_DATA / 'tfod_export'


@pytest.mark.parametrize('text, problem, item', [
    ('item { id: 0 name: "cat" }', 'id 0 is reserved', "item #1 (id 0, 'cat')"),
    ('item { id: 4 name: "background" }', 'id 0 is reserved', 'item #1'),
    ('item { id: 1 name: "cat" } item { id: 1 name: "dog" }',
     'id 1 is already used', "item #2 (id 1, 'dog')"),
    ('item { id: 1 name: "cat" } item { id: 2 name: "cat" }',
     "name 'cat' is already used", "item #2 (id 2, 'cat')"),
    ('item { id: 1 name: "a" display_name: "cat" } item { id: 2 name: "cat" }',
     "name 'cat' is already used", 'item #2'),
    ('item { name: "cat" }', 'item has no id', 'item #1'),
    ('item { id: 1 }', 'neither name nor display_name', 'item #1'),
    ('item { id: -1 name: "cat" }', 'negative id', 'item #1'),
    ('item {\n  id: 1\n  nmae: "cat"\n}', 'no field named "nmae"', 'line 3'),
    ('item { id: 1 name: "cat"', 'not a valid label map', 'line 1'),
    ('# nothing here\n', 'lists no classes', None),
])
def test_label_map_errors_name_file_and_item(text, problem, item):
  with pytest.raises(ExportError) as raised:
    label_map.parse_label_map(text, file='export/label_map.pbtxt')
  assert raised.value.file == 'export/label_map.pbtxt'
  assert problem in raised.value.problem
  if item:
    assert raised.value.item.startswith(item)




def _record_spans(data: bytes) -> list[tuple[int, int]]:
  """(start, end) of each record's payload in TFRecord framing."""
  spans, offset = [], 0
  while offset < len(data):
    (length,) = struct.unpack('<Q', data[offset:offset + 8])
    spans.append((offset + 12, offset + 12 + length))
    offset += 12 + length + 4
  return spans


def _copy_cvat(tmp_path) -> pathlib.Path:
  root = tmp_path / 'export'
  shutil.copytree(TFOD / 'cvat', root)
  return root


# Structural damage: one clear error naming the file and the record.


def test_crc_corrupted_record_is_an_error(tmp_path):
  root = _copy_cvat(tmp_path)
  path = root / 'default.tfrecord'
  data = bytearray(path.read_bytes())
  start, end = _record_spans(bytes(data))[2]
  data[(start + end) // 2] ^= 0xFF
  path.write_bytes(bytes(data))
  with pytest.raises(ExportError) as raised:
    build('tfod_export', root, tmp_path / 'data')
  assert (raised.value.file, raised.value.item) == ('default.tfrecord',
                                                     'record 2')
  assert raised.value.problem == (
      'this record fails its CRC check: the file is corrupt; the 2 record(s)'
      ' before it are readable.')


def test_truncated_file_is_an_error(tmp_path):
  root = _copy_cvat(tmp_path)
  path = root / 'default.tfrecord'
  data = path.read_bytes()
  start, end = _record_spans(data)[4]
  path.write_bytes(data[:start + 100])
  with pytest.raises(ExportError) as raised:
    parse.parse_export(ExportFiles(root))
  assert (raised.value.file, raised.value.item) == ('default.tfrecord',
                                                     'record 4')
  assert raised.value.problem == (
      f'the file ends in the middle of this record (its header says'
      f' {end - start:,} bytes; 100 are left); the 4 record(s) before it are'
      ' readable.')


def test_huge_length_header_is_refused_without_crashing(tmp_path):
  """A 2**62 length made tf.data allocate until the process died; the real
  `tfds build` must end with the error instead (in a subprocess)."""
  root = tmp_path / 'export'
  root.mkdir()
  length = struct.pack('<Q', 2**62)
  header = length + struct.pack('<I', tfrecords.masked_crc32c(length))
  (root / 'train.record').write_bytes(header + b'\0' * 64)
  (root / 'label_map.pbtxt').write_text(LABEL_MAP)
  result = tfds_build('tfod_export', root, tmp_path / 'data', check=False)
  assert result.returncode == 1, result.stderr[-3000:]
  assert ('train.record: record 0: the record header says'
          ' 4,611,686,018,427,387,904 bytes, more than the 1,073,741,824'
          ' allowed for one record.') in result.stderr


def test_file_that_is_not_tfrecords_is_an_error(tmp_path):
  root = tmp_path / 'export'
  root.mkdir()
  (root / 'train.record').write_bytes(JPEG)
  with pytest.raises(ExportError) as raised:
    parse.parse_export(ExportFiles(root))
  assert (raised.value.file, raised.value.item) == ('train.record',
                                                     'record 0')
  assert raised.value.problem == (
      'the record header fails its CRC check: this is not a TFRecord file, or'
      ' it is corrupt.')


@pytest.mark.parametrize('payload, problem', [
    (b'{"not": "a tf.train.Example"}', 'record is not a tf.train.Example'),
    (tf.train.Example(features=tf.train.Features(feature={
        'image': to_feature([JPEG])})).SerializeToString(),
     'record has neither image/encoded nor image/filename: not a TF Object'
     ' Detection API example.'),
])
def test_record_that_is_not_an_od_api_example_is_an_error(tmp_path, payload,
                                                          problem):
  root = export(tmp_path, [GOOD, payload], name='data.tfrecord')
  with pytest.raises(ExportError) as raised:
    parse.parse_export(ExportFiles(root))
  assert (raised.value.file, raised.value.item) == ('data.tfrecord',
                                                     'record 1')
  assert raised.value.problem.startswith(problem)


# Objects without a usable class: skipped and reported, never the build.


def test_objects_without_a_usable_class_are_skipped(tmp_path):
  boxes = [(0.1, 0.1, 0.5, 0.5), (0.5, 0.5, 0.9, 0.9)]
  records = [
      GOOD,
      # Datumaro/CVAT: an object without a label is label 0, empty text.
      example(JPEG, boxes, image__filename=[b'b.jpg'],
               image__object__class__text=[b'dog', b''],
               image__object__class__label=[2, 0]),
      # A label id the label map lacks; a text it lacks, with no id.
      example(JPEG, boxes, image__filename=[b'c.jpg'],
               image__object__class__label=[2, 7]),
      example(JPEG, boxes, image__filename=[b'd.jpg'],
               image__object__class__text=[b'zebra', b'cat']),
      # A negative id.
      example(JPEG, boxes, image__filename=[b'e.jpg'],
               image__object__class__label=[-1, 1]),
  ]
  root = export(tmp_path, records)
  builder = build('tfod_export/boxes', root, tmp_path / 'data')
  report = read_report(builder)
  assert report['nothing_lost']
  assert report['export'] == {'images': 5, 'objects': 9}
  assert report['dataset_totals'] == {'images': 5, 'objects': 5}
  assert issues(report) == [
      ('train.record record 1', 'object #2', 'object has no class: label 0'
       ' and no class/text (how CVAT and Datumaro write an object without a'
       ' label).', 'skipped object', 1),
      ('train.record record 2', 'object #2', 'label id 7: not in the label'
       ' map (label_map.pbtxt).', 'skipped object', 1),
      ('train.record record 3', 'object #1', "class/text 'zebra': not in the"
       ' label map (label_map.pbtxt).', 'skipped object', 1),
      ('train.record record 4', 'object #1', 'image/object/class/label -1 is'
       ' outside 0..2147483647.', 'skipped object', 1),
  ]
  labels = {ex['image/filename'].decode(): ex['objects']['label'].tolist()
            for split in builder.info.splits for ex in examples(builder,
                                                                split)}
  assert labels == {'good.jpg': [0], 'b.jpg': [1], 'c.jpg': [1], 'd.jpg': [0],
                    'e.jpg': [0]}


def test_strict_turns_an_unlabelled_object_into_an_error(tmp_path):
  root = export(tmp_path, [GOOD, example(
      JPEG, [(0.1, 0.1, 0.5, 0.5)], image__filename=[b'b.jpg'],
      image__object__class__text=[b''], image__object__class__label=[0])])
  builder = TfodExport(data_dir=str(tmp_path / 'data'), config=ExportConfig(
      name='strict', strict=True, instance_masks=False))
  with pytest.raises(ExportError) as raised:
    builder.download_and_prepare(download_config=tfds.download.DownloadConfig(
        manual_dir=str(root)))
  assert (raised.value.file, raised.value.item) == ('train.record record 1',
                                                     'object #1')
  assert raised.value.problem == (
      'object has no class: label 0 and no class/text (how CVAT and Datumaro'
      ' write an object without a label). (strict mode; 1 item(s) would be'
      ' skipped)')


def test_ids_only_and_no_label_map_is_one_clear_error(tmp_path):
  root = export(tmp_path, [example(JPEG, [(0.1, 0.1, 0.5, 0.5)],
                                     image__object__class__label=[3])],
                 label_map_text=None)
  with pytest.raises(ExportError) as raised:
    parse.parse_export(ExportFiles(root))
  assert raised.value.file == 'train.record'
  assert raised.value.problem == (
      'the records name their classes only by image/object/class/label ids (1'
      ' objects) and the export has no label map (*.pbtxt) to name them.')


def test_text_only_without_label_map_and_bad_lengths(tmp_path):
  uneven = example(JPEG, (), image__filename=[b'b.jpg'],
                    image__object__class__text=[b'zebra', b'zebra'],
                    image__object__bbox__xmin=[0.1, 0.2],
                    image__object__bbox__ymin=[0.1],
                    image__object__bbox__xmax=[0.5, 0.6],
                    image__object__bbox__ymax=[0.5, 0.6])
  texts = example(JPEG, [(0.1, 0.1, 0.5, 0.5)], image__filename=[b'c.jpg'],
                   image__object__class__text=[b'zebra', b'cat'])
  ok = example(JPEG, [(0.1, 0.1, 0.5, 0.5)], image__filename=[b'a.jpg'],
                image__object__class__text=[b'zebra'])
  root = export(tmp_path, [ok, uneven, texts], label_map_text=None)
  parsed = parse.parse_export(ExportFiles(root))
  assert parsed.classes is None  # named by the builder from class/text
  assert [r.image_id for r in parsed.records] == ['a.jpg']
  assert parsed.records[0].objects[0].label == 'zebra'
  assert parsed.export_objects == 5  # the longest list: 2 texts, 1 box
  assert [(i.file, i.problem, i.action, i.objects_lost)
          for i in parsed.issues] == [
      ('train.record record 1', 'the bbox lists have different lengths'
       ' (xmin=2, ymin=1, xmax=2, ymax=2); which box is which cannot be'
       ' told.', 'skipped image', 2),
      ('train.record record 2', 'image/object/class/text has 2 values for 1'
       ' boxes; which belongs to which cannot be told.', 'skipped image', 2)]


# Numbers: every one through core.values.


@pytest.mark.parametrize('features, problem', [
    ({'boxes': [(float('nan'), 0.1, 0.5, 0.5)]},
     'image/object/bbox/xmin nan is not finite.'),
    ({'boxes': [(0.1, 0.1, float('inf'), 0.5)]},
     'image/object/bbox/xmax inf is not finite.'),
    ({'boxes': [(0.1, -1e9, 0.5, 0.5)]},
     'image/object/bbox/ymin -1000000000.0 is beyond 11.'),
    ({'boxes': [(0.1, 0.1, 0.5, 1e9)]},
     'image/object/bbox/ymax 1000000000.0 is beyond 11.'),
    ({'image__object__area': [float('nan')]},
     'image/object/area nan is not finite.'),
    ({'image__object__difficult': [2]},
     'image/object/difficult 2 is not 0/1 or true/false.'),
    ({'image__object__is_crowd': [-1]},
     'image/object/is_crowd -1 is not 0/1 or true/false.'),
])
def test_bad_numbers_skip_their_object(tmp_path, features, problem):
  boxes = features.pop('boxes', [(0.1, 0.1, 0.5, 0.5)])
  bad = example(JPEG, boxes, image__filename=[b'b.jpg'],
                 image__object__class__label=[2], **features)
  root = export(tmp_path, [GOOD, bad])
  parsed = parse.parse_export(ExportFiles(root))
  assert [(i.file, i.item, i.problem, i.action, i.objects_lost)
          for i in parsed.issues] == [
      ('train.record record 1', 'object #1', problem, 'skipped object', 1)]
  assert [len(r.objects) for r in parsed.records] == [1, 0]


def test_garbage_declared_size_is_warned_and_the_image_wins(tmp_path):
  bad = example(JPEG, [(0.25, 0.5, 0.5, 1.0)], image__filename=[b'b.jpg'],
                 image__object__class__label=[2], image__width=[-40])
  root = export(tmp_path, [GOOD, bad])
  builder = build('tfod_export/boxes', root, tmp_path / 'data')
  report = read_report(builder)
  assert issues(report) == [(
      'train.record record 1', 'image/width, image/height',
      'image/width x image/height width -40 is outside 1..1048576.',
      'warning', 0)]
  got = {ex['image/filename']: ex for split in builder.info.splits
         for ex in examples(builder, split)}
  np.testing.assert_allclose(got[b'b.jpg']['objects']['bbox'],
                             [[0.5, 0.25, 1.0, 0.5]])


# Dense masks: counted against the declared size, under a cap.


def test_huge_declared_dense_mask_is_refused_without_allocating(tmp_path):
  huge = example(JPEG, [(0.1, 0.1, 0.5, 0.5)] * 2, image__filename=[b'b.jpg'],
                  image__object__class__label=[1, 2],
                  image__object__mask=[1.0] * 16,
                  image__width=[1 << 20], image__height=[1 << 20])
  short = example(JPEG, [(0.1, 0.1, 0.5, 0.5)] * 2, image__filename=[b'c.jpg'],
                   image__object__class__label=[1, 2],
                   image__object__mask=[1.0] * 16)
  root = export(tmp_path, [GOOD, huge, short])
  parsed = parse.parse_export(ExportFiles(root))
  assert [(i.file, i.problem, i.action, i.objects_lost)
          for i in parsed.issues] == [
      ('train.record record 1', 'image/object/mask: 2 dense masks of'
       ' 1048576x1048576 would be 2,199,023,255,552 values, more than the'
       ' 268,435,456 allowed.', 'skipped image', 2),
      ('train.record record 2', 'image/object/mask has 16 values; 2 objects'
       ' of 40x30 (image/width x image/height) need 2,400.', 'skipped image',
       2)]
  assert [r.filename for r in parsed.records] == ['good.jpg']


def test_dense_mask_of_another_size_than_the_image_skips_its_objects(
    tmp_path):
  """The declared 20x10 frame is not the image's 40x30: the masks cannot be
  placed, and the encoder's size check says so for each object."""
  dense = np.zeros((1, 10, 20), np.float32)
  dense[0, 2:5, 3:9] = 1.0
  record = example(JPEG, [(0.1, 0.1, 0.5, 0.5)], image__filename=[b'b.jpg'],
                    image__object__class__label=[1],
                    image__object__mask=[float(v) for v in dense.ravel()],
                    image__width=[20], image__height=[10])
  root = export(tmp_path, [GOOD, record])
  report = read_report(build('tfod_export', root, tmp_path / 'data'))
  assert report['nothing_lost']
  assert issues(report) == [
      ('train.record record 1', 'image size (b.jpg)', 'annotation says 20x10'
       ' but the image is 40x30; the image size is used', 'warning', 0),
      ('train.record record 1 image/object/mask #1', 'object #1 (cat)',
       'mask is 20x10 but the image is 40x30.', 'skipped object', 1)]


# Files that must not be read.


def test_label_map_symlinked_out_of_the_export_is_not_read(tmp_path):
  outside = tmp_path / 'outside.pbtxt'
  outside.write_text('item { id: 1 name: "secret" }')
  root = export(tmp_path, [GOOD], label_map_text=None)
  os.symlink(outside, root / 'label_map.pbtxt')
  builder = build('tfod_export/boxes', root, tmp_path / 'data')
  report = read_report(builder)
  assert report['classes'] == ['cat']  # from class/text, not the link
  assert report['class_source'] == 'sorted names found in the annotations'
  assert issues(report) == [(
      'label_map.pbtxt', '', f'symlink leading outside the export (to'
      f' {outside}); not read', 'not included', 0)]


def test_record_file_symlinked_out_of_the_export_is_not_read(tmp_path):
  outside = tmp_path / 'elsewhere' / 'secret.record'
  write_records(outside, [example(JPEG, [(0.1, 0.1, 0.5, 0.5)],
                                   image__filename=[b'secret.jpg'],
                                   image__object__class__label=[2])])
  root = export(tmp_path, [GOOD])
  os.symlink(outside, root / 'test.record')
  report = read_report(build('tfod_export/boxes', root, tmp_path / 'data'))
  assert report['export'] == {'images': 1, 'objects': 1}
  assert report['dataset_totals'] == {'images': 1, 'objects': 1}
  assert issues(report) == [(
      'test.record', '', f'symlink leading outside the export (to'
      f' {outside}); not read', 'not included', 0)]


def test_only_record_file_symlinked_out_leaves_no_records(tmp_path):
  outside = tmp_path / 'secret.record'
  write_records(outside, [GOOD])
  root = tmp_path / 'export'
  root.mkdir()
  os.symlink(outside, root / 'train.record')
  with pytest.raises(ExportError, match='no TFRecord files found'):
    parse.parse_export(ExportFiles(root))


# Label map text: BOM, other encodings.


def test_label_map_with_a_byte_order_mark(tmp_path):
  root = export(tmp_path, [GOOD], label_map_text=None)
  (root / 'label_map.pbtxt').write_bytes(b'\xef\xbb\xbf' + LABEL_MAP.encode())
  files = ExportFiles(root)
  parsed = parse.parse_export(files)
  assert parsed.classes.names == ('cat', 'dog')
  assert parsed.issues == [] and files.issues == []


def test_label_map_in_latin_1_is_read_and_reported(tmp_path):
  text = 'item {\r\n  id: 1\r\n  name: "café"\r\n}'  # CRLF, no final newline
  café = example(JPEG, [(0.1, 0.1, 0.5, 0.5)],
                  image__object__class__text=['café'.encode()],
                  image__object__class__label=[1])
  root = export(tmp_path, [café], label_map_text=None)
  (root / 'label_map.pbtxt').write_bytes(text.encode('latin-1'))
  report = read_report(build('tfod_export/boxes', root, tmp_path / 'data'))
  assert report['classes'] == ['café']
  assert report['dataset_totals'] == {'images': 1, 'objects': 1}
  assert issues(report) == [(
      'label_map.pbtxt', '', 'not UTF-8 (byte 0xe9 at offset 29); read as'
      ' Windows-1252', 'warning', 0)]


# Images named by file (CVAT/Datumaro without embedded images).


def test_gzip_records_and_missing_image_files(tmp_path):
  root = tmp_path / 'export'
  shutil.copytree(TFOD / 'cvat_no_images', root)
  (root / 'images' / 'sub' / 'frame_000001.jpg').unlink()
  records = [r for _, r in tfrecords.read_records(
      root / 'default.tfrecord', file='default.tfrecord')]
  (root / 'default.tfrecord').unlink()
  with tf.io.TFRecordWriter(str(root / 'default.tfrecord.gz'),
                            options='GZIP') as f:
    for record in records:
      f.write(record)
  builder = build('tfod_export', root, tmp_path / 'data')
  report = read_report(builder)
  assert report['dataset_totals'] == {'images': 1, 'objects': 2}
  assert report['nothing_lost'] and report['skipped']['objects'] == 2
  assert issues(report) == [(
      'sub/frame_000001.jpg', 'listed in default.tfrecord.gz record 1',
      "image file not found: looked for 'sub/frame_000001.jpg' in images/,"
      " ./ and for any image named 'frame_000001.jpg' in the export.",
      'skipped image', 2)]


def test_image_filename_leaving_the_export_is_never_opened(tmp_path):
  """A record without embedded image whose file name leads out: its image
  is skipped with the reason, the other record is built."""
  record = example(b'', [(0.1, 0.1, 0.5, 0.5)],
                    image__filename=[b'../../etc/passwd'],
                    image__object__class__label=[1])
  root = export(tmp_path, [GOOD, record])
  report = read_report(build('tfod_export/boxes', root, tmp_path / 'data'))
  assert report['nothing_lost']
  assert report['dataset_totals'] == {'images': 1, 'objects': 1}
  [(file, item, problem, action, lost)] = issues(report)
  assert (file, item, action, lost) == (
      '../../etc/passwd', 'listed in train.record record 1', 'skipped image',
      1)
  assert 'climbs out of the export folder' in problem


def test_images_no_record_names_are_reported(tmp_path):
  """`images/good.jpg` is the embedded image's file (named by the record);
  `images/stray.jpg` is named by nothing, so it is reported."""
  root = export(tmp_path, [GOOD])
  (root / 'images').mkdir()
  (root / 'images' / 'good.jpg').write_bytes(JPEG)
  (root / 'images' / 'stray.jpg').write_bytes(JPEG)
  parsed = parse.parse_export(ExportFiles(root))
  assert [(i.file, i.problem, i.action) for i in parsed.issues] == [
      ('images/stray.jpg', 'no annotation names this image', 'not included')]
  # The image stays in its record until it is encoded (bounded memory).
  assert parsed.records[0].image_bytes is None
  assert encode._image_in_record(parsed.records[0].image_in_record) == JPEG
