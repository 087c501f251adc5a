"""labelbox_export: each export format, the report, errors, and NDJSON == COCO.

Fixtures (tests/fixtures/labelbox.py), dummy_data/labelbox_export/:
  ndjson/   line 1 (a.jpg): a box, a polygon, a mask PNG, two composite-mask
            colours, a point and a line; media_attributes says 400x300; its
            external id is 'street/a original.jpg'. Line 2: found by external id,
            model-run split 'validation'. Line 3: found by data row id next to
            the export. Line 4: no label. Line 5: image nowhere (gs:// URL).
            Line 6: two labels. Line 7: a mask nowhere. Line 8: a video.
  v1_json/  a box, a polygon, an instanceURI mask and a point; a skipped row,
            an empty Label, data splits 'training', 'test' and 'holdout'.
  tfrecord/ legend {person: 200, car: 100}; two car regions and a person;
            one car; nothing; an RGB map.
"""

import json
import re

import numpy as np
from PIL import Image
import pytest
import tensorflow_datasets as tfds

from tests.builds import build, examples, read_report
from tests.paths import DUMMY_DATA
from tfds_builders.core.errors import ExportError
from tfds_builders.labelbox import LabelboxCars, LabelboxExport

EXPORTS = DUMMY_DATA / 'labelbox_export'
NDJSON = EXPORTS / 'ndjson'


class LabelboxNdjsonTest(tfds.testing.DatasetBuilderTestCase):
  DATASET_CLASS = LabelboxExport
  EXAMPLE_DIR = NDJSON
  SPLITS = {'train': 3, 'test': 1, 'validation': 1}
  BUILDER_CONFIG_NAMES_TO_TEST = ['default', 'boxes']


class LabelboxV1JsonTest(tfds.testing.DatasetBuilderTestCase):
  DATASET_CLASS = LabelboxExport
  EXAMPLE_DIR = EXPORTS / 'v1_json'
  SPLITS = {'train': 2, 'test': 1}
  BUILDER_CONFIG_NAMES_TO_TEST = ['default']


class LabelboxTfrecordTest(tfds.testing.DatasetBuilderTestCase):
  DATASET_CLASS = LabelboxExport
  EXAMPLE_DIR = EXPORTS / 'tfrecord'
  SPLITS = {'train': 3}  # 3 ids, none hashed into test
  BUILDER_CONFIG_NAMES_TO_TEST = ['default']


class LabelboxCarsTest(tfds.testing.DatasetBuilderTestCase):
  DATASET_CLASS = LabelboxCars
  EXAMPLE_DIR = DUMMY_DATA / 'labelbox_cars'
  SPLITS = {'train': 3, 'test': 2}
  BUILDER_CONFIG_NAMES_TO_TEST = ['default', 'boxes']


def by_id(builder) -> dict:
  return {ex['image/id'].decode(): ex for split in builder.info.splits
          for ex in examples(builder, split)}


@pytest.fixture(scope='module')
def ndjson(tmp_path_factory):
  return build('labelbox_export', NDJSON, tmp_path_factory.mktemp('ndjson'))


def test_ndjson_geometries(ndjson):
  assert ndjson.info.features['objects']['label'].names == ['car', 'person']
  ex = by_id(ndjson)['crowa0000000000000000000a']
  assert ex['image/filename'] == b'images/a.jpg'
  np.testing.assert_array_equal(ex['objects']['label'], [0, 1, 0, 1, 1])
  np.testing.assert_allclose(ex['objects']['bbox'], [
      [2 / 30, 2 / 40, 12 / 30, 14 / 40],  # box: top, left, height, width
      [2 / 30, 18 / 40, 14 / 30, 30 / 40],  # polygon
      [18 / 30, 2 / 40, 26 / 30, 14 / 40],  # mask PNG
      [18 / 30, 18 / 40, 26 / 30, 30 / 40],  # composite colour 1
      [18 / 30, 32 / 40, 26 / 30, 38 / 40]], rtol=1e-6)  # colour 2
  np.testing.assert_array_equal(ex['objects']['area'],
                                [120, 144, 96, 96, 48])
  with Image.open(NDJSON / 'masks' / 'fmaska.png') as png:
    np.testing.assert_array_equal(ex['objects']['mask'][2][:, :, 0],
                                  np.asarray(png) > 0)
  with Image.open(NDJSON / 'masks' / 'ccompositea.png') as png:
    composite = np.asarray(png.convert('RGB'))
  np.testing.assert_array_equal(ex['objects']['mask'][3][:, :, 0], np.all(
      composite == (123, 103, 152), axis=-1))
  seg = ex['segmentation_mask'][:, :, 0]
  assert (seg[2:12, 2:14] == 255).all()  # box only: unknown inside the box
  assert (seg[2:14, 18:30] == 2).all()  # person polygon = label 1 + 1
  assert (seg[18:26, 2:14] == 1).all()  # car mask
  assert (seg[18:26, 18:30] == 2).all() and (seg[18:26, 32:38] == 2).all()
  assert (seg == 0).sum() == 1200 - 120 - 144 - 96 - 96 - 48


def test_ndjson_float_box_split_and_lookups(ndjson):
  got = by_id(ndjson)
  b = got['crowb0000000000000000000b']
  assert b['image/filename'] == b'images/ext_b.jpg'  # by external id
  np.testing.assert_allclose(b['objects']['bbox'], [
      [3.5 / 30, 4.25 / 40, 23.5 / 30, 34.25 / 40]], rtol=1e-6)
  assert [ex['image/id'] for ex in examples(ndjson, 'validation')] == [
      b'crowb0000000000000000000b']
  c = got['crowc0000000000000000000c']
  assert c['image/filename'] == b'crowc0000000000000000000c.png'
  assert sorted(got) == ['crowa0000000000000000000a',
                         'crowb0000000000000000000b',
                         'crowc0000000000000000000c',
                         'crowf0000000000000000000f',
                         'crowg0000000000000000000g']


def test_ndjson_image_bytes_are_passed_through(ndjson):
  for split in ndjson.info.splits:
    for ex in examples(ndjson, split,
                       decoders={'image': tfds.decode.SkipDecoding()}):
      assert ex['image'] == (NDJSON / ex['image/filename'].decode()
                             ).read_bytes()


def test_ndjson_report_lists_everything_left_out(ndjson):
  report = read_report(ndjson)
  assert report['nothing_lost']
  assert report['export'] == {'images': 8, 'objects': 15}
  assert report['dataset_totals'] == {'images': 5, 'objects': 9}
  issues = {re.sub(r' \((data row )?crow\w+\)', '', i['item']): i
            for i in report['issues']}
  assert {(i['action'], item, i['objects_lost'])
          for item, i in issues.items()} == {
      ('skipped object', 'line 1: object #6 (car)', 1),  # point
      ('skipped object', 'line 1: object #7 (person)', 1),  # line
      ('not included', 'line 4', 0),  # no label
      ('skipped image', 'listed in export.ndjson', 1),  # image nowhere
      ('not included', 'line 6', 2),  # the second label
      ('skipped object', 'line 7: object #1 (car)', 1),  # mask nowhere
      ('not included', 'line 8', 0),  # video
      ('warning', 'image size', 0),  # 400x300 declared, 40x30 real
  }
  assert len(report['issues']) == 8
  missing = issues['listed in export.ndjson']
  assert missing['file'] == 'e.jpg'  # the image, named by its global key
  assert missing['problem'] == (
      'image file not found: looked for e.jpg, crowe0000000000000000000e.(jpg'
      '|jpeg|png|webp|bmp|tif|tiff) in images/, ./; gs://bucket/e.jpg is not'
      ' an http(s) URL, so it is not downloaded.')
  size = issues['image size']
  assert 'crowa0000000000000000000a' in size['item']
  assert 'says 400x300 but the image is 40x30' in size['problem']


def test_v1_json_export(tmp_path):
  builder = build('labelbox_export', EXPORTS / 'v1_json', tmp_path)
  got = by_id(builder)
  assert sorted(got) == ['cv1a', 'cv1d', 'cv1e']
  assert [ex['image/id'] for ex in examples(builder, 'test')] == [b'cv1d']
  a = got['cv1a']  # Data Split 'training'
  np.testing.assert_array_equal(a['objects']['label'], [0, 1, 0])
  np.testing.assert_allclose(a['objects']['bbox'], [
      [2 / 30, 3 / 40, 12 / 30, 15 / 40], [2 / 30, 20 / 40, 16 / 30, 36 / 40],
      [20 / 30, 20 / 40, 28 / 30, 36 / 40]], rtol=1e-6)
  assert a['objects']['area'][2] == 8 * 16  # the instanceURI mask
  report = read_report(builder)
  assert report['nothing_lost'] and report['export'] == {
      'images': 5, 'objects': 6}
  assert sorted((i['action'], i['problem'].split(' (')[0].split(';')[0])
                for i in report['issues']) == [
                    ('not included', 'Label is empty'),
                    ('not included', 'data row was skipped in Labelbox'),
                    ('skipped object', 'point geometry has no box or mask.'),
                    ('warning', "unknown data split 'holdout'")]


def test_v1_single_row_object(tmp_path):
  export = tmp_path / 'export'
  (export / 'images').mkdir(parents=True)
  rows = json.loads((EXPORTS / 'v1_json' / 'export.json').read_text())
  (export / 'images' / 'v1e.jpg').write_bytes(
      (EXPORTS / 'v1_json' / 'images' / 'v1e.jpg').read_bytes())
  (export / 'one_row.json').write_text(json.dumps(rows[4]))
  builder = build('labelbox_export', export, tmp_path / 'data')
  assert sorted(by_id(builder)) == ['cv1e']


def test_tfrecord_export(tmp_path):
  builder = build('labelbox_export', EXPORTS / 'tfrecord', tmp_path)
  assert builder.info.features['segmentation_mask'].names == [
      'background', 'car', 'person']  # by legend value, car=100 person=200
  got = by_id(builder)
  first = got['ctfrow0']
  expected = np.zeros((30, 40), np.uint8)
  expected[2:10, 2:12] = 1
  expected[15:25, 20:35] = 1
  expected[20:28, 2:8] = 2
  np.testing.assert_array_equal(first['segmentation_mask'][:, :, 0],
                                expected)
  np.testing.assert_array_equal(first['objects']['label'], [0, 0, 1])
  np.testing.assert_allclose(first['objects']['bbox'], [
      [2 / 30, 2 / 40, 10 / 30, 12 / 40], [15 / 30, 20 / 40, 25 / 30, 35 / 40],
      [20 / 30, 2 / 40, 28 / 30, 8 / 40]], rtol=1e-6)
  np.testing.assert_array_equal(first['objects']['area'], [80, 150, 48])
  assert first['image/filename'] == b'tf0.jpg'
  assert len(got['ctfrow2']['objects']['label']) == 0
  report = read_report(builder)
  assert report['nothing_lost'] and report['export'] == {
      'images': 4, 'objects': 4}
  [issue] = report['issues']
  assert issue['action'] == 'skipped image' and 'mode RGB' in issue['problem']


def test_tfrecord_paths_outside_the_export_are_refused(tmp_path):
  """Every file a build reads lies in the export: an absolute path (even to
  a genuine record file) or another URI scheme is refused, naming it."""
  export = tmp_path / 'export'
  export.mkdir()
  record = EXPORTS / 'tfrecord' / 'tfrecords' / 'labels-00000-of-00001.tfrecord'
  for path, problem in (
      (str(record), f'path {str(record)!r} is absolute; annotation paths must'
                    ' be relative to the export folder.'),
      ('../tfrecords/x.tfrecord', "path '../tfrecords/x.tfrecord' climbs out"
                                  ' of the export folder with "..".'),
      ('gs://bucket/x.tfrecord', "TFRecord path 'gs://bucket/x.tfrecord' is a"
                                 ' gs:// URI; only files in the export and'
                                 ' http(s) URLs are read.')):
    (export / 'export.json').write_text(json.dumps({
        'tfrecord_paths': [path], 'legend': {'car': 100, 'person': 200}}))
    with pytest.raises(ExportError) as raised:
      build('labelbox_export/boxes', export, tmp_path / 'data')
    assert (raised.value.file, raised.value.item) == ('export.json',
                                                       'tfrecord_paths')
    assert raised.value.problem == problem


def test_tfrecord_legend_must_fit_labelbox_cars(tmp_path):
  with pytest.raises(ExportError, match=r"legend classes \['car', 'person'\]"
                     r" are not among this dataset's classes \['Model 3'\]"):
    build('labelbox_cars', EXPORTS / 'tfrecord', tmp_path)


def test_broken_ndjson_line_names_the_line(tmp_path):
  export = tmp_path / 'export'
  export.mkdir()
  first = (NDJSON / 'export.ndjson').read_text().splitlines()[0]
  (export / 'export.ndjson').write_text(first + '\n\n{"data_row": {"id": \n')
  with pytest.raises(ExportError) as e:
    build('labelbox_export', export, tmp_path / 'data')
  assert str(e.value).startswith(
      'export.ndjson: line 3: not valid JSON (Expecting value at line 1,'
      ' column 21, byte 20). Fix: Re-download the export')


def test_folder_without_a_labelbox_export(tmp_path):
  (tmp_path / 'export').mkdir()
  (tmp_path / 'export' / 'notes.json').write_text('{"hello": 1}')
  with pytest.raises(ExportError, match='no Labelbox export found.*'
                     'The folder holds: notes.json'):
    build('labelbox_export', tmp_path / 'export', tmp_path / 'data')


def test_labelbox_cars_refuses_other_classes(tmp_path):
  with pytest.raises(ExportError, match="classes not in the class list from"
                     " the labelbox_cars builder: 'car'.*'person'"):
    build('labelbox_cars', NDJSON, tmp_path)


def test_same_images_as_ndjson_and_coco_give_the_same_boxes(tmp_path):
  pytest.importorskip('tfds_builders.coco')  # built by another engineer
  export = EXPORTS / 'same_as_coco'
  results = []
  for name in ('labelbox_export/boxes', 'coco_export/boxes'):
    builder = build(name, export, tmp_path / name.split('/')[0])
    names = builder.info.features['objects']['label'].names
    results.append({
        ex['image/filename'].decode(): sorted(
            (names[label], tuple(np.round(box, 6)))
            for label, box in zip(ex['objects']['label'],
                                  ex['objects']['bbox']))
        for split in builder.info.splits for ex in examples(builder, split)})
    assert read_report(builder)['nothing_lost']
  labelbox, coco = results
  assert sorted(labelbox) == ['images/one.jpg', 'images/two.jpg']
  assert labelbox == coco
  assert sum(len(v) for v in labelbox.values()) == 5


def test_model_run_export_labels_and_split(tmp_path):
  export = tmp_path / 'export'
  (export / 'images').mkdir(parents=True)
  (export / 'images' / 'f.jpg').write_bytes(
      (NDJSON / 'images' / 'f.jpg').read_bytes())
  box = {'name': 'car', 'bounding_box': {'top': 1, 'left': 2, 'height': 3,
                                         'width': 4}}
  (export / 'export.ndjson').write_text(json.dumps({
      'data_row': {'id': 'crun', 'global_key': 'f.jpg'},
      'experiments': {'cmodel': {'runs': {'crun1': {
          'split': 'Test', 'labels': [{'annotations': {'objects': [box]}}]}}}}
  }) + '\n')
  builder = build('labelbox_export', export, tmp_path / 'data')
  [ex] = examples(builder, 'test')
  np.testing.assert_allclose(ex['objects']['bbox'],
                             [[1 / 30, 2 / 40, 4 / 30, 6 / 40]], rtol=1e-6)
