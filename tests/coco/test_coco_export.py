"""coco_export: a DatasetBuilderTestCase per fixture layout, the content of
the first fixtures, and the real COCO val2017 sample."""

import json

import numpy as np
from pycocotools import mask as coco_mask
import pytest
import tensorflow_datasets as tfds

from tfds_builders.coco import CocoConfig, CocoExport
from tfds_builders.core import report
from tests.builds import build, examples, read_report, tfds_build
from tests.fixtures.writers import image_bytes, write_export
from tests.paths import DUMMY_DATA, shared_export

COCO = DUMMY_DATA / 'coco'


class CocoOfficialLayoutTest(tfds.testing.DatasetBuilderTestCase):
  DATASET_CLASS = CocoExport
  EXAMPLE_DIR = COCO / 'official'
  SPLITS = {'train': 3, 'validation': 2}
  BUILDER_CONFIG_NAMES_TO_TEST = ['default', 'boxes']


class CocoRoboflowLayoutTest(tfds.testing.DatasetBuilderTestCase):
  DATASET_CLASS = CocoExport
  EXAMPLE_DIR = COCO / 'roboflow'
  SPLITS = {'train': 2, 'validation': 1, 'test': 1}
  BUILDER_CONFIG_NAMES_TO_TEST = ['default']


class CocoSingleFileLayoutTest(tfds.testing.DatasetBuilderTestCase):
  DATASET_CLASS = CocoExport
  EXAMPLE_DIR = COCO / 'single'
  SPLITS = {'train': 4, 'test': 1}  # hashed; img_4.jpg is missing on disk
  BUILDER_CONFIG_NAMES_TO_TEST = ['default']


class CocoCvatLayoutTest(tfds.testing.DatasetBuilderTestCase):
  DATASET_CLASS = CocoExport
  EXAMPLE_DIR = COCO / 'cvat'
  SPLITS = {'train': 2}  # ids '1' and '2' both hash into train
  BUILDER_CONFIG_NAMES_TO_TEST = ['default']


class CocoKeypointsLayoutTest(tfds.testing.DatasetBuilderTestCase):
  """instances_ + person_keypoints_ of val2017 merged; images/<split>/."""
  DATASET_CLASS = CocoExport
  EXAMPLE_DIR = COCO / 'keypoints'
  SPLITS = {'train': 2, 'validation': 2}
  BUILDER_CONFIG_NAMES_TO_TEST = ['default', 'boxes']


class CocoDatumaroSubsetFolderTest(tfds.testing.DatasetBuilderTestCase):
  DATASET_CLASS = CocoExport
  EXAMPLE_DIR = COCO / 'cvat_wrong_bbox'  # images/default/
  SPLITS = {'train': 2}  # ids '1' and '2' both hash into train
  BUILDER_CONFIG_NAMES_TO_TEST = ['default']


class CocoRoboflowOneClassTest(tfds.testing.DatasetBuilderTestCase):
  DATASET_CLASS = CocoExport
  EXAMPLE_DIR = COCO / 'roboflow_one_class'
  SPLITS = {'train': 1, 'validation': 1}
  BUILDER_CONFIG_NAMES_TO_TEST = ['boxes']


class CocoDuplicateNamesTest(tfds.testing.DatasetBuilderTestCase):
  DATASET_CLASS = CocoExport
  EXAMPLE_DIR = COCO / 'duplicate_names'
  SPLITS = {'train': 2}  # ids '1' and '2' both hash into train
  BUILDER_CONFIG_NAMES_TO_TEST = ['default']


class CocoLabelStudioLayoutTest(tfds.testing.DatasetBuilderTestCase):
  DATASET_CLASS = CocoExport
  EXAMPLE_DIR = COCO / 'labelstudio'
  SPLITS = {'train': 2}  # ids '0' and '1' both hash into train
  BUILDER_CONFIG_NAMES_TO_TEST = ['default']


# Content of the official fixture (tests/fixtures/coco.py).


@pytest.fixture(scope='module')
def official(tmp_path_factory):
  return build('coco_export', COCO / 'official',
               tmp_path_factory.mktemp('official'))


def _by_id(builder) -> dict[str, dict]:
  return {ex['image/id'].decode(): ex for split in builder.info.splits
          for ex in examples(builder, split)}


def test_category_ids_with_gaps_become_labels_in_id_order(official):
  assert official.info.features['objects']['label'].names == [
      'person', 'car', 'dog']  # ids 1, 3, 7
  by_id = _by_id(official)
  assert by_id['1']['objects']['label'].tolist() == [0, 1]
  assert by_id['2']['objects']['label'].tolist() == [0, 2]
  categories = official.info.metadata['coco_categories']
  assert [(c['id'], c['label'], c['supercategory']) for c in categories] == [
      (1, 0, 'human'), (3, 1, 'vehicle'), (7, 2, 'animal')]


def test_compressed_rle_decodes_to_the_exported_pixels(official):
  expected = np.zeros((30, 40), np.uint8)
  expected[15:25, 20:35] = 1
  expected[18:20, 25:27] = 0
  car = _by_id(official)['1']['objects']
  np.testing.assert_array_equal(car['mask'][1][:, :, 0], expected)
  assert car['area'][1] == 146


def test_uncompressed_rle_crowd_is_255_in_the_segmentation_mask(official):
  ex = _by_id(official)['2']
  crowd = np.zeros((30, 40), bool)
  crowd[0:10, 0:10] = True
  objects = ex['objects']
  assert objects['is_crowd'].tolist() == [True, False]
  np.testing.assert_array_equal(objects['mask'][0][:, :, 0], crowd)
  seg = ex['segmentation_mask'][:, :, 0]
  assert (seg[crowd] == 255).all()
  dog = objects['mask'][1][:, :, 0].astype(bool)
  assert dog.sum() == 225 and (seg[dog] == 3).all()  # dog: label 2 + 1
  assert (seg[~crowd & ~dog] == 0).all()
  assert objects['area'][1] == 225  # no "area" in the file: from the mask


def test_multi_part_polygon_is_one_mask_with_the_json_box(official):
  objects = _by_id(official)['1']['objects']
  person = objects['mask'][0][:, :, 0]
  assert person[7, 6] == 1 and person[4, 14] == 1  # inside each part
  assert person[9, 14] == 0 and person[7, 11] == 0  # between the parts
  assert abs(int(person.sum()) - 96) <= 4
  np.testing.assert_allclose(objects['bbox'][0],
                             [2 / 30, 2 / 40, 12 / 30, 16 / 40], rtol=1e-6)
  assert objects['area'][0] == 96  # kept from the file


def test_report_accounts_for_every_annotation_and_image(official):
  data = read_report(official)
  assert data['nothing_lost']
  assert data['export'] == {'images': 5, 'objects': 8}
  assert data['dataset_totals'] == {'images': 5, 'objects': 6}
  by_item = {(i['file'], i['item']): i['action'] for i in data['issues']}
  assert by_item == {
      ('annotations/captions_train2017.json', ''): report.NOT_INCLUDED,
      ('train2017/000000000099.jpg', ''): report.NOT_INCLUDED,
      ('annotations/instances_val2017.json', 'annotation id 1003'):
          report.SKIPPED_OBJECT,  # zero-area box
      ('annotations/instances_val2017.json', 'annotation id 1004'):
          report.SKIPPED_OBJECT,  # box outside the image
  }
  assert len(_by_id(official)['3']['objects']['label']) == 0  # kept, empty


def test_roboflow_splits_prefix_clashing_ids_and_drop_the_project(tmp_path):
  builder = build('coco_export/boxes', COCO / 'roboflow', tmp_path)
  # Category 0 'shapes' (supercategory 'none', parent of the others, labels
  # nothing) is Roboflow's project, not a class.
  assert builder.info.features['objects']['label'].names == [
      'circle', 'square']
  assert [(c['id'], c['label']) for c in
          builder.info.metadata['coco_categories']] == [(1, 0), (2, 1)]
  assert sorted(_by_id(builder)) == ['test/0', 'train/0', 'train/1',
                                     'validation/0']
  assert 'mask' not in builder.info.features['objects']
  data = read_report(builder)
  assert data['nothing_lost'] and data['dataset_totals'] == {
      'images': 4, 'objects': 8}
  assert [(i['file'], i['item'], i['action']) for i in data['issues']] == [
      ('test/_annotations.coco.json', 'category id 0', report.WARNING)]
  assert "category 'shapes' labels no annotation" in data['issues'][0][
      'problem']


def test_split_by_hash_ignores_the_file_splits(tmp_path):
  config = CocoConfig(name='hashed', split_by_hash=True)
  builder = tfds.builder('coco_export', config=config, data_dir=str(tmp_path))
  builder.download_and_prepare(download_config=tfds.download.DownloadConfig(
      manual_dir=str(COCO / 'roboflow')))
  # Hashed by image file name, less Roboflow's `_jpg.rf.<hash>` (copies of
  # one photo land together), not by the ids it renumbers per file.
  assert {split: sorted(ex['image/filename'].decode() for ex in examples(
      builder, split)) for split in builder.info.splits} == {
          'train': ['train/a_jpg.rf.0000.jpg', 'train/b_jpg.rf.0001.jpg'],
          'test': ['test/d_jpg.rf.0000.jpg', 'valid/c_jpg.rf.0000.jpg']}


def test_single_file_reports_missing_and_unlisted_images(tmp_path):
  builder = build('coco_export', COCO / 'single', tmp_path)
  assert builder.info.features['objects']['label'].names == [
      'cat', 'dog', 'bird']  # ids 0, 2, 5; bird labels nothing
  labels = {k: ex['objects']['label'].tolist()
            for k, ex in _by_id(builder).items()}
  assert labels == {'100': [1], '101': [0], '102': [1], '103': [0],
                    '105': [0]}
  data = read_report(builder)
  assert data['nothing_lost'] and data['skipped']['objects'] == 1
  assert {(i['file'], i['action']) for i in data['issues']} == {
      ('images/not_listed.jpg', report.NOT_INCLUDED),
      ('img_4.jpg', report.SKIPPED_IMAGE)}


def test_file_names_in_sub_folders_of_images(tmp_path):
  builder = build('coco_export', COCO / 'cvat', tmp_path)
  ex = examples(builder, 'train')
  assert sorted(e['image/filename'].decode() for e in ex) == [
      'images/job_1/frame_000000.jpg', 'images/job_1/frame_000001.jpg']
  np.testing.assert_allclose(ex[0]['objects']['bbox'][0],
                             [2.5 / 24, 1.5 / 32, 12.5 / 24, 21.75 / 32],
                             rtol=1e-6)


# The real COCO val2017 sample in ../shared/data.


def test_real_coco_sample_matches_the_json(tmp_path):
  export = shared_export('coco_val2017_sample')
  data_dir = tmp_path / 'tfds'
  tfds_build('coco_export', export, data_dir, '--config', 'default')
  builder = tfds.builder('coco_export/default', data_dir=str(data_dir))
  got = _by_id(builder)
  coco = json.loads((export / 'instances.json').read_text())
  names = {c['id']: c['name'] for c in coco['categories']}
  assert builder.info.features['objects']['label'].names == [
      names[i] for i in sorted(names)]
  assert builder.info.metadata['coco_categories'][:2] == [
      {'id': 1, 'name': 'person', 'supercategory': 'person', 'label': 0},
      {'id': 2, 'name': 'bicycle', 'supercategory': 'vehicle', 'label': 1}]
  assert list(builder.info.metadata['source_manifest']['annotation_files']
              ) == ['instances.json']
  assert sorted(got) == sorted(str(i['id']) for i in coco['images'])
  per_image = {}
  for ann in coco['annotations']:
    per_image.setdefault(str(ann['image_id']), []).append(ann)
  checked = 0
  for image_id, anns in per_image.items():
    ex = got[image_id]
    height, width = ex['image'].shape[:2]
    objects = ex['objects']
    assert len(objects['label']) == len(anns)
    for i, ann in enumerate(anns):
      x, y, w, h = ann['bbox']
      np.testing.assert_allclose(
          objects['bbox'][i] * [height, width, height, width],
          [y, x, y + h, x + w], atol=1e-3)
      assert builder.info.features['objects']['label'].int2str(
          objects['label'][i]) == names[ann['category_id']]
      assert objects['area'][i] == np.float32(ann['area'])
      mask = objects['mask'][i][:, :, 0]
      expected = coco_mask.decode(coco_mask.merge(coco_mask.frPyObjects(
          ann['segmentation'], height, width)))
      np.testing.assert_array_equal(mask, expected)
      # Pixel counts of small polygons differ from their exact area by up to
      # a few pixels along the outline, more than 2% below ~1000 px.
      tolerance = 0.02 if ann['area'] >= 1000 else 0.05
      assert abs(int(mask.sum()) - ann['area']) <= tolerance * ann['area']
      checked += 1
  assert checked == 62
  data = read_report(builder)
  assert data['nothing_lost'] and data['dataset_totals'] == {
      'images': 10, 'objects': 62}
  listed = {i['file_name'] for i in coco['images']}
  unlisted = sorted(f'images/{p.name}' for p in (export / 'images').iterdir()
                    if p.name not in listed)
  assert len(unlisted) == 10
  assert sorted(i['file'] for i in data['issues']
                if i['action'] == report.NOT_INCLUDED) == unlisted


def test_hash_split_of_an_image_does_not_change_when_a_batch_is_added(
    tmp_path):
  """Two CVAT tasks both number their images 1..N, so their ids are renamed
  once the second task is added; the split follows the image's file name,
  so task 1's images stay where they were."""
  def task(folder, count):
    images = [{'id': i, 'file_name': f'{folder}_{i}.jpg', 'width': 24,
               'height': 16} for i in range(1, count + 1)]
    return {f'{folder}/annotations/instances_default.json': json.dumps(
        {'images': images, 'annotations': [], 'categories': [
            {'id': 1, 'name': 'cat'}]}),
            **{f'{folder}/images/{im["file_name"]}': image_bytes(size=(24, 16))
               for im in images}}
  def split_of_files(export, data):
    builder = build('coco_export/boxes', export, data)
    return {ex['image/filename'].decode().rsplit('/', 1)[1]: split
            for split in builder.info.splits
            for ex in examples(builder, split)}
  one = split_of_files(write_export(tmp_path / 'a', task('task1', 10)),
                       tmp_path / 'data_a')
  both = split_of_files(write_export(tmp_path / 'b', {
      **task('task1', 10), **task('task2', 10)}), tmp_path / 'data_b')
  assert set(one.values()) == {'train', 'test'}
  assert {name: both[name] for name in one} == one
