"""coco_export's parser alone, no dataset build: split names, recognising
instance files, categories, ids (and one build for an RLE of another size)."""

import json
import pathlib

import numpy as np
from pycocotools import mask as coco_mask
import pytest

from tests.builds import build, read_report
from tests.paths import DUMMY_DATA
from tfds_builders.coco import layout, parse
from tfds_builders.core import report
from tfds_builders.core.errors import ExportError
from tfds_builders.core.exportfs import ExportFiles

COCO = DUMMY_DATA / 'coco'


@pytest.mark.parametrize('path, split', [
    ('annotations/instances_train2017.json', 'train'),
    ('annotations/instances_val2017.json', 'validation'),
    ('annotations/person_keypoints_val2017.json', 'validation'),
    ('annotations/stuff_train2017.json', 'train'),
    ('annotations/image_info_test-dev2017.json', 'test'),
    ('train/_annotations.coco.json', 'train'),
    ('valid/_annotations.coco.json', 'validation'),
    ('annotations/instances_minival2014.json', 'validation'),
    ('annotations/instances_default.json', 'default'),
    ('extra/_annotations.coco.json', 'extra'),
    ('annotations/instances_Übung.json', 'ubung'),
    # Part of every shard's file name: a long one is cut, keeping a hash.
    ('annotations/instances_batch_' + 'x' * 226 + '.json',
     'batch_' + 'x' * 33 + '_311f1760'),
])
def test_split_names_from_file_names(path, split):
  names = [path, 'other/instances_something_else.json']
  result = layout.assign_splits(names)[path]
  assert (result.group, result.split) == (split, split)
  assert result.source == f'annotation file {path}'
  hashed = layout.assign_splits(names, split_by_hash=True)[path]
  assert (hashed.group, hashed.split) == (split, None)


@pytest.mark.parametrize('names', [
    ['instances.json'], ['_annotations.coco.json'], ['result.json'],
    ['annotations/instances_default.json'],
    ['annotations/instances_default.json',
     'annotations/person_keypoints_default.json'],
])
def test_files_without_a_split_word_naming_one_thing_are_hashed(names):
  assert {n: s.split for n, s in layout.assign_splits(names).items()} == {
      n: None for n in names}


def test_files_of_one_split_share_it():
  names = ['annotations/instances_train2017.json',
           'annotations/person_keypoints_train2017.json', 'a_train.json']
  assert {s.split for s in layout.assign_splits(names).values()} == {'train'}


def _export(tmp_path, images=None, annotations=(), categories=None,
            name='instances.json') -> pathlib.Path:
  data = {'images': images if images is not None else [
      {'id': 1, 'file_name': 'a.jpg', 'width': 40, 'height': 30}],
          'annotations': list(annotations),
          'categories': categories or [{'id': 1, 'name': 'cat'}]}
  (tmp_path / name).write_text(json.dumps(data))
  (tmp_path / 'a.jpg').write_bytes(
      (COCO / 'official' / 'train2017' / '000000000001.jpg').read_bytes())
  return tmp_path


def _ann(ann_id, image_id=1, category_id=1, **extra):
  return {'id': ann_id, 'image_id': image_id, 'category_id': category_id,
          'bbox': [1, 1, 5, 5], 'iscrowd': 0, **extra}


def _parse(root, **kwargs):
  return parse.parse_export(ExportFiles(root), **kwargs)


def test_categories_sharing_a_name_are_one_class(tmp_path):
  _export(tmp_path, categories=[{'id': 1, 'name': 'cat'},
                                {'id': 4, 'name': 'cat'},
                                {'id': 2, 'name': 'dog'}],
          annotations=[_ann(1, category_id=4), _ann(2, category_id=2)])
  parsed = _parse(tmp_path)
  assert parsed.classes.names == ('cat', 'dog')
  assert [o.label for o in parsed.records[0].objects] == ['cat', 'dog']
  assert [(c['id'], c['label']) for c in parsed.categories] == [
      (1, 0), (2, 1), (4, 0)]
  assert [(i.file, i.item, i.problem, i.action) for i in parsed.issues] == [
      ('instances.json', 'category id 4',
       "categories 1, 4 share the name 'cat'; they are one class",
       report.WARNING)]


def test_category_named_by_a_number_is_that_class(tmp_path):
  """Digit datasets write "name": 7; a name that is no text nor integer is
  an error saying what it is, not "missing"."""
  _export(tmp_path, categories=[{'id': 0, 'name': 0}, {'id': 1, 'name': 7}],
          annotations=[_ann(1, category_id=1)])
  parsed = _parse(tmp_path)
  assert parsed.classes.names == ('0', '7')
  assert [o.label for o in parsed.records[0].objects] == ['7']
  _export(tmp_path, categories=[{'id': 1, 'name': 0.5}])
  with pytest.raises(ExportError, match=r'category name 0.5 is a float, not'
                     ' text'):
    _parse(tmp_path)


def test_unknown_category_id_names_the_annotation(tmp_path):
  _export(tmp_path, annotations=[_ann(5, category_id=9)])
  with pytest.raises(ExportError, match=r'instances.json: annotation id 5: '
                     r'category_id 9 is not among the categories \(ids 1\)'):
    _parse(tmp_path)


def test_unknown_and_duplicate_image_ids_are_reported(tmp_path):
  image = {'id': 1, 'file_name': 'a.jpg', 'width': 40, 'height': 30}
  _export(tmp_path, images=[image, dict(image, file_name='b.jpg')],
          annotations=[_ann(1), _ann(2, image_id=77)])
  parsed = _parse(tmp_path)
  assert [(i.item, i.action, i.objects_lost) for i in parsed.issues] == [
      ('image id 1', report.SKIPPED_IMAGE, 0),
      ('annotation id 2', report.SKIPPED_OBJECT, 1)]
  assert [len(r.objects) for r in parsed.records] == [1]
  assert (parsed.export_images, parsed.export_objects) == (2, 2)


@pytest.mark.parametrize('content, problem', [
    ('[1, 2]', 'the top level is a JSON list, not an object'),
    ('{"info": {}}', 'no "images" list'),
    ('{"images": [], "annotations": [{"id": 1}]}', 'no "categories" list'),
    ('{"images": [], "categories": []}',
     'no "annotations" list; an image-info file lists images only'),
    ('{"images": [], "annotations": [{"id": 1, "image_id": 1, "caption":'
     ' "A dog."}]}', 'no "categories" list; a captions file has none'),
    ('{"images": [], "categories": [], "annotations": [{"image_id": 1,'
     ' "file_name": "1.png", "segments_info": []}]}',
     'its annotations are panoptic (segments_info and PNG files), not boxes'
     ' or polygons'),
    ('{"images": [], "categories": [], "annotations": [{"id": 1}]}',
     'no annotation has a "bbox" or a "segmentation"'),
])
def test_json_that_is_not_an_instance_file_is_an_error_alone(tmp_path,
                                                             content,
                                                             problem):
  (tmp_path / 'export.json').write_text(content)
  with pytest.raises(ExportError) as error:
    _parse(tmp_path)
  assert error.value.problem == (f'no COCO instance file found: export.json:'
                                 f' not an instance file ({problem})')


def test_broken_json_is_an_error_naming_the_file(tmp_path):
  _export(tmp_path, annotations=[_ann(1)])
  (tmp_path / 'export.json').write_text('{"images": [')
  with pytest.raises(ExportError, match=r'^export.json: not valid JSON'):
    _parse(tmp_path)


def test_other_json_beside_the_coco_file_is_reported_not_read(tmp_path):
  _export(tmp_path, annotations=[_ann(1)])
  (tmp_path / 'meta.json').write_text('{"tool": "labelme"}')
  parsed = _parse(tmp_path)
  assert [(i.file, i.problem, i.action) for i in parsed.issues] == [
      ('meta.json', 'not an instance file (no "images" list)',
       report.NOT_INCLUDED)]
  assert [r.split for r in parsed.records] == [None]  # still hashed 80/20


def test_instance_file_is_found_by_content_not_name(tmp_path):
  (tmp_path / 'annotations').mkdir()
  _export(tmp_path, annotations=[_ann(1)], name='annotations/train.json')
  (tmp_path / 'old_export.json').write_text('{}')
  parsed = _parse(tmp_path)
  assert [(i.file, i.action) for i in parsed.issues] == [
      ('old_export.json', report.NOT_INCLUDED)]
  assert [(r.split, r.split_source, r.filename) for r in parsed.records] == [
      ('train', 'annotation file annotations/train.json', 'a.jpg')]


def test_two_files_of_one_split_keep_all_their_images(tmp_path):
  image = {'id': 1, 'file_name': 'a.jpg', 'width': 40, 'height': 30}
  _export(tmp_path, images=[image], annotations=[_ann(1)],
          name='a_train.json')
  _export(tmp_path, images=[dict(image, file_name='b.jpg')],
          annotations=[_ann(1)], name='b_train.json')
  parsed = _parse(tmp_path)
  assert sorted((r.image_id, r.split) for r in parsed.records) == [
      ('train/a_train/1', 'train'), ('train/b_train/1', 'train')]
  assert (parsed.export_images, parsed.export_objects) == (2, 2)


def test_rle_of_another_size_skips_the_annotation_naming_it(tmp_path):
  rle = coco_mask.encode(np.asfortranarray(np.ones((20, 20), np.uint8)))
  _export(tmp_path, annotations=[_ann(
      7, segmentation={'size': [20, 20],
                       'counts': rle['counts'].decode('ascii')})])
  data = read_report(build('coco_export', tmp_path, tmp_path / 'tfds'))
  assert data['nothing_lost'] and data['dataset_totals']['objects'] == 0
  assert [(i['file'], i['item'], i['problem'], i['action'],
           i['objects_lost']) for i in data['issues']] == [
      ('instances.json', 'annotation id 7', 'RLE size [20, 20] (height,'
       ' width) disagrees with the image, which is 30x40.',
       report.SKIPPED_OBJECT, 1)]


def _write(root: pathlib.Path, name: str, data: dict) -> None:
  (root / name).parent.mkdir(parents=True, exist_ok=True)
  (root / name).write_text(json.dumps(data))


def test_stuff_file_adds_its_regions_to_the_same_images(tmp_path):
  image = [{'id': 1, 'file_name': 'x.jpg', 'width': 40, 'height': 30}]
  (tmp_path / 'val2017').mkdir()
  (tmp_path / 'val2017' / 'x.jpg').write_bytes(
      (COCO / 'official' / 'train2017' / '000000000001.jpg').read_bytes())
  _write(tmp_path, 'annotations/instances_val2017.json', {
      'images': image, 'annotations': [_ann(1)],
      'categories': [{'id': 1, 'name': 'person', 'supercategory': 'person'}]})
  other = np.zeros((30, 40), np.uint8)
  other[20:, :] = 1
  rle = coco_mask.encode(np.asfortranarray(other))
  _write(tmp_path, 'annotations/stuff_val2017.json', {
      'images': image, 'annotations': [_ann(
          10000001, category_id=183, bbox=[0, 20, 40, 10],
          segmentation={'size': [30, 40],
                        'counts': rle['counts'].decode('ascii')})],
      'categories': [{'id': 92, 'name': 'banner', 'supercategory': 'textile'},
                     {'id': 183, 'name': 'other', 'supercategory': 'other'}]})
  parsed = _parse(tmp_path)
  assert parsed.classes.names == ('person', 'banner', 'other')
  (record,) = parsed.records
  assert (record.filename, record.split) == ('val2017/x.jpg', 'validation')
  assert [(o.label, o.where) for o in record.objects] == [
      ('person', 'annotation id 1'),
      ('other', 'annotation id 10000001 of annotations/stuff_val2017.json')]
  assert (parsed.export_images, parsed.export_objects) == (1, 2)
  assert [(i.file, i.problem, i.action) for i in parsed.issues] == [(
      'annotations/stuff_val2017.json', '1 of its images are also in'
      ' annotations/instances_val2017.json (split validation); each is one'
      ' example with the annotations of both files', report.WARNING)]


def test_export_in_a_sub_folder_finds_its_images_near_its_json(tmp_path):
  (tmp_path / 'coco' / 'annotations').mkdir(parents=True)
  _export(tmp_path, annotations=[_ann(1)],
          name='coco/annotations/instances_train.json')
  (tmp_path / 'coco' / 'images' / 'train').mkdir(parents=True)
  (tmp_path / 'a.jpg').rename(tmp_path / 'coco' / 'images' / 'train' /
                               'a.jpg')
  (tmp_path / 'other').mkdir()  # another a.jpg: found near the JSON first
  (tmp_path / 'other' / 'a.jpg').write_bytes(
      (tmp_path / 'coco' / 'images' / 'train' / 'a.jpg').read_bytes())
  parsed = _parse(tmp_path)
  assert [(r.filename, r.split) for r in parsed.records] == [
      ('coco/images/train/a.jpg', 'train')]
  assert [(i.file, i.action) for i in parsed.issues] == [
      ('other/a.jpg', report.NOT_INCLUDED)]


def test_annotations_repeated_within_one_file_are_counted_once(tmp_path):
  images = [{'id': 1, 'file_name': 'a.jpg'}, {'id': 2, 'file_name': 'a.jpg'}]
  _export(tmp_path, images=images,
          annotations=[_ann(1), _ann(1, image_id=2), _ann(2, image_id=2)])
  parsed = _parse(tmp_path)
  assert [(o.where, o.label) for o in parsed.records[0].objects] == [
      ('annotation id 1', 'cat'), ('annotation id 2', 'cat')]
  assert (parsed.export_images, parsed.export_objects) == (1, 2)
  assert [(i.item, i.problem) for i in parsed.issues] == [(
      'image id 2', 'names the same image file as image id 1; one example'
      ' with the annotations of both (1 repeated annotation(s) counted'
      ' once)')]


def test_same_file_name_in_two_subsets_is_found_in_each_subset(tmp_path):
  # Datumaro / CVAT video tasks: every subset has its frame_000000.jpg.
  frame = (COCO / 'official' / 'train2017' / '000000000001.jpg').read_bytes()
  for subset in ('train', 'val'):
    (tmp_path / 'images' / subset).mkdir(parents=True)
    (tmp_path / 'images' / subset / 'frame_000000.jpg').write_bytes(frame)
    _write(tmp_path, f'annotations/instances_{subset}.json', {
        'images': [{'id': 1, 'file_name': 'frame_000000.jpg'}],
        'annotations': [_ann(1)], 'categories': [{'id': 1, 'name': 'cat'}]})
  parsed = _parse(tmp_path)
  assert sorted((r.image_id, r.filename) for r in parsed.records) == [
      ('train/1', 'images/train/frame_000000.jpg'),
      ('validation/1', 'images/val/frame_000000.jpg')]
  assert parsed.issues == []
