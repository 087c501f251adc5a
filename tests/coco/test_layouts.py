"""coco_export on the layouts added in 1.1.0 (fixtures in tests/fixtures/
coco.py): files merged per image, images/<split>/, a box that disagrees with
its polygon, Roboflow's project category, shared names, Label Studio."""

import json

import numpy as np
import pytest

from tests.builds import all_examples, build, read_report
from tests.fixtures.writers import image_bytes, write_export
from tests.paths import DUMMY_DATA
from tfds_builders.core import report

COCO = DUMMY_DATA / 'coco'


def _issues(data: dict) -> list[tuple]:
  return [(i['file'], i['item'], i['problem'], i['action'],
           i['objects_lost']) for i in data['issues']]


@pytest.fixture(scope='module')
def keypoints(tmp_path_factory):
  return build('coco_export', COCO / 'keypoints',
               tmp_path_factory.mktemp('keypoints'))


def test_keypoint_files_merge_into_the_instances_of_the_same_images(
    keypoints):
  assert keypoints.info.features['objects']['label'].names == ['person',
                                                              'dog']
  got = all_examples(keypoints)
  assert {k: (ex['image/filename'].decode(),
              ex['objects']['label'].tolist(), ex['objects']['area'].tolist())
          for k, ex in got.items()} == {
              '21': ('images/val2017/000000000021.jpg', [0, 1], [200, 225]),
              '22': ('images/val2017/000000000022.jpg', [0, 0], [100, 96]),
              '31': ('images/train2017/000000000031.jpg', [0], [181]),
              '32': ('images/train2017/000000000032.jpg', [], [])}
  person = got['31']['objects']['mask'][0][:, :, 0]
  assert person[10, 10] == 1 and person[20, 20] == 1 and person[15, 30] == 0
  assert got['21']['objects']['has_mask'].tolist() == [True, False]


def test_keypoint_files_report_what_was_merged(keypoints):
  data = read_report(keypoints)
  assert data['nothing_lost']
  assert data['export'] == {'images': 4, 'objects': 5}
  assert data['dataset_totals'] == {'images': 4, 'objects': 5}
  assert data['split_sources'] == {
      'train': {'annotation file annotations/person_keypoints_train2017.json':
                2},
      'validation': {'annotation file annotations/instances_val2017.json': 2}}
  captions, train_keypoints, val_keypoints, merged = _issues(data)
  assert captions == (
      'annotations/captions_val2017.json', '', 'not an instance file (no'
      ' "categories" list; a captions file has none)', report.NOT_INCLUDED, 0)
  assert train_keypoints == (
      'annotations/person_keypoints_train2017.json', '', '1 annotation(s)'
      ' carry keypoints, which the common schema has no field for; their'
      ' boxes and masks are kept', report.WARNING, 0)
  assert val_keypoints[2].startswith('3 annotation(s) carry keypoints')
  assert merged == (
      'annotations/person_keypoints_val2017.json', '', '2 of its images are'
      ' also in annotations/instances_val2017.json (split validation); each'
      ' is one example with the annotations of both files; 2 of their'
      ' annotations repeat one of annotations/instances_val2017.json (same id,'
      ' category and box) and are counted once', report.WARNING, 0)


def test_box_disagreeing_with_its_polygon_becomes_the_polygon_extent(
    tmp_path):
  builder = build('coco_export', COCO / 'cvat_wrong_bbox', tmp_path)
  got = all_examples(builder)
  assert got['1']['image/filename'] == b'images/default/frame_000001.jpg'
  np.testing.assert_allclose(got['1']['objects']['bbox'],
                             [[6 / 30, 4 / 40, 18 / 30, 24 / 40]], rtol=1e-6)
  objects = got['2']['objects']
  np.testing.assert_allclose(objects['bbox'], [
      [12 / 30, 10 / 40, 28 / 30, 30 / 40], [1 / 30, 1 / 40, 7 / 30, 7 / 40]],
                             rtol=1e-6)
  assert objects['has_mask'].tolist() == [True, False]
  assert objects['mask'][0][12:28, 10:30].all()
  assert not objects['mask'][1].any()  # box-only: zeros, never the box
  data = read_report(builder)
  assert data['nothing_lost'] and data['dataset_totals']['objects'] == 3
  assert _issues(data) == [(
      'annotations/instances_default.json', 'annotation id 2',
      'box [2, 1, 38, 5] disagrees with the extent [10, 12, 30, 28] of its'
      ' own segmentation (IoU 0.00); the extent is used', report.REPAIRED, 0)]


def test_roboflow_project_category_sharing_the_class_name(tmp_path):
  builder = build('coco_export/boxes', COCO / 'roboflow_one_class', tmp_path)
  assert builder.info.features['objects']['label'].names == ['pothole']
  assert builder.info.metadata['coco_categories'] == [
      {'id': 1, 'name': 'pothole', 'supercategory': 'pothole', 'label': 0}]
  assert sorted(all_examples(builder)) == ['train/0', 'validation/0']
  data = read_report(builder)
  assert data['nothing_lost'] and data['dataset_totals']['objects'] == 4
  assert _issues(data) == [(
      'train/_annotations.coco.json', 'category id 0', "category 'pothole'"
      ' labels no annotation and is the supercategory of the others'
      ' (Roboflow writes its project name this way); it is not a class',
      report.WARNING, 0)]


def test_categories_sharing_a_name_are_one_class(tmp_path):
  builder = build('coco_export', COCO / 'duplicate_names', tmp_path)
  assert builder.info.features['objects']['label'].names == ['car', 'truck']
  assert [(c['id'], c['label']) for c in
          builder.info.metadata['coco_categories']] == [(1, 0), (2, 1),
                                                        (3, 0)]
  got = all_examples(builder)
  assert got['1']['objects']['label'].tolist() == [0, 1]
  assert got['2']['objects']['label'].tolist() == [0]
  seg = got['2']['segmentation_mask'][:, :, 0]
  assert (seg[5:15, 5:25] == 255).all()  # box only: unknown, not the class
  data = read_report(builder)
  assert data['nothing_lost']
  assert _issues(data) == [(
      'annotations.json', 'category id 3', "categories 1, 3 share the name"
      " 'car'; they are one class", report.WARNING, 0)]


def test_label_studio_names_images_relative_to_result_json(tmp_path):
  builder = build('coco_export', COCO / 'labelstudio', tmp_path)
  assert builder.info.features['objects']['label'].names == ['bracket', 'pin']
  got = all_examples(builder)
  assert [got[k]['image/filename'].decode() for k in ('0', '1')] == [
      'images/3f2a91c0-part_a.png', 'images/7d1e0b44-part_b.png']
  assert got['1']['image'].shape == (60, 13, 3)
  np.testing.assert_allclose(got['0']['objects']['bbox'], [
      [1.5 / 30, 2.25 / 40, 21.625 / 30, 32.75 / 40]], rtol=1e-6)
  np.testing.assert_allclose(got['1']['objects']['bbox'], [
      [2 / 60, 1 / 13, 52.75 / 60, 12.5 / 13]], rtol=1e-6)
  assert got['0']['objects']['area'][0] == np.float32(30.5 * 20.125)
  data = read_report(builder)
  assert data['nothing_lost'] and data['issues'] == []
  assert data['split_sources'] == {'train': {'hash of the image id': 2}}


def test_files_numbering_their_annotations_alike_keep_both(tmp_path):
  """Datumaro and CVAT number each file's annotations from 1: the same id
  and category in two files is one annotation only if the box is too."""
  def instance_file(boxes):
    return json.dumps({
        'images': [{'id': 1, 'file_name': 'a.jpg', 'width': 64,
                    'height': 48}],
        'categories': [{'id': 1, 'name': 'person'}],
        'annotations': [{'id': i + 1, 'image_id': 1, 'category_id': 1,
                         'bbox': box, 'area': box[2] * box[3], 'iscrowd': 0}
                        for i, box in enumerate(boxes)]})
  export = write_export(tmp_path, {
      'images/a.jpg': image_bytes(size=(64, 48)),
      'annotations/instances_default.json': instance_file(
          [[0, 0, 10, 10], [40, 20, 10, 10]]),
      'annotations/person_keypoints_default.json': instance_file(
          [[0, 0, 10, 10], [20, 30, 8, 8]])})
  builder = build('coco_export/boxes', export, tmp_path / 'data')
  [example] = all_examples(builder).values()
  np.testing.assert_allclose(example['objects']['bbox'] * [48, 64, 48, 64], [
      [0, 0, 10, 10], [20, 40, 30, 50], [30, 20, 38, 28]], atol=1e-4)
  data = read_report(builder)
  assert data['nothing_lost'] and data['export']['objects'] == 3
  assert any('1 of their annotations repeat one of' in i['problem']
             for i in data['issues'])
