"""Memory is bounded per image, whatever the number of objects.

Object masks are kept cropped to their extent, box-only objects store one
shared all-zero PNG, and the instance masks an image may hold are capped
(`max_instance_mask_pixels`). Peak memory is measured in a fresh process.
"""

import io
import subprocess
import sys
import textwrap

import numpy as np
from PIL import Image

from tests.builds import CHILD_PEAK_RSS_KIB, all_examples, build_report
from tests.fixtures.writers import box_xml, image_bytes, write_export
from tfds_builders.core import encode
from tfds_builders.core.exportfs import ExportFiles
from tfds_builders.core.labels import ClassList
from tfds_builders.voc import parse


def test_big_flat_image_with_many_boxes_builds_in_bounded_memory(tmp_path):
  side = 6000  # 36 MP: one full-size mask per object was 60 x 36 MB
  buffer = io.BytesIO()
  Image.new('RGB', (side, side), (90, 120, 150)).save(buffer, format='PNG')
  boxes = [('cat', (i * 90, i * 90, i * 90 + 400, i * 90 + 300))
           for i in range(60)]
  export = write_export(tmp_path, {
      'images/a.png': buffer.getvalue(),
      'annotations/a.xml': box_xml('a.png', boxes, size=(side, side))})
  script = textwrap.dedent(f"""
      import json, pathlib
      import tensorflow_datasets as tfds
      import tfds_builders
      builder = tfds.builder('voc_export', data_dir={str(tmp_path / 'data')!r})
      builder.download_and_prepare(download_config=tfds.download.DownloadConfig(
          manual_dir={str(export)!r}))
      report = json.loads((pathlib.Path(builder.data_dir) /
                           'build_report.json').read_text())
      print(report['dataset_totals']['objects'],
            {CHILD_PEAK_RSS_KIB} // 1024)
      """)
  result = subprocess.run([sys.executable, '-c', script], capture_output=True,
                          text=True, timeout=600, check=False)
  assert result.returncode == 0, result.stderr[-3000:]
  objects, peak_mb = map(int, result.stdout.split()[-2:])
  print(f'peak RSS {peak_mb} MB')
  assert objects == 60
  # TensorFlow and TFDS alone take ~0.9 GB; the image 108 MB decoded.
  assert peak_mb < 2000, f'peak {peak_mb} MB'


def test_instance_masks_past_the_cap_refuse_the_image(tmp_path):
  points = ''.join(f'<pt><x>{x}</x><y>{y}</y></pt>'
                   for x, y in ((1, 1), (30, 1), (30, 20)))
  polygon = (f'<object><name>cat</name><polygon>{points}</polygon>'
             '</object>')
  export = write_export(tmp_path, {
      'images/a.jpg': image_bytes(), 'annotations/a.xml': box_xml(
          'a.jpg', [], extra=polygon * 5)})
  parsed = parse.parse_export(ExportFiles(export))
  record = parsed.records[0]
  classes = ClassList(('cat',), 'test')
  _, example, summary = encode.encode_record(
      record, 'train', classes,
      encode.EncodeOptions(max_instance_mask_pixels=4 * 40 * 30))
  assert example is None and not summary.included
  issue, = summary.issues
  assert issue.action == 'skipped image' and issue.objects_lost == 5
  assert 'its 5 instance masks of 40x30 would hold 6,000 pixels' in (
      issue.problem)
  assert 'boxes' in issue.fix
  # The boxes config stores no instance masks: the same image goes in.
  _, example, _ = encode.encode_record(
      record, 'train', classes, encode.EncodeOptions(
          instance_masks=False, max_instance_mask_pixels=4 * 40 * 30))
  assert example is not None and len(example['objects']['bbox']) == 5


def test_box_only_objects_share_one_zero_mask(tmp_path):
  export = write_export(tmp_path, {
      'images/a.jpg': image_bytes(), 'annotations/a.xml': box_xml(
          'a.jpg', [('cat', (1, 1, 9, 9))] * 3)})
  report, builder = build_report('voc_export', export, tmp_path)
  ex = all_examples(builder)['a']
  assert not np.any(ex['objects']['mask'])
  assert ex['objects']['has_mask'].tolist() == [False] * 3
  assert report['issues'] == []
