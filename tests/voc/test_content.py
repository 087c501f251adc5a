"""voc_export content: masks, boxes, the report, the CLI, sharing the build."""

import subprocess
import sys
import textwrap

from lxml import etree
import numpy as np
from PIL import Image
import pytest
import tensorflow_datasets as tfds

from tests.builds import build, examples, read_report, tfds_build
from tests.paths import DUMMY_DATA, shared_export
from tfds_builders.core.mask_files import VOC_CLASSES
from tfds_builders.voc import VocExport

VOCDEVKIT = DUMMY_DATA / 'voc' / 'vocdevkit'
VOC2012 = VOCDEVKIT / 'VOCdevkit' / 'VOC2012'


@pytest.fixture(scope='module')
def devkit(tmp_path_factory):
  return build('voc_export', VOCDEVKIT, tmp_path_factory.mktemp('devkit'))


def test_segmentation_mask_equals_palette_indices(devkit):
  # No labels.txt: the devkit's 20 classes in devkit order, so palette index
  # N is VOC class N (cat = 8, dog = 12), whatever the XML files name.
  assert devkit.info.features['segmentation_mask'].names == [
      'background', *VOC_CLASSES]
  for ex in examples(devkit, 'train') + examples(devkit, 'validation'):
    stem = ex['image/id'].decode()
    with Image.open(VOC2012 / 'SegmentationClass' / f'{stem}.png') as png:
      assert png.mode == 'P'
      expected = np.asarray(png)
    np.testing.assert_array_equal(ex['segmentation_mask'][:, :, 0], expected)
    assert (ex['segmentation_mask'] == 255).sum() == 16  # void line kept


def test_instance_masks_come_from_segmentation_object(devkit):
  ex = examples(devkit, 'validation')[0]
  with Image.open(VOC2012 / 'SegmentationObject' / '2007_000003.png') as png:
    instances = np.asarray(png)
  for i, mask in enumerate(ex['objects']['mask']):
    np.testing.assert_array_equal(mask[:, :, 0], instances == i + 1)
  np.testing.assert_array_equal(ex['objects']['label'], [
      VOC_CLASSES.index('cat'), VOC_CLASSES.index('dog')])
  assert ex['objects']['has_mask'].tolist() == [True, True]
  assert ex['objects']['area'].tolist() == [16 * 20, 16 * 26]


def test_flags_and_boxes_follow_the_xml(devkit):
  by_id = {ex['image/id'].decode(): ex for ex in examples(devkit, 'train')}
  ex = by_id['2007_000002']
  np.testing.assert_array_equal(ex['objects']['is_difficult'], [True, False])
  np.testing.assert_array_equal(ex['objects']['is_truncated'], [False, True])
  np.testing.assert_allclose(
      ex['objects']['bbox'],
      [[5 / 30, 4 / 40, 25 / 30, 20 / 40], [3.5 / 30, 22.5 / 40, 29 / 30,
                                             39 / 40]], rtol=1e-6)
  assert ex['image/filename'] == b'VOCdevkit/VOC2012/JPEGImages/2007_000002.jpg'


def test_image_bytes_are_passed_through(devkit):
  for ex in examples(devkit, 'train', decoders={
      'image': tfds.decode.SkipDecoding()}):
    path = DUMMY_DATA / 'voc' / 'vocdevkit' / ex['image/filename'].decode()
    assert ex['image'] == path.read_bytes()


def test_polygons_become_masks_and_boxes(tmp_path):
  builder = build('voc_export', DUMMY_DATA / 'voc' / 'labelimg', tmp_path)
  assert builder.info.features['objects']['label'].names == [
      'person', 'bicycle']  # labels.txt order, not sorted
  ex = examples(builder, 'train')[0]
  bicycle = ex['objects']['mask'][1][:, :, 0]
  expected = np.zeros((32, 48), np.uint8)
  expected[10:28, 24:44] = 1
  np.testing.assert_array_equal(bicycle, expected)
  np.testing.assert_allclose(ex['objects']['bbox'][1],
                             [10 / 32, 24 / 48, 28 / 32, 44 / 48], rtol=1e-6)
  assert ex['objects']['area'][1] == 18 * 20
  seg = ex['segmentation_mask'][:, :, 0]
  assert (seg[10:28, 24:44] == 2).all()  # bicycle = label 1 + 1
  assert (seg[4:30, 10:20] == 255).all()  # the person has only a box
  assert (seg[:, :10] == 0).all()
  report = read_report(builder)
  assert report['nothing_lost']
  assert report['issues'] == [{
      'file': 'images/not_annotated.jpg', 'item': '',
      'problem': 'no annotation names this image', 'action': 'not included',
      'objects_lost': 0, 'fix': 'Annotate it (an image without objects is'
      ' kept when a split list or annotation names it), or delete it.'}]
  # The person has only a box: its instance mask is zeros, never the box.
  assert ex['objects']['has_mask'].tolist() == [False, True]
  assert not ex['objects']['mask'][0].any()


def test_boxes_config_has_no_instance_masks(tmp_path):
  builder = build('voc_export/boxes', VOCDEVKIT, tmp_path)
  assert 'mask' not in builder.info.features['objects']
  assert builder.info.splits['train'].num_examples == 2


def test_file_names_with_spaces_dots_and_subfolders(tmp_path):
  builder = build('voc_export', DUMMY_DATA / 'voc' / 'flat', tmp_path)
  names = sorted(ex['image/filename'].decode()
                 for split in ('train', 'test')
                 for ex in examples(builder, split))
  assert names == ['JPEGImages/frame.2020.01.01.jpg',
                   'JPEGImages/street scene 1.jpg',
                   'JPEGImages/sub/dir/img 3.jpg']


def test_raccoon_boxes_equal_the_xml(tmp_path):
  export = shared_export('raccoon_voc')
  builder = build('voc_export/boxes', export, tmp_path)
  got = {ex['image/id'].decode(): ex for split in ('train', 'test')
         for ex in examples(builder, split)}
  assert len(got) == 200
  total = 0
  for xml in sorted((export / 'annotations').glob('*.xml')):
    root = etree.parse(str(xml)).getroot()
    ex = got[xml.stem]
    height, width = ex['image'].shape[:2]
    expected = [[float(o.findtext(f'bndbox/{k}')) for k in (
        'ymin', 'xmin', 'ymax', 'xmax')] for o in root.iter('object')]
    boxes = ex['objects']['bbox'] * [height, width, height, width]
    np.testing.assert_allclose(boxes, expected, atol=1e-3)
    total += len(expected)
  assert total == 217
  report = read_report(builder)
  assert report['nothing_lost'] and report['dataset_totals'] == {
      'images': 200, 'objects': 217}


def test_tfds_build_command_line_and_loading_elsewhere(tmp_path):
  data_dir = tmp_path / 'tfds'
  result = tfds_build('voc_export', VOCDEVKIT, data_dir, '--config', 'default')
  assert ('train: 2 images, 4 objects (cat=2, dog=2) [split from'
          ' VOCdevkit/VOC2012/ImageSets/Main/train.txt]') in result.stdout
  built = data_dir / 'voc_export' / 'default' / str(VocExport.VERSION)
  assert (built / 'build_report.json').is_file()
  # A process that never imports tfds_builders reads the copied directory.
  copy = tmp_path / 'copied'
  subprocess.run(['cp', '-r', str(built), str(copy)], check=True)
  script = textwrap.dedent(f"""
      import sys, tensorflow_datasets as tfds
      b = tfds.builder_from_directory({str(copy)!r})
      assert 'tfds_builders' not in sys.modules
      ex = next(iter(tfds.as_numpy(b.as_dataset(split='validation'))))
      print(b.info.version, sorted(b.info.splits.keys()),
            b.info.features['objects']['label'].names,
            b.info.features['segmentation_mask'].names,
            ex['objects']['label'].tolist())
      """)
  loaded = subprocess.run([sys.executable, '-c', script], capture_output=True,
                          text=True, timeout=300, cwd=tmp_path, check=False)
  assert loaded.returncode == 0, loaded.stderr[-3000:]
  names = list(VOC_CLASSES)
  assert loaded.stdout.strip().splitlines()[-1] == (
      f"{VocExport.VERSION} ['train', 'validation'] {names}"
      f" {['background'] + names}"
      f" [{names.index('cat')}, {names.index('dog')}]")
