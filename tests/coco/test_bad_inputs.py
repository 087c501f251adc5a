"""Bad COCO JSON: each case built for real, judged by error or report."""

import json

import numpy as np
import pytest

from tests.builds import all_examples, build_report, only_issue
from tests.fixtures.writers import image_bytes, write_export
from tests.builds import build
from tfds_builders.core.errors import ExportError


def coco(tmp_path, annotations=None, images=None, categories=None,
         raw=None):
  """A one-file export with images a.jpg (40x30) and b.jpg (40x30)."""
  data = raw if raw is not None else {
      'images': images if images is not None else [
          {'id': 1, 'file_name': 'a.jpg', 'width': 40, 'height': 30},
          {'id': 2, 'file_name': 'b.jpg', 'width': 40, 'height': 30}],
      'annotations': annotations if annotations is not None else [],
      'categories': categories or [{'id': 1, 'name': 'cat'}],
  }
  return write_export(tmp_path, {
      'images/a.jpg': image_bytes(), 'images/b.jpg': image_bytes(),
      'annotations/instances_train.json': json.dumps(data)})


def ann(ann_id, **fields):
  base = {'id': ann_id, 'image_id': 1, 'category_id': 1,
          'bbox': [2, 3, 10, 12], 'iscrowd': 0, 'area': 120.0}
  base.update(fields)
  return base


def test_unknown_category_id_is_an_error_naming_the_annotation(tmp_path):
  export = coco(tmp_path, [ann(7, category_id=9)])
  with pytest.raises(ExportError, match=r'instances_train.json: annotation id'
                     r' 7: category_id 9 is not among the categories'):
    build('coco_export/boxes', export, tmp_path / 'data')


def test_unknown_image_id_is_a_reported_skip(tmp_path):
  export = coco(tmp_path, [ann(7), ann(8, image_id=99)])
  report, _ = build_report('coco_export/boxes', export, tmp_path)
  issue = only_issue(report)
  assert issue['action'] == 'skipped object' and issue['objects_lost'] == 1
  assert issue['item'] == 'annotation id 8'
  assert "image_id 99 is not in" in issue['problem']


def test_duplicate_image_ids(tmp_path):
  images = [{'id': 1, 'file_name': 'a.jpg', 'width': 40, 'height': 30},
            {'id': 1, 'file_name': 'b.jpg', 'width': 40, 'height': 30}]
  export = coco(tmp_path, [ann(7)], images=images)
  report, builder = build_report('coco_export/boxes', export, tmp_path)
  first, unlisted = report['issues']
  assert (first['action'], first['item']) == ('skipped image', 'image id 1')
  assert first['problem'].startswith('image id is listed twice; the later'
                                     " entry is left out (file 'b.jpg')")
  assert (unlisted['action'], unlisted['file']) == ('not included',
                                                    'images/b.jpg')
  assert list(all_examples(builder)) == ['1']


def test_rle_size_mismatch_is_an_error_naming_the_annotation(tmp_path):
  rle = {'size': [10, 10], 'counts': [100]}
  export = coco(tmp_path, [ann(7, segmentation=rle, iscrowd=1)])
  with pytest.raises(ExportError, match=r'annotation id 7: RLE size \[10, 10\]'
                     r' \(height, width\) disagrees with the image, which is'
                     r' 30x40'):
    build('coco_export', export, tmp_path / 'data')


@pytest.mark.parametrize('segmentation, problem', [
    ({'size': [30, 40], 'counts': 'this is not RLE \x7f'}, 'could not be'
     ' decoded'),
    ({'size': [30, 40], 'counts': [5, 'x']}, 'could not be decoded'),
    ([[1, 2, 3, 4, 5]], 'no polygon with at least 3 points'),
    ('not a segmentation', 'neither polygons nor RLE'),
])
def test_corrupt_segmentations_are_reported_skips(tmp_path, segmentation,
                                                  problem):
  export = coco(tmp_path, [ann(7), ann(8, segmentation=segmentation)])
  report, builder = build_report('coco_export', export, tmp_path)
  issue = only_issue(report)
  assert issue['action'] == 'skipped object' and issue['objects_lost'] == 1
  assert issue['item'] == 'annotation id 8'
  assert problem in issue['problem']
  assert len(all_examples(builder)['1']['objects']['bbox']) == 1


def test_odd_length_polygon_part_is_dropped_with_the_rest_kept(tmp_path):
  polygon = [[2, 3, 12, 3, 12, 15, 2, 15], [20, 20, 25, 20, 25]]
  export = coco(tmp_path, [ann(7, segmentation=polygon)])
  report, builder = build_report('coco_export', export, tmp_path)
  mask = all_examples(builder)['1']['objects']['mask'][0][:, :, 0]
  assert mask[3:15, 2:12].all() and mask[20:, 20:].sum() == 0
  assert report['dataset_totals']['objects'] == 1


def test_bbox_with_negative_width(tmp_path):
  export = coco(tmp_path, [ann(7), ann(8, bbox=[20, 3, -10, 12])])
  report, _ = build_report('coco_export/boxes', export, tmp_path)
  issue = only_issue(report)
  assert issue['action'] == 'skipped object' and 'inverted' in issue[
      'problem']


def test_valid_json_that_is_not_coco(tmp_path):
  export = coco(tmp_path, raw={'hello': 'world'})
  with pytest.raises(ExportError, match='COCO'):
    build('coco_export', export, tmp_path / 'data')


def test_json_syntax_error_names_line_and_column(tmp_path):
  export = write_export(tmp_path, {'images/a.jpg': image_bytes(),
                                 'instances.json': '{"images": [1,\n}'})
  with pytest.raises(ExportError, match=r'instances.json.*line 2'):
    build('coco_export', export, tmp_path / 'data')


@pytest.mark.parametrize('file_name, problem', [
    ('../../outside.jpg', 'climbs out'), ('/etc/hosts', 'absolute')])
def test_file_name_leaving_the_export_is_refused(tmp_path, file_name,
                                                 problem):
  images = [{'id': 1, 'file_name': file_name, 'width': 40, 'height': 30}]
  export = coco(tmp_path, [ann(7)], images=images)
  with pytest.raises(ExportError, match=problem):
    build('coco_export', export, tmp_path / 'data')


def test_crowd_region_is_void_in_the_segmentation_mask(tmp_path):
  mask = np.zeros((30, 40), np.uint8)
  export = coco(tmp_path, [ann(7, segmentation={'size': [30, 40],
                                                'counts': [65, 10, 1125]},
                               iscrowd=1)])
  report, builder = build_report('coco_export', export, tmp_path)
  seg = all_examples(builder)['1']['segmentation_mask'][:, :, 0]
  mask.T.flat[65:75] = 255  # RLE runs are column-major
  np.testing.assert_array_equal(seg, mask)
  assert report['issues'] == []
