"""coco_export on real exports written by CVAT, Roboflow, Label Studio and the
COCO Consortium (../shared/data/conformance, counts from its MANIFEST.md).

Exports with one annotation file and no split word (CVAT's
`instances_default.json`, Label Studio's `result.json`) are hashed 80/20;
their counts are checked per class over all splits.
"""

import collections
import json

import numpy as np
import pytest

from tests.builds import all_examples, build, read_report
from tests.paths import shared_export
from tfds_builders.core import report
from tfds_builders.core.errors import ExportError


def _per_class(data: dict) -> dict[str, int]:
  counts = collections.Counter()
  for split in data['splits'].values():
    counts.update(split['objects_per_class'])
  return dict(counts)


def _hashed(data: dict) -> bool:
  return all(list(sources) == ['hash of the image id']
             for sources in data['split_sources'].values())


def test_cvat_dental(tmp_path):
  builder = build('coco_export', shared_export(
      'conformance/cvat_coco_dental'), tmp_path)
  data = read_report(builder)
  assert data['classes'] == ['CShaped', 'Normal']
  assert data['nothing_lost'] and _hashed(data)
  assert data['export'] == data['dataset_totals'] == {'images': 30,
                                                      'objects': 45}
  assert _per_class(data) == {'CShaped': 17, 'Normal': 28}
  assert [(i['file'], i['action']) for i in data['issues']] == [
      ('images/AIAdithya_J5zNWt8_OSHmlbA.png', report.REPAIRED)]  # RGBA
  got = all_examples(builder)
  assert all(ex['objects']['has_mask'].all() for ex in got.values())
  assert got['1']['image'].shape == (416, 416, 3)


def test_cvat_car_interior_boxes_become_their_polygons_extent(tmp_path):
  export = shared_export('conformance/cvat_coco_car_interior')
  builder = build('coco_export', export, tmp_path)
  data = read_report(builder)
  coco = json.loads((export / 'annotations' / 'instances_default.json'
                     ).read_text())
  assert data['classes'] == [c['name'] for c in sorted(
      coco['categories'], key=lambda c: c['id'])]  # 23, 13 of them unused
  assert len(data['classes']) == 23
  assert data['nothing_lost'] and _hashed(data)
  assert data['dataset_totals'] == {'images': 6, 'objects': 29}
  assert _per_class(data) == {
      'Touchscreen': 5, 'Driver Seat': 5, 'Center Console': 4, 'Odometer': 3,
      'Steering Wheel': 3, 'Armrests': 2, 'Bluetooth': 2, 'Passenger Seat': 2,
      'Front Left Door Panel': 2, 'Driver Dash Controls': 1}
  # CVAT wrote boxes that are not their polygons' extent (IoU 0.00-0.29):
  # every one is replaced by the extent and reported.
  repaired = {i['item']: i['problem'] for i in data['issues']}
  assert [i['action'] for i in data['issues']] == [report.REPAIRED] * 29
  assert repaired['annotation id 1'] == (
      'box [573.5, 48.5, 1718.5, 147.5] disagrees with the extent [0, 98,'
      ' 1199, 508] of its own segmentation (IoU 0.05); the extent is used')
  got = all_examples(builder)
  sizes = {str(i['id']): (i['height'], i['width']) for i in coco['images']}
  seen = collections.Counter()
  for ann in coco['annotations']:
    image_id = str(ann['image_id'])
    height, width = sizes[image_id]
    points = np.concatenate([np.asarray(p, float)
                             for p in ann['segmentation']])
    extent = [max(points[1::2].min(), 0) / height,
              max(points[0::2].min(), 0) / width,
              min(points[1::2].max(), height) / height,
              min(points[0::2].max(), width) / width]
    objects = got[image_id]['objects']
    np.testing.assert_allclose(objects['bbox'][seen[image_id]], extent,
                               atol=1e-6)
    assert objects['has_mask'][seen[image_id]]
    assert f'annotation id {ann["id"]}' in repaired
    seen[image_id] += 1
  assert sum(seen.values()) == 29


def test_roboflow_chess(tmp_path):
  builder = build('coco_export/boxes', shared_export(
      'conformance/roboflow_coco_chess'), tmp_path)
  data = read_report(builder)
  # Category 0 'pieces' (supercategory 'none') is Roboflow's project, the
  # parent of every class, and labels nothing: 13 classes, not 14.
  assert data['classes'] == [
      'bishop', 'black-bishop', 'black-king', 'black-knight', 'black-pawn',
      'black-queen', 'black-rook', 'white-bishop', 'white-king',
      'white-knight', 'white-pawn', 'white-queen', 'white-rook']
  assert [(i['file'], i['item'], i['action']) for i in data['issues']] == [
      ('test/_annotations.coco.json', 'category id 0', report.WARNING)]
  assert data['nothing_lost']
  assert {k: (v['images'], v['objects']) for k, v in data['splits'].items()
          } == {'train': (8, 101), 'validation': (6, 32), 'test': (6, 50)}
  assert _per_class(data) == {
      'white-pawn': 43, 'black-pawn': 40, 'black-rook': 13, 'white-rook': 12,
      'white-bishop': 11, 'black-king': 12, 'black-knight': 11,
      'white-knight': 10, 'white-king': 9, 'white-queen': 7,
      'black-queen': 8, 'black-bishop': 6, 'bishop': 1}
  assert data['split_sources']['validation'] == {
      'annotation file valid/_annotations.coco.json': 6}
  got = all_examples(builder)
  assert len(got) == 20  # ids restart per split: prefixed
  assert got['train/27']['objects']['label'].tolist().count(0) == 1  # bishop
  empty = [k for k, ex in got.items() if not len(ex['objects']['label'])]
  assert [got[k]['image/filename'].decode() for k in empty] == [
      'test/e0d38d159ad3a801d0304d7e275812cc_jpg.rf.'
      'fa0bb8160816a373df824349a24a11e7.jpg']


def test_label_studio_parts(tmp_path):
  builder = build('coco_export/boxes', shared_export(
      'conformance/labelstudio_coco_parts'), tmp_path)
  data = read_report(builder)
  assert data['classes'] == [
      'drape comm', 'dressing comm', 'dual end skin and utility marker',
      'label', 'label comm', 'needle comm', 'syringe', 'tubing assy']
  assert data['nothing_lost'] and _hashed(data) and data['issues'] == []
  assert data['export'] == data['dataset_totals'] == {'images': 11,
                                                      'objects': 11}
  assert _per_class(data) == {
      'label': 2, 'label comm': 2, 'needle comm': 2, 'drape comm': 1,
      'dressing comm': 1, 'dual end skin and utility marker': 1,
      'syringe': 1, 'tubing assy': 1}
  got = all_examples(builder)
  assert all(ex['image/filename'].decode().startswith('images/')
             for ex in got.values())
  assert min(ex['image'].shape[1] for ex in got.values()) == 13


def test_official_person_keypoints_without_images_is_no_media_found(
    tmp_path):
  export = shared_export('conformance/coco_official_person_keypoints')
  with pytest.raises(ExportError) as error:
    build('coco_export', export, tmp_path)
  assert error.value.problem.startswith(
      'no media found: none of the 18 images the annotations name is in the'
      " export (the first, '000000000165.jpg': looked for")
  assert error.value.file == 'annotations/person_keypoints_train2017.json'
