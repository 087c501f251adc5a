"""yolo_export on a real export another tool wrote
(../shared/data/conformance/labelstudio_yolo_doors, Label Studio converter's
YOLO test data): it builds exactly as its MANIFEST.md section says. Skipped
when ../shared is absent."""

import numpy as np
import pytest

from tests.builds import all_examples, build, read_report, tfds_build
from tests.paths import shared_export
from tfds_builders.yolo import YoloExport

SAMPLE = 'conformance/labelstudio_yolo_doors'
PER_CLASS = {'closed_door': 10, 'opened_door': 1, 'bus': 8, 'number': 6}


@pytest.fixture(scope='module')
def doors(tmp_path_factory):
  export = shared_export(SAMPLE)
  builder = build('yolo_export/boxes', export, tmp_path_factory.mktemp('d'))
  return export, builder, read_report(builder)


def test_counts_classes_and_hashed_splits(doors):
  _, builder, report = doors
  assert report['classes'] == list(PER_CLASS)  # classes.txt order
  assert report['export'] == report['dataset_totals'] == {
      'images': 7, 'objects': 25}
  totals = {}
  for split in report['splits'].values():
    for name, count in split['objects_per_class'].items():
      totals[name] = totals.get(name, 0) + count
  assert totals == PER_CLASS
  assert report['nothing_lost'] and report['issues'] == []
  # No splits in the export: every image is hashed.
  assert set(report['split_sources']) <= {'train', 'test'}
  assert all(list(sources) == ['hash of the image id']
             for sources in report['split_sources'].values())
  assert sum(builder.info.splits[s].num_examples
             for s in builder.info.splits) == 7


def test_three_suffixes_and_boxes_equal_the_label_files(doors):
  export, builder, _ = doors
  examples = all_examples(builder)
  assert sorted({ex['image/filename'].decode().rsplit('.', 1)[1]
                 for ex in examples.values()}) == ['jpeg', 'jpg', 'png']
  for label in sorted((export / 'labels').glob('*.txt')):
    ex = examples[f'images/{label.stem}']
    rows = [[float(v) for v in line.split()]
            for line in label.read_text().splitlines() if line.strip()]
    expected = np.clip([[cy - h / 2, cx - w / 2, cy + h / 2, cx + w / 2]
                        for _, cx, cy, w, h in rows], 0, 1)
    np.testing.assert_allclose(ex['objects']['bbox'], expected, atol=1e-6)
    assert ex['objects']['label'].tolist() == [int(r[0]) for r in rows]


def test_tfds_build_command_line(tmp_path):
  result = tfds_build('yolo_export', shared_export(SAMPLE), tmp_path,
                      '--config', 'boxes')
  assert 'classes (classes.txt): closed_door, opened_door, bus, number' in (
      result.stdout)
  assert ('export: 7 images, 25 objects; skipped 0 images, 0 objects;'
          ' nothing lost: True') in result.stdout
  assert (tmp_path / 'yolo_export' / 'boxes' / str(YoloExport.VERSION) /
          'build_report.json').is_file()
