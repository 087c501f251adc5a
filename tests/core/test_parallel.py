"""tfds_builders.core.parallel and core.serialize: the same bytes, faster."""

import importlib

import pytest
import tensorflow_datasets as tfds

from tests.builds import build, read_report, shard_bytes
from tests.paths import DUMMY_DATA
from tfds_builders.core import encode, parallel, pipeline, schema, serialize
from tfds_builders.core.builder import ExportConfig
from tfds_builders.core.determinism import DeterministicExampleSerializer
from tfds_builders.core.exportfs import ExportFiles

EXPORTS = [('voc', DUMMY_DATA / 'voc' / 'labelimg'),
           ('voc', DUMMY_DATA / 'voc' / 'vocdevkit'),
           ('voc', DUMMY_DATA / 'voc' / 'cvat_masks'),
           ('coco', DUMMY_DATA / 'coco' / 'official'),
           ('yolo', DUMMY_DATA / 'yolo' / 'darknet')]


@pytest.mark.parametrize('fmt, export', EXPORTS,
                         ids=[str(e.relative_to(DUMMY_DATA)) for _, e in EXPORTS])
@pytest.mark.parametrize('instance_masks', [False, True])
def test_fast_serializer_writes_what_tfds_writes(fmt, export, instance_masks):
  parse = importlib.import_module(f'tfds_builders.{fmt}.parse')
  prepared = pipeline.prepare(ExportFiles(export), parse.parse_export)
  features = schema.features(instance_masks, list(prepared.classes.names))
  info = features.get_serialized_info()
  assert serialize.handles(info)
  tfds_way = DeterministicExampleSerializer(info)
  compared = 0
  for records in prepared.by_split.values():
    for record in records:
      _, example, _ = encode.encode_record(
          record, 'train', prepared.classes,
          encode.EncodeOptions(instance_masks=instance_masks))
      if example is not None:
        assert serialize.serialize(example) == tfds_way.serialize_example(
            features.encode_example(example)), record.image_id
        compared += 1
  assert compared >= 3


def test_other_schemas_go_the_tfds_way():
  features = tfds.features.FeaturesDict({'image': tfds.features.Image(),
                                         'extra': tfds.features.Text()})
  assert not serialize.handles(features.get_serialized_info())


@pytest.mark.parametrize('workers', [1, 3])
def test_shards_are_the_same_bytes_whatever_the_workers(tmp_path, workers):
  export = DUMMY_DATA / 'voc' / 'vocdevkit'
  builds = {}
  for count in (0, workers):  # 0: one process, no threads
    config = ExportConfig(name=f'w{count}', workers=count)
    builder = tfds.builder('voc_export', config=config,
                           data_dir=str(tmp_path / f'w{count}'))
    builder.download_and_prepare(download_config=tfds.download.DownloadConfig(
        manual_dir=str(export)))
    builds[count] = builder
  assert shard_bytes(builds[0].data_path) == shard_bytes(
      builds[workers].data_path)
  assert read_report(builds[0])['splits'] == read_report(
      builds[workers])['splits']


def test_in_order_keeps_order_and_raises_worker_errors():
  assert list(parallel.in_order(abs, range(-50, 50), workers=2, chunk=7)) == [
      abs(i) for i in range(-50, 50)]
  from tfds_builders.core.errors import SkippableError  # pylint: disable=g-import-not-at-top
  with pytest.raises(SkippableError, match='a.jpg: item 3: bad. Fix: x'):
    list(parallel.in_order(_fail, [1, 2, 3], workers=2, chunk=1))


def _fail(value):
  from tfds_builders.core.errors import SkippableError  # pylint: disable=g-import-not-at-top
  if value == 3:
    raise SkippableError('bad.', file='a.jpg', item='item 3', fix='x')
  return value
