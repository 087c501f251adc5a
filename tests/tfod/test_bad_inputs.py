"""Bad TF Object Detection API exports: records and label maps."""

import pathlib
import shutil
import struct

import pytest
import tensorflow as tf

from tests.builds import build, read_report
from tests.paths import DUMMY_DATA
from tfds_builders.tfod import label_map
from tfds_builders.core.errors import ExportError
from tfds_builders.tfod import parse

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


# Bad records: clear errors naming the file and the record.


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


def test_crc_corrupted_record_is_an_error(tmp_path):
  root = _copy_cvat(tmp_path)
  path = root / 'default.tfrecord'
  data = bytearray(path.read_bytes())
  start, end = _record_spans(bytes(data))[2]
  data[(start + end) // 2] ^= 0xFF
  path.write_bytes(bytes(data))
  with pytest.raises(ExportError) as raised:
    build('tfod_export', root, tmp_path / 'data')
  assert raised.value.file == 'default.tfrecord'
  assert raised.value.item == 'record 2'
  assert 'fails its CRC check' in raised.value.problem


def test_truncated_file_is_an_error(tmp_path):
  root = _copy_cvat(tmp_path)
  path = root / 'default.tfrecord'
  data = path.read_bytes()
  start, _ = _record_spans(data)[4]
  path.write_bytes(data[:start + 100])
  with pytest.raises(ExportError) as raised:
    parse.parse_export(root)
  assert (raised.value.file, raised.value.item) == ('default.tfrecord',
                                                     'record 4')
  assert 'ends in the middle of this record' in raised.value.problem


def _example(**features) -> bytes:
  feature = {}
  for key, values in features.items():
    key = key.replace('__', '/')
    if isinstance(values[0], bytes):
      feature[key] = tf.train.Feature(bytes_list=tf.train.BytesList(
          value=values))
    elif isinstance(values[0], float):
      feature[key] = tf.train.Feature(float_list=tf.train.FloatList(
          value=values))
    else:
      feature[key] = tf.train.Feature(int64_list=tf.train.Int64List(
          value=values))
  return tf.train.Example(features=tf.train.Features(
      feature=feature)).SerializeToString()


def _write(path: pathlib.Path, records: list[bytes]) -> None:
  with tf.io.TFRecordWriter(str(path)) as f:
    for record in records:
      f.write(record)


def _jpeg() -> bytes:
  return (TFOD / 'cvat_no_images' / 'images' / 'frame_000000.jpg').read_bytes()


def test_label_id_missing_from_label_map_is_an_error(tmp_path):
  root = _copy_cvat(tmp_path)
  boxes = {f'image__object__bbox__{k}': [0.1, 0.5] for k in ('xmin', 'ymin')}
  boxes.update({f'image__object__bbox__{k}': [0.4, 0.9]
                for k in ('xmax', 'ymax')})
  good = _example(image__encoded=[_jpeg()], image__filename=[b'a.jpg'],
                  image__object__class__label=[1, 2], **boxes)
  bad = _example(image__encoded=[_jpeg()], image__filename=[b'b.jpg'],
                 image__object__class__label=[2, 7], **boxes)
  _write(root / 'default.tfrecord', [good, bad])
  with pytest.raises(ExportError) as raised:
    parse.parse_export(root)
  assert raised.value.file == 'default.tfrecord'
  assert raised.value.item == 'record 1, object #2'
  assert 'label id 7 is not in the label map' in raised.value.problem


def test_text_only_without_label_map_and_bad_lengths(tmp_path):
  root = tmp_path / 'export'
  root.mkdir()
  ok = _example(image__encoded=[_jpeg()], image__filename=[b'a.jpg'],
                image__object__class__text=[b'zebra'],
                image__object__bbox__xmin=[0.1], image__object__bbox__ymin=[0.1],
                image__object__bbox__xmax=[0.5], image__object__bbox__ymax=[0.5])
  uneven = _example(image__encoded=[_jpeg()], image__filename=[b'b.jpg'],
                    image__object__class__text=[b'zebra', b'zebra'],
                    image__object__bbox__xmin=[0.1, 0.2],
                    image__object__bbox__ymin=[0.1],
                    image__object__bbox__xmax=[0.5, 0.6],
                    image__object__bbox__ymax=[0.5, 0.6])
  _write(root / 'train.record', [ok, uneven])
  parsed = parse.parse_export(root)
  assert parsed.classes is None  # named by the builder from class/text
  assert [r.image_id for r in parsed.records] == ['a.jpg']
  assert parsed.records[0].objects[0].label == 'zebra'
  assert parsed.export_objects == 3
  (issue,) = parsed.issues
  assert (issue.file, issue.objects_lost) == ('train.record record 1', 2)
  assert 'different lengths (xmin=2, ymin=1' in issue.problem


def test_gzip_records_and_missing_image_files(tmp_path):
  root = tmp_path / 'export'
  shutil.copytree(TFOD / 'cvat_no_images', root)
  (root / 'images' / 'sub' / 'frame_000001.jpg').unlink()
  records = list(tf.data.TFRecordDataset(str(root / 'default.tfrecord')))
  (root / 'default.tfrecord').unlink()
  with tf.io.TFRecordWriter(str(root / 'default.tfrecord.gz'),
                            options='GZIP') as f:
    for record in records:
      f.write(record.numpy())
  builder = build('tfod_export', root, tmp_path / 'data')
  report = read_report(builder)
  assert report['dataset_totals'] == {'images': 1, 'objects': 2}
  assert report['nothing_lost'] and report['skipped']['objects'] == 2
  (issue,) = report['issues']
  assert issue['file'] == 'sub/frame_000001.jpg'
  assert issue['item'] == 'listed in default.tfrecord.gz record 1'
  assert 'image file not found' in issue['problem']


def test_record_that_is_not_an_example_is_an_error(tmp_path):
  root = tmp_path / 'export'
  root.mkdir()
  _write(root / 'data.tfrecord', [b'{"not": "a tf.train.Example"}'])
  with pytest.raises(ExportError) as raised:
    parse.parse_export(root)
  assert (raised.value.file, raised.value.item) == ('data.tfrecord',
                                                     'record 0')
