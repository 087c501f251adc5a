"""labelbox_cars: box masks, the sample export, and `tfds build` on it."""

import hashlib
import json
import subprocess
import sys
import textwrap

import numpy as np

from tests.builds import build, examples, read_report, tfds_build
from tests.paths import DUMMY_DATA, PROJECT
from tfds_builders.labelbox import sample

CARS = DUMMY_DATA / 'labelbox_cars'


def test_box_labelled_cars_are_painted_into_the_segmentation_mask(tmp_path):
  builder = build('labelbox_cars', CARS, tmp_path)
  assert builder.info.features['segmentation_mask'].names == [
      'background', 'Model 3']
  rows = [json.loads(line) for line in
          (CARS / 'export.ndjson').read_text().splitlines()]
  kinds = {r['data_row']['id']: [o['annotation_kind'] for o in
                                 r['projects'][sample.PROJECT_ID]
                                 ['labels'][0]['annotations']['objects']]
           for r in rows}
  boxes = 0
  for split in ('train', 'test'):
    for ex in examples(builder, split):
      seg = ex['segmentation_mask'][:, :, 0]
      height, width = seg.shape
      assert set(np.unique(seg)) <= {0, 1}  # no 255: boxes count as car
      for kind, bbox, mask, has_mask in zip(
          kinds[ex['image/id'].decode()], ex['objects']['bbox'],
          ex['objects']['mask'], ex['objects']['has_mask']):
        assert has_mask == (kind != 'ImageBoundingBox')
        ymin, xmin, ymax, xmax = np.round(bbox * [height, width, height,
                                                  width]).astype(int)
        inside = seg[ymin:ymax, xmin:xmax]
        if kind == 'ImageBoundingBox':  # painted, but no mask is made up
          boxes += 1
          assert (inside == 1).all()
          assert mask[:, :, 0].sum() == 0
        else:  # a car silhouette fills only part of its box
          assert 0.5 < (inside == 1).mean() < 0.95
          np.testing.assert_array_equal(mask[ymin:ymax, xmin:xmax, 0],
                                        inside)
  assert boxes == 2
  assert read_report(builder)['nothing_lost']


def test_sample_export_is_deterministic_and_per_image(tmp_path):
  sample.write_export(tmp_path / 'a', num_images=3, seed=5)
  sample.write_export(tmp_path / 'b', num_images=4, seed=5)
  sample.write_export(tmp_path / 'c', num_images=3, seed=6)

  def digest(folder, name):
    return hashlib.sha256((folder / name).read_bytes()).hexdigest()

  for i in range(3):
    name = f'images/car_{i:04d}.jpg'
    assert digest(tmp_path / 'a', name) == digest(tmp_path / 'b', name)
    assert digest(tmp_path / 'a', name) != digest(tmp_path / 'c', name)
  lines_a = (tmp_path / 'a' / 'export.ndjson').read_text().splitlines()
  lines_b = (tmp_path / 'b' / 'export.ndjson').read_text().splitlines()
  assert lines_a == lines_b[:3]


def test_tfds_build_labelbox_cars_on_the_sample(tmp_path):
  sample, data_dir = tmp_path / 'sample_export', tmp_path / 'tfds'
  script = PROJECT / 'scripts' / 'make_sample_export.py'
  made = subprocess.run(
      [sys.executable, str(script), '--output', str(sample),
       '--num_images', '20', '--seed', '0'],
      capture_output=True, text=True, timeout=120, check=True)
  cars = int(made.stdout.split(' with ')[1].split()[0])
  result = tfds_build('labelbox_cars', sample, data_dir, '--config', 'default')
  assert (f'export: 20 images, {cars} objects; skipped 0 images, 0 objects;'
          ' nothing lost: True') in result.stdout
  loaded = subprocess.run([sys.executable, '-c', textwrap.dedent(f"""
      import tensorflow_datasets as tfds, tfds_builders
      ds = tfds.load('labelbox_cars', data_dir={str(data_dir)!r},
                     split='train+test')
      print(sum(1 for _ in ds))
      """)], capture_output=True, text=True, timeout=300, check=False)
  assert loaded.returncode == 0, loaded.stderr[-3000:]
  assert loaded.stdout.strip().splitlines()[-1] == '20'

