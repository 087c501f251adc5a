"""What CVAT and Datumaro mean by COCO fields that others mean otherwise.

Their files give every annotation an `attributes` dict. There, `iscrowd: 1`
only says the segmentation is RLE (brush masks, ellipses), and a rotated
rectangle is the unrotated box with the angle in `attributes.rotation`.
"""

import numpy as np

from tests.builds import all_examples, build_report
from tests.fixtures.coco import annotation, small_export
from tests.fixtures.writers import uncompressed_rle


def test_rle_masks_marked_crowd_by_cvat_are_single_objects(tmp_path):
  mask = np.zeros((30, 40), np.uint8)
  mask[5:15, 10:30] = 1
  rle = uncompressed_rle(mask)
  export = small_export(tmp_path, annotations=[
      annotation(1, bbox=[10, 5, 20, 10], segmentation=rle, iscrowd=1,
                 attributes={'occluded': False}),
      # The same in an official-style file (no attributes) is a crowd.
      annotation(2, image_id=2, bbox=[10, 5, 20, 10], segmentation=rle,
                 iscrowd=1)])
  report, builder = build_report('coco_export', export, tmp_path)
  got = all_examples(builder)
  cvat, official = got['1'], got['2']
  assert cvat['objects']['is_crowd'].tolist() == [False]
  assert (cvat['segmentation_mask'][5:15, 10:30] == 1).all()  # cat, not void
  assert official['objects']['is_crowd'].tolist() == [True]
  assert (official['segmentation_mask'][5:15, 10:30] == 255).all()
  warning, = [i for i in report['issues'] if i['action'] == 'warning']
  assert warning['problem'].startswith('1 annotation(s) have iscrowd=1 in a'
                                       ' CVAT/Datumaro file')


def test_rotated_cvat_rectangle_becomes_its_polygon(tmp_path):
  export = small_export(tmp_path, annotations=[
      annotation(1, bbox=[10, 10, 20, 10], segmentation=[],
                 attributes={'occluded': False, 'rotation': 90.0})])
  report, builder = build_report('coco_export', export, tmp_path)
  ex = all_examples(builder)['1']
  assert report['issues'] == []
  assert ex['objects']['has_mask'].tolist() == [True]
  # 20x10 centred at (20, 15), turned 90 degrees: 10 wide, 20 tall.
  np.testing.assert_allclose(ex['objects']['bbox'][0],
                             [5 / 30, 15 / 40, 25 / 30, 25 / 40], atol=1e-6)
  assert ex['objects']['mask'][0].sum() == 200
