"""voc_export on the layouts other tools write: splits, masks, classes.

Fixtures (tests/fixtures/voc.py): subset_palette (devkit palette masks of 2
of the 20 classes), cvat_rgb (CVAT "PASCAL VOC 1.1": labelmap.txt, RGB
masks, default lists, a listed image without XML, an object named
background), roboflow (train/ valid/ test/), split_folders (labelImg
images/<split>/ and annotations/<split>/ + images/<split>/), mixed (a devkit
train/ beside a raw valid/).
"""

import shutil

import numpy as np
import pytest

from tests.builds import all_examples, build, examples, read_report
from tests.fixtures.writers import (box_xml, image_bytes, palette_png,
                                    write_export)
from tests.paths import DUMMY_DATA
from tfds_builders.core.errors import ExportError
from tfds_builders.core.mask_files import VOC_CLASSES

VOC = DUMMY_DATA / 'voc'
LISTED = 'listed in a split but has no annotation file; kept as an image' \
    ' without objects'


def by_split(builder) -> dict[str, list[str]]:
  return {split: sorted(ex['image/id'].decode() for ex in examples(
      builder, split)) for split in builder.info.splits}


def test_palette_indices_are_devkit_classes_when_no_list_is_given(tmp_path):
  builder = build('voc_export', VOC / 'subset_palette', tmp_path)
  classes = builder.info.features['objects']['label'].names
  assert classes == list(VOC_CLASSES)
  ex = examples(builder, 'train')[0]
  seg = ex['segmentation_mask'][:, :, 0]
  # Index 3 is bird and 15 person in the devkit, not the 1st and 2nd of the
  # names found in the XML.
  assert seg[5, 5] == classes.index('bird') + 1 == 3
  assert seg[20, 25] == classes.index('person') + 1 == 15
  assert (seg[4, 2:12] == 255).all() and seg[29, 0] == 0
  assert by_split(builder) == {'train': ['2008_000001'],
                               'validation': ['2008_000002']}
  report = read_report(builder)
  assert report['split_sources'] == {
      'train': {'ImageSets/Segmentation/train.txt': 1},
      'validation': {'ImageSets/Segmentation/val.txt': 1}}


@pytest.fixture(scope='module')
def cvat(tmp_path_factory):
  return build('voc_export', VOC / 'cvat_rgb', tmp_path_factory.mktemp('cvat'))


def test_cvat_rgb_class_masks_follow_labelmap_colours(cvat):
  assert cvat.info.features['objects']['label'].names == ['cat', 'dog']
  got = all_examples(cvat)
  seg = got['frame_000000']['segmentation_mask'][:, :, 0]
  assert (seg[5:25, 4:20] == 1).all()  # cat (250,50,83) -> label 0 + 1
  assert (seg[3:29, 22:39] == 2).all()  # dog; painted over the cat's edge
  assert seg[0, 0] == 0 and seg[29, 39] == 0


@pytest.mark.parametrize('frame', ['frame_000000', 'frame_000001'])
def test_cvat_rgb_instance_masks_are_not_empty(cvat, frame):
  # frame_000001 numbers its instances in the other order (CVAT's z-order):
  # they are paired with the objects by box.
  ex = all_examples(cvat)[frame]
  masks = ex['objects']['mask'][:, :, :, 0]
  assert ex['objects']['has_mask'].tolist() == [True, True]
  assert masks[0].sum() == 16 * 20 and masks[0][5:25, 4:20].all()
  assert masks[1].sum() == 17 * 26 and masks[1][3:29, 22:39].all()
  np.testing.assert_allclose(ex['objects']['area'], [16 * 20, 17 * 26])


def test_cvat_listed_image_without_xml_and_background_object(cvat):
  got = all_examples(cvat)
  assert sorted(got) == ['frame_000000', 'frame_000001', 'frame_000002']
  assert len(got['frame_000002']['objects']['label']) == 0
  report = read_report(cvat)
  assert report['nothing_lost']
  issues = {(i['file'], i['item']): i for i in report['issues']}
  listed = issues[('ImageSets/Main/default.txt', 'frame_000002')]
  assert listed['action'] == 'warning' and listed['problem'] == LISTED
  background = issues[('Annotations/frame_000001.xml',
                       'object #3 (background)')]
  assert background['action'] == 'skipped object'
  assert background['objects_lost'] == 1
  assert "labelled 'background'" in background['problem']
  # `default` names no split: the images are hashed, and the report says so.
  assert report['split_sources'] == {'train': {'hash of the image id': 3}}


def test_roboflow_split_folders_win_over_hashing(tmp_path):
  builder = build('voc_export', VOC / 'roboflow', tmp_path)
  splits = by_split(builder)
  assert {k: len(v) for k, v in splits.items()} == {
      'train': 3, 'validation': 2, 'test': 1}
  assert all(i.startswith('train/') for i in splits['train'])
  assert all(i.startswith('valid/') for i in splits['validation'])
  report = read_report(builder)
  assert report['split_sources'] == {'test': {'folder test/': 1},
                                     'train': {'folder train/': 3},
                                     'validation': {'folder valid/': 2}}
  assert report['dataset_totals'] == {'images': 6, 'objects': 5}
  assert report['issues'] == [{
      'file': 'valid/unlabelled.jpg', 'item': '',
      'problem': 'no annotation names this image', 'action': 'not included',
      'objects_lost': 0, 'fix': 'Annotate it (an image without objects is'
      ' kept when a split list or annotation names it), or delete it.'}]
  # Roboflow's bndbox order (xmin, xmax, ymin, ymax) and its polygon.
  ex = all_examples(builder)['train/train_0_jpg.rf.' + '0' * 32]
  np.testing.assert_allclose(ex['objects']['bbox'][0],
                             [3 / 24, 2 / 32, 18 / 24, 20 / 32], rtol=1e-6)
  assert ex['objects']['has_mask'].tolist() == [True]


@pytest.mark.parametrize('layout', ['beside', 'parallel'])
def test_labelimg_split_folders(tmp_path, layout):
  builder = build('voc_export/boxes', VOC / 'split_folders' / layout,
                  tmp_path)
  splits = by_split(builder)
  assert {k: len(v) for k, v in splits.items()} == {'train': 2, 'test': 2}
  assert all('test' in i for i in splits['test'])
  report = read_report(builder)
  assert report['issues'] == [] and report['nothing_lost']
  assert set(report['split_sources']['test']) == {'folder test/'}


def test_mixed_layouts_lose_nothing(tmp_path):
  builder = build('voc_export/boxes', VOC / 'mixed', tmp_path)
  assert by_split(builder) == {'train': ['t0', 't1', 't2'],
                               'validation': ['valid/v0', 'valid/v1']}
  report = read_report(builder)
  assert report['issues'] == [] and report['dataset_totals']['images'] == 5
  assert report['split_sources'] == {
      'train': {'train/ImageSets/Main/train.txt': 3},
      'validation': {'folder valid/': 2}}


def test_unpaired_instances_and_objects_are_reported(tmp_path):
  from tests.builds import build_report  # pylint: disable=g-import-not-at-top
  from tests.fixtures.writers import (box_xml, image_bytes, mask_png,  # pylint: disable=g-import-not-at-top
                                      write_export)
  instances = np.zeros((30, 40), np.uint8)
  instances[2:10, 2:10] = 1  # matches the first box
  instances[20:28, 30:38] = 2  # matches nothing
  export = write_export(tmp_path, {
      'Annotations/a.xml': box_xml('a.jpg', [('cat', (2, 2, 10, 10)),
                                             ('dog', (12, 12, 25, 25))]),
      'JPEGImages/a.jpg': image_bytes(), 'labels.txt': 'cat\ndog\n',
      'SegmentationObject/a.png': mask_png(instances)})
  report, builder = build_report('voc_export', export, tmp_path)
  ex = all_examples(builder)['a']
  assert ex['objects']['has_mask'].tolist() == [True, False]
  assert ex['objects']['mask'][0].sum() == 64 and not ex['objects'][
      'mask'][1].any()
  warnings = sorted((i['file'], i['item'], i['problem'])
                    for i in report['issues'])
  assert warnings == [
      ('Annotations/a.xml', 'object #2 (dog)', 'no instance in'
       ' SegmentationObject/a.png matches its box; kept without a mask'),
      ('SegmentationObject/a.png', 'instance 2', 'matches no object of'
       ' Annotations/a.xml; not used')]


def test_masks_without_xml_become_objects(tmp_path):
  # CVAT "Segmentation mask 1.1": no XML; objects are the instances, each
  # labelled by the class mask under it; the labelmap is sorted by name.
  builder = build('voc_export', VOC / 'cvat_masks', tmp_path)
  assert builder.info.features['objects']['label'].names == ['Car', 'person']
  got = all_examples(builder)
  ex = got['frame_000000']
  assert ex['objects']['label'].tolist() == [1, 0, 0]  # person, Car, Car
  assert ex['objects']['has_mask'].tolist() == [True] * 3
  np.testing.assert_allclose(ex['objects']['bbox'], [
      [2 / 30, 2 / 40, 20 / 30, 12 / 40], [5 / 30, 14 / 40, 25 / 30, 36 / 40],
      [22 / 30, 20 / 40, 28 / 30, 30 / 40]], atol=1e-6)
  # The first car is covered where the second lies on it (CVAT's z-order).
  masks = ex['objects']['mask'][:, :, :, 0]
  assert masks[1].sum() == 22 * 20 - 10 * 3 and masks[2].sum() == 10 * 6
  seg = ex['segmentation_mask'][:, :, 0]
  assert seg[10, 5] == 2 and seg[10, 20] == 1 and seg[0, 39] == 0
  assert len(got['frame_000002']['objects']['label']) == 0
  report = read_report(builder)
  assert report['export'] == {'images': 3, 'objects': 6}
  assert report['nothing_lost'] and report['dataset_totals']['objects'] == 6
  warning, = report['issues']
  assert (warning['item'], warning['action']) == ('frame_000002', 'warning')
  assert 'has no class mask' in warning['problem']


@pytest.mark.parametrize('fixture', ['cvat_rgb', 'roboflow', 'mixed',
                                     'vocdevkit', 'split_folders'])
def test_reading_on_every_core_gives_the_same_export(monkeypatch, fixture):
  from tfds_builders.core.exportfs import ExportFiles  # pylint: disable=g-import-not-at-top
  from tfds_builders.voc import parse  # pylint: disable=g-import-not-at-top
  one = parse.parse_export(ExportFiles(VOC / fixture))
  monkeypatch.setattr(parse, 'PARALLEL_FROM', 1)  # in worker processes
  files = ExportFiles(VOC / fixture)
  many = parse.parse_export(files)
  assert many.records == one.records and many.issues == one.issues
  assert (many.export_images, many.export_objects) == (
      one.export_images, one.export_objects)
  assert set(files.digests) >= {x for x in files.files(suffixes=('.xml',))}


def _two_dataset_folders(tmp_path, with_masks: bool):
  files = {}
  for folder, names in (('A', 'cat\ndog\n'), ('B', 'dog\ncat\n')):
    files[f'{folder}/labels.txt'] = names
    files[f'{folder}/JPEGImages/x.jpg'] = image_bytes()
    files[f'{folder}/Annotations/x.xml'] = box_xml('x.jpg')
    if with_masks:  # cat is 1 in A's list, 2 in B's
      mask = np.zeros((30, 40), np.uint8)
      mask[3:25, 2:20] = names.split().index('cat') + 1
      files[f'{folder}/SegmentationClass/x.png'] = palette_png(mask)
  return write_export(tmp_path, files)


def test_dataset_folders_whose_class_files_disagree(tmp_path):
  """A mask value must mean one class in the whole export: refused when
  masks depend on it; without masks the first file's order, with a warning."""
  with pytest.raises(ExportError, match=r'A/labels.txt and B/labels.txt give'
                     r' different classes or mask values \(cat, dog / dog,'
                     r' cat\)'):
    build('voc_export', _two_dataset_folders(tmp_path / 'm', True),
          tmp_path / 'dm')
  builder = build('voc_export/boxes',
                  _two_dataset_folders(tmp_path / 'b', False), tmp_path / 'db')
  report = read_report(builder)
  assert builder.info.features['objects']['label'].names == ['cat', 'dog']
  assert [(i['file'], i['action'], i['problem']) for i in report['issues']
          ] == [('B/labels.txt', 'warning',
                 'lists other classes than A/labels.txt; A/labels.txt is'
                 ' used')]


def test_split_list_ids_with_suffixes_and_paths_leading_out(tmp_path):
  """`b.jpg` in a list is the id `b` (its XML's objects are kept, once);
  `../c` is no id of the export: reported, never looked up."""
  export = write_export(tmp_path, {
      'JPEGImages/b.jpg': image_bytes(), 'Annotations/b.xml': box_xml('b.jpg'),
      'JPEGImages/c.jpg': image_bytes(),
      'ImageSets/Main/train.txt': 'b.jpg\nb\n../c\n'})
  builder = build('voc_export/boxes', export, tmp_path / 'data')
  report = read_report(builder)
  assert report['nothing_lost']
  assert by_split(builder) == {'train': ['b']}
  assert all_examples(builder)['b']['objects']['label'].tolist() == [0]
  assert [(i['file'], i['item'], i['action']) for i in report['issues']] == [
      ('ImageSets/Main/train.txt', '../c', 'skipped image'),
      ('JPEGImages/c.jpg', '', 'not included')]


def test_subset_lists_with_underscores_are_read_per_class_lists_are_not(
    tmp_path):
  """Datumaro writes custom subsets as ImageSets/Main/<subset>.txt; only
  `<class>_<split>.txt` with the devkit's 1/-1 flags are per-class lists."""
  files = {'ImageSets/Main/train.txt': 'im0\n',
           'ImageSets/Main/train_extra.txt': 'im1\n',
           'ImageSets/Main/night_val.txt': 'im2\n',
           'ImageSets/Main/cat_train.txt': 'im0  1\nim1 -1\n'}
  for i in range(3):
    files[f'JPEGImages/im{i}.jpg'] = image_bytes()
    files[f'Annotations/im{i}.xml'] = box_xml(f'im{i}.jpg')
  builder = build('voc_export/boxes', write_export(tmp_path, files),
                  tmp_path / 'data')
  assert by_split(builder) == {'train': ['im0', 'im1'],
                               'validation': ['im2']}
  report = read_report(builder)
  assert report['issues'] == [] and report['nothing_lost']
  assert report['split_sources'] == {
      'train': {'ImageSets/Main/train.txt': 1,
                'ImageSets/Main/train_extra.txt': 1},
      'validation': {'ImageSets/Main/night_val.txt': 1}}


def test_masks_without_xml_list_ids_leading_out_are_skipped_once(tmp_path):
  export = tmp_path / 'export'
  shutil.copytree(VOC / 'cvat_masks', export)
  listed = export / 'ImageSets' / 'Segmentation' / 'default.txt'
  listed.write_text(listed.read_text() + '../../../outside\n/tmp/outside\n')
  builder = build('voc_export', export, tmp_path / 'data')
  report = read_report(builder)
  leading_out = [(i['item'], i['action'], i['problem'])
                 for i in report['issues'] if 'outside' in i['item']]
  assert leading_out == [
      (item, 'skipped image', 'is not an image id of this export (a path'
       ' leading out of its folder)')
      for item in ('../../../outside', '/tmp/outside')]
  assert report['export']['images'] == 5 and report['nothing_lost']
  assert sorted(all_examples(builder)) == ['frame_000000', 'frame_000001',
                                           'frame_000002']
