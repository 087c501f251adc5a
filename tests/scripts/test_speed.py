"""scripts/benchmarks/speed.py: the exports it measures on, and its report."""

import json

from tests.paths import shared_export
from scripts.benchmarks import speed


def test_raccoon_exports_hold_the_same_images_and_boxes(tmp_path):
  shared_export('raccoon_voc')
  exports = speed.write_exports(tmp_path, 230)  # more than the 200 photos
  devkit = exports['voc'] / 'VOCdevkit' / 'VOC2012'
  xmls = sorted((devkit / 'Annotations').glob('*.xml'))
  assert len(xmls) == 230 and len(list((devkit / 'JPEGImages').iterdir())) == 230
  coco = json.loads((exports['coco'] / 'annotations' /
                     'instances_default.json').read_text())
  assert len(coco['images']) == 230
  boxes = sum(x.read_text().count('<bndbox>') for x in xmls)
  assert len(coco['annotations']) == boxes
  lists = devkit / 'ImageSets' / 'Main'
  listed = (lists / 'train.txt').read_text().split() + (
      lists / 'val.txt').read_text().split()
  assert sorted(listed) == sorted(x.stem for x in xmls)
  # The same image bytes in both exports.
  first = coco['images'][0]['file_name']
  assert (exports['coco'] / 'images' / first).read_bytes() == (
      devkit / 'JPEGImages' / first).read_bytes()


def test_goals_and_markdown_from_results(tmp_path):
  rates = {'loop_voc': 2000.0, 'voc_boxes': 800.0, 'voc_default': 700.0,
           'voc_boxes_1_process': 600.0, 'naive_tfds_voc': 2200.0,
           'loop_coco': 2100.0, 'coco_boxes': 900.0, 'coco_default': 650.0}
  results = {
      'command': 'python -m scripts.benchmarks.speed', 'images': 3000,
      'rounds': 3, 'machine': {'cores': 2, 'cpu': 'x', 'commit': 'abc'},
      'load': {'time': 'now', 'loadavg_1_5_15': [0.1, 0.1, 0.1]},
      'median_images_per_s': rates,
      'all_images_per_s': {k: [v] for k, v in rates.items()},
      'peak_rss_mb': {k: 800 for k in rates},
      'check_ms_per_image': {'full decode check': 0.9, 'header only': 0.05}}
  results['goals'] = speed.goals(results)
  assert [(g['value'], g['met']) for g in results['goals']] == [
      (0.4, False), (0.35, False), (0.429, False), (0.31, False)]
  page = tmp_path / 'BENCHMARKS.md'
  page.write_text('# Benchmarks\n\nbefore\n')
  speed.write_markdown(page, speed.markdown(results))
  speed.write_markdown(page, speed.markdown(results))  # replaced, not added
  text = page.read_text()
  assert text.count(speed.START_MARKER) == 1 and 'before' in text
  assert '| `voc_export/boxes` | 800 | 0.40x | 800 | 800 |' in text
  assert 'full decode check 0.90 ms, header only 0.05 ms' in text
