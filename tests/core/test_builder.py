"""Every builder: Beam and plain write the same examples; array_record works."""

import pathlib

import apache_beam as beam
import pytest
import tensorflow_datasets as tfds

from tests.builds import build, read_report, shard_bytes
from tests.paths import DUMMY_DATA

# (dataset/config, a fixture export of it, a split it has)
BUILDERS = [
    ('voc_export/default', DUMMY_DATA / 'voc' / 'labelimg', 'train'),
    ('coco_export/default', DUMMY_DATA / 'coco' / 'official', 'train'),
    ('labelbox_export/default', DUMMY_DATA / 'labelbox_export' / 'ndjson',
     'train'),
    ('tfod_export/default', DUMMY_DATA / 'tfod_export' / 'cvat', 'train'),
    ('yolo_export/default', DUMMY_DATA / 'yolo' / 'ultralytics_dict', 'train'),
    ('labelbox_cars/boxes', DUMMY_DATA / 'labelbox_cars', 'train'),
]


def beam_options():
  return beam.options.pipeline_options.PipelineOptions(
      runner='DirectRunner', direct_running_mode='multi_processing',
      direct_num_workers=2)


@pytest.mark.parametrize('name, export, split', BUILDERS,
                         ids=[b[0] for b in BUILDERS])
def test_beam_and_plain_give_the_same_examples_and_keys(tmp_path, name,
                                                        export, split):
  plain = build(name, export, tmp_path / 'plain')
  on_beam = build(name, export, tmp_path / 'beam',
                  beam_options=beam_options())
  assert shard_bytes(pathlib.Path(plain.data_dir)) == shard_bytes(
      pathlib.Path(on_beam.data_dir))
  plain_report, beam_report = read_report(plain), read_report(on_beam)
  for key in ('splits', 'dataset_totals', 'skipped', 'nothing_lost'):
    assert plain_report[key] == beam_report[key]
  assert sorted(map(str, plain_report['issues'])) == sorted(
      map(str, beam_report['issues']))
  assert plain_report['source_manifest'] == beam_report['source_manifest']
  assert plain.info.splits[split].num_examples > 0
  # The records' chunk files and the summaries are gone from the dataset.
  assert sorted(p.name for p in pathlib.Path(on_beam.data_dir).iterdir()
                if p.name.startswith('_')) == []


@pytest.mark.parametrize('name, export, split', BUILDERS,
                         ids=[b[0] for b in BUILDERS])
def test_array_record_gives_random_access(tmp_path, name, export, split):
  builder = build(name, export, tmp_path / 'ar', file_format='array_record')
  source = tfds.data_source(name, data_dir=str(tmp_path / 'ar'), split=split)
  assert len(source) == builder.info.splits[split].num_examples
  ids = [source[i]['image/id'] for i in reversed(range(len(source)))]
  tfrecord = build(name, export, tmp_path / 'tfrecord')
  expected = [ex['image/id'] for ex in tfds.as_numpy(
      tfrecord.as_dataset(split=split, shuffle_files=False))]
  assert sorted(ids) == sorted(expected) and len(set(ids)) == len(ids)
  assert source[0]['image'].ndim == 3 and source[0]['image'].shape[-1] == 3
