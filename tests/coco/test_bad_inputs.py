"""Bad and hostile values in COCO annotations: each built for real and judged
by the exact error or report entry. Inputs that crashed the process before
(NaN polygon vertices reaching pycocotools) are built by the real
`tfds build` in a subprocess. Bad files and paths: test_bad_files.py."""

import json

import numpy as np
import pytest

from tests.builds import (all_examples, build, build_report, only_issue,
                          tfds_build)
from tests.fixtures.coco import SMALL_ANNOTATIONS as ANNOTATIONS
from tests.fixtures.coco import annotation, small_export
from tfds_builders.coco import CocoExport
from tfds_builders.core.errors import ExportError

SKIPPED, REPAIRED = 'skipped object', 'repaired'


# Hostile numbers, written as JSON text (NaN, Infinity, 1e400 and a 400-digit
# integer are what json.dumps would not write), built once in a subprocess.
_SQUARE = '[[2, 3, 12, 3, 12, 15, 2, 15]]'
_HOSTILE = {  # annotation id: (bbox, segmentation, iscrowd) as JSON text
    1: ('[2, 3, 10, 12]', '[[2, NaN, 12, 3, 12, 15, 2, 15]]', '0'),
    2: ('[2, 3, 10, 12]', '[[2, 3, Infinity, 3, 12, 15, 2, 15]]', '0'),
    3: ('[2, 3, 10, 12]', '[[2, 3, 1e9, 3, 12, 15, 2, 15]]', '0'),
    4: ('[2, 3, 10, 12]', '[[2, 3, 1e400, 3, 12, 15, 2, 15]]', '0'),
    5: ('[NaN, 3, 10, 12]', '[]', '0'),
    6: ('[2, -Infinity, 10, 12]', '[]', '0'),
    7: ('[1e9, 3, 10, 12]', '[]', '0'),
    8: ('[2, 3, 1e400, 12]', '[]', '0'),
    9: ('[2, 3, 1' + '0' * 400 + ', 12]', '[]', '0'),
    10: ('[2, 3, 10, 12]', _SQUARE, '"0"'),
    11: ('[2, 3, 10, 12]', '{"size": [30, 40], "counts": [5, 10, 20]}', '1'),
    12: ('[2, 3, 10, 12]', '{"size": [30, 40], "counts": "0"}', '1'),
    13: ('[2, 3, 10, 12]', '[[30, 20, 38, 20, 38, 28, 30, 28]]', '0'),
    14: ('[2, 3, 10, 12]', _SQUARE, 'false'),
}


@pytest.fixture(scope='module')
def hostile(tmp_path_factory):
  tmp_path = tmp_path_factory.mktemp('hostile')
  annotations = ', '.join(
      f'{{"id": {i}, "image_id": 1, "category_id": 1, "bbox": {bbox},'
      f' "segmentation": {segmentation}, "iscrowd": {crowd}}}'
      for i, (bbox, segmentation, crowd) in _HOSTILE.items())
  export = small_export(tmp_path, raw=(
      '{"images": [{"id": 1, "file_name": "a.jpg", "width": 40, "height":'
      f' 30}}], "annotations": [{annotations}], "categories": [{{"id": 1,'
      ' "name": "cat"}]}'))
  tfds_build('coco_export', export, tmp_path / 'data', '--config', 'default')
  return json.loads((tmp_path / 'data' / 'coco_export' / 'default' /
                     str(CocoExport.VERSION)
                     / 'build_report.json').read_text())


@pytest.mark.parametrize('ann_id, action, problem', [
    (1, SKIPPED, 'polygon [2, nan, 12, 3, 12, 15, 2, 15] has a coordinate'
     ' that is not finite.'),
    (2, SKIPPED, 'polygon [2, 3, inf, 3, 12, 15, 2, 15] has a coordinate that'
     ' is not finite.'),
    (3, SKIPPED, 'polygon [2, 3, 1000000000.0, 3, 12, 15, 2, 15] reaches far'
     ' outside the 40x30 image.'),
    (4, SKIPPED, 'polygon [2, 3, inf, 3, 12, 15, 2, 15] has a coordinate that'
     ' is not finite.'),
    (5, SKIPPED, 'bbox[0] nan is not finite.'),
    (6, SKIPPED, 'bbox[1] -inf is not finite.'),
    (7, SKIPPED, 'bbox[0] 1000000000.0 is beyond 1e+07.'),
    (8, SKIPPED, 'bbox[2] inf is not finite.'),
    (9, SKIPPED, 'bbox[2] 1000000000000000000000000000000000000000000000000'
     '00000000... is too large.'),
    (10, SKIPPED, "iscrowd '0' is not 0/1 or true/false."),
    (11, SKIPPED, 'RLE counts cover 35 pixels, but the image has 30x40 ='
     ' 1200.'),
    (12, SKIPPED, 'RLE counts cover 0 pixels, but the image has 30x40 ='
     ' 1200.'),
    (13, REPAIRED, 'box [2, 3, 12, 15] disagrees with the extent [30, 20, 38,'
     ' 28] of its own segmentation (IoU 0.00); the extent is used'),
])
def test_hostile_values_are_reported(hostile, ann_id, action, problem):
  entries = [(i['file'], i['action'], i['problem'], i['objects_lost'])
             for i in hostile['issues']
             if i['item'] == f'annotation id {ann_id}']
  assert entries == [(ANNOTATIONS, action, problem, int(action == SKIPPED))]


def test_hostile_values_lose_nothing_unreported(hostile):
  assert hostile['nothing_lost']
  assert hostile['export'] == {'images': 1, 'objects': 14}
  assert hostile['dataset_totals'] == {'images': 1, 'objects': 2}  # 13, 14
  assert sorted((i['file'], i['item']) for i in hostile['issues']) == sorted(
      [(ANNOTATIONS, f'annotation id {i}') for i in range(1, 14)]
      + [('images/b.jpg', '')])  # b.jpg: listed nowhere


def test_unknown_category_id_is_an_error_naming_the_annotation(tmp_path):
  export = small_export(tmp_path, [annotation(7, category_id=9)])
  with pytest.raises(ExportError, match=r'instances_train.json: annotation id'
                     r' 7: category_id 9 is not among the categories'):
    build('coco_export/boxes', export, tmp_path / 'data')


@pytest.mark.parametrize('fields, item, problem', [
    ({'image_id': 99}, 'annotation id 8', 'image_id 99 is not in "images"'),
    ({'image_id': True}, 'annotation id 8', 'image_id True is not in'
     ' "images"'),
    ({'category_id': None}, 'annotation id 8', 'category_id None is not an'
     ' integer or a text id'),
    ({'category_id': 1.0}, 'annotation id 8', 'category_id 1.0 is not an'
     ' integer or a text id'),
    ({'bbox': [1, 2, 3]}, 'annotation id 8', 'bbox [1, 2, 3] is not [x, y,'
     ' width, height].'),
    ({'bbox': ['2', 3, 10, 12]}, 'annotation id 8', "bbox[0] '2' is a str,"
     ' not a number.'),
    ({'iscrowd': 2}, 'annotation id 8', 'iscrowd 2 is not 0/1 or'
     ' true/false.'),
    ({'id': [1], 'image_id': 99}, 'annotation #2', 'image_id 99 is not in'
     ' "images"'),
])
def test_unusable_annotation_is_a_reported_skip(tmp_path, fields, item,
                                                problem):
  export = small_export(tmp_path, [annotation(7), annotation(8, **fields)])
  report, _ = build_report('coco_export/boxes', export, tmp_path)
  issue = only_issue(report)
  assert (issue['file'], issue['item'], issue['problem'], issue['action'],
          issue['objects_lost']) == (ANNOTATIONS, item, problem, SKIPPED, 1)
  assert report['dataset_totals']['objects'] == 1


def test_bad_area_and_declared_size_are_warnings_not_skips(tmp_path):
  images = [{'id': 1, 'file_name': 'a.jpg', 'width': 'wide', 'height': 30}]
  export = small_export(tmp_path, [annotation(7, area='big')], images=images)
  report, builder = build_report('coco_export/boxes', export, tmp_path)
  assert [(i['item'], i['problem'], i['action']) for i in report['issues']] == [
      ('image id 1', "image width 'wide' is a str, not a number.", 'warning'),
      ('annotation id 7', "area 'big' is a str, not a number; the area is"
       ' measured from the mask or box instead', 'warning'),
      ('', 'no instance file lists this image', 'not included')]
  assert all_examples(builder)['1']['objects']['area'].tolist() == [120]


def test_duplicate_image_ids(tmp_path):
  images = [{'id': 1, 'file_name': 'a.jpg', 'width': 40, 'height': 30},
            {'id': 1, 'file_name': 'b.jpg', 'width': 40, 'height': 30}]
  export = small_export(tmp_path, [annotation(7)], images=images)
  report, builder = build_report('coco_export/boxes', export, tmp_path)
  first, unlisted = report['issues']
  assert (first['action'], first['item']) == ('skipped image', 'image id 1')
  assert first['problem'].startswith('image id is listed twice; the later'
                                     " entry is left out (file 'b.jpg')")
  assert (unlisted['action'], unlisted['file']) == ('not included',
                                                    'images/b.jpg')
  assert list(all_examples(builder)) == ['1']


def test_one_image_file_listed_under_two_ids_is_one_example(tmp_path):
  images = [{'id': 1, 'file_name': 'a.jpg'}, {'id': 2, 'file_name': 'a.jpg'}]
  export = small_export(tmp_path, [annotation(7), annotation(8, image_id=2)],
                        images=images)
  report, builder = build_report('coco_export/boxes', export, tmp_path)
  assert [(i['item'], i['problem']) for i in report['issues']][0] == (
      'image id 2', 'names the same image file as image id 1; one example'
      ' with the annotations of both')
  got = all_examples(builder)
  assert list(got) == ['1'] and len(got['1']['objects']['label']) == 2


def test_rle_size_mismatch_is_a_reported_skip(tmp_path):
  rle = {'size': [10, 10], 'counts': [100]}
  export = small_export(tmp_path, [annotation(7, segmentation=rle, iscrowd=1)])
  report, _ = build_report('coco_export', export, tmp_path)
  issue = only_issue(report)
  assert (issue['item'], issue['action'], issue['problem']) == (
      'annotation id 7', SKIPPED, 'RLE size [10, 10] (height, width)'
      ' disagrees with the image, which is 30x40.')


@pytest.mark.parametrize('segmentation, problem', [
    ({'size': [30, 40], 'counts': 'this is not RLE \x7f'}, 'compressed RLE'
     ' counts do not decode (byte 116 at position 0).'),
    ({'size': [30, 40], 'counts': 'P'}, 'compressed RLE counts do not decode'
     ' (the string ends inside a number).'),
    ({'size': [30, 40], 'counts': 'A'}, 'compressed RLE counts do not decode'
     ' (a negative run at position 0).'),
    ({'size': [30, 40], 'counts': 'P' * 13 + '0'}, 'compressed RLE counts do'
     ' not decode (a number too long at position 12).'),
    ({'size': [30, 40], 'counts': [5, 'x']}, "RLE count 'x' is a str, not a"
     ' number.'),
    ({'size': [30, 40], 'counts': [600, 700]}, 'RLE counts cover 1300'
     ' pixels, but the image has 30x40 = 1200.'),
    ({'size': [30, 40], 'counts': [2000]}, 'RLE count 2000 is outside'
     ' 0..1200.'),
    ([[1, 2, 3, 4, 5]], 'polygon [1, 2, 3, 4, 5] has an odd number of'
     ' coordinates.'),
    ([[2, 3, 12, 3, 12, 15, 2, 15], [20, 20, 25, 20, 25]], 'polygon [20, 20,'
     ' 25, 20, 25] has an odd number of coordinates.'),
    ([[1, 2, 3, 4]], 'segmentation has no polygon with at least 3 points.'),
    # Point pairs crashed numpy; strings were read as numbers ("1_0" as 10).
    ([[[1, 1], [10, 1], [10, 10]]], 'polygon [[1, 1], [10, 1], [10, 10]] is'
     ' not a flat list of numbers [x0, y0, x1, y1, ...].'),
    ([[2, 3, 12, 3, 12, 15], [[20, 20], [30, 20], [30, 28]]], 'polygon'
     ' [[20, 20], [30, 20], [30, 28]] is not a flat list of numbers'
     ' [x0, y0, x1, y1, ...].'),
    ([['1_0', '1', '20', '1', '20', '20']], "polygon ['1_0', '1', '20', '1',"
     " '20', '20'] is not a flat list of numbers [x0, y0, x1, y1, ...]."),
    ([[True, 1, 20, 1, 20, 20]], 'polygon [True, 1, 20, 1, 20, 20] is not a'
     ' flat list of numbers [x0, y0, x1, y1, ...].'),
    ('not a segmentation', 'segmentation of type str is neither polygons nor'
     ' RLE.'),
])
def test_corrupt_segmentations_are_reported_skips(tmp_path, segmentation,
                                                  problem):
  export = small_export(tmp_path, [annotation(7), annotation(
      8, segmentation=segmentation)])
  report, builder = build_report('coco_export', export, tmp_path)
  issue = only_issue(report)
  assert (issue['item'], issue['action'], issue['objects_lost'],
          issue['problem']) == ('annotation id 8', SKIPPED, 1, problem)
  assert len(all_examples(builder)['1']['objects']['bbox']) == 1


def test_bbox_with_negative_width(tmp_path):
  export = small_export(tmp_path, [annotation(7),
                                   annotation(8, bbox=[20, 3, -10, 12])])
  report, _ = build_report('coco_export/boxes', export, tmp_path)
  issue = only_issue(report)
  assert issue['action'] == 'skipped object' and 'inverted' in issue[
      'problem']


def test_crowd_region_is_void_in_the_segmentation_mask(tmp_path):
  mask = np.zeros((30, 40), np.uint8)
  rle = {'size': [30, 40], 'counts': [65, 10, 1125]}
  export = small_export(tmp_path, [annotation(7, segmentation=rle, iscrowd=1,
                                              bbox=[2, 5, 1, 10])])
  report, builder = build_report('coco_export', export, tmp_path)
  seg = all_examples(builder)['1']['segmentation_mask'][:, :, 0]
  mask.T.flat[65:75] = 255  # RLE runs are column-major: column 2, rows 5-14
  np.testing.assert_array_equal(seg, mask)
  assert report['issues'] == []


def test_ignore_regions_are_crowds_not_objects(tmp_path):
  """CityPersons/CrowdHuman "ignore": 1: neither learnt nor scored
  (mmdetection skips them); Label Studio writes "ignore": 0."""
  export = small_export(tmp_path, [annotation(7, ignore=1),
                                   annotation(8, ignore=0,
                                              bbox=[20, 10, 5, 5])])
  report, builder = build_report('coco_export/boxes', export, tmp_path)
  objects = all_examples(builder)['1']['objects']
  assert objects['is_crowd'].tolist() == [True, False]
  seg = all_examples(builder)['1']['segmentation_mask'][:, :, 0]
  assert seg[3:15, 2:12].min() == 255  # void, as a crowd region
  assert [(i['file'], i['problem'], i['action']) for i in report['issues']
          if i['file'] != 'images/b.jpg'] == [
      ('annotations/instances_train.json', '1 annotation(s) are marked'
       ' "ignore": 1'
       ' (regions to neither learn nor score); kept as crowd regions'
       ' (is_crowd, void in segmentation_mask), not as objects', 'warning')]
