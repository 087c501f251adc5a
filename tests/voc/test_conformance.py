"""voc_export on real exports other tools wrote (../shared/data/conformance).

Each builds exactly as its MANIFEST.md section says: images and objects per
split and per class, nothing lost. Skipped when ../shared is absent.
"""

import pytest

from tests.builds import build, read_report
from tests.paths import shared_export

# sample -> {split: (images, objects)}, {class: objects}, issues expected.
EXPECTED = {
    'roboflow_voc_stairs': (
        {'train': (12, 32), 'validation': (9, 24), 'test': (9, 32)},
        {'Stairs': 88}),
    'labelimg_voc_cards': (
        {'train': (20, 23), 'test': (10, 19)},
        {'king': 9, 'jack': 9, 'queen': 7, 'nine': 7, 'ace': 5, 'ten': 5}),
    'labelimg_voc_microcontroller': (
        {'train': (23, 23), 'test': (7, 7)},
        {'Arduino_Nano': 8, 'Heltec_ESP32_Lora': 8, 'ESP8266': 7,
         'Raspberry_Pi_3': 7}),
}


@pytest.mark.parametrize('sample', sorted(EXPECTED))
def test_builds_as_the_manifest_says(tmp_path, sample):
  splits, per_class = EXPECTED[sample]
  builder = build('voc_export/boxes', shared_export(f'conformance/{sample}'),
                  tmp_path)
  report = read_report(builder)
  assert {name: (s['images'], s['objects'])
          for name, s in report['splits'].items()} == splits
  totals = {}
  for split in report['splits'].values():
    for name, count in split['objects_per_class'].items():
      totals[name] = totals.get(name, 0) + count
  assert totals == per_class
  assert sorted(builder.info.features['objects']['label'].names) == sorted(
      per_class)
  assert report['nothing_lost'] and report['skipped'] == {'images': 0,
                                                         'objects': 0}
  # Every split comes from the export's own folders, none from hashing.
  assert all(source.startswith('folder ')
             for sources in report['split_sources'].values()
             for source in sources)


def test_roboflow_polygons_become_masks_and_object_less_xml_stay(tmp_path):
  builder = build('voc_export', shared_export(
      'conformance/roboflow_voc_stairs'), tmp_path)
  report = read_report(builder)
  assert report['issues'] == []
  empty = with_masks = 0
  for split in builder.info.splits:
    for ex in builder.as_dataset(split=split).as_numpy_iterator():
      labels = ex['objects']['label']
      empty += len(labels) == 0
      with_masks += int(ex['objects']['has_mask'].sum())
      assert all(m.any() for m in ex['objects']['mask'])
  assert empty == 4 and with_masks == 88
