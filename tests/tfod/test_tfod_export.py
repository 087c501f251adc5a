"""tfod_export: layouts, label maps, bad records and the export round trip."""

import hashlib
import pathlib
import shutil
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from tests.builds import build, examples, read_report
from tests.paths import DUMMY_DATA, PROJECT, shared_export
from tfds_builders.core.errors import ExportError
from tfds_builders.core.exportfs import ExportFiles
from tfds_builders.tfod import TfodExport, label_map, layout, parse, writer

TFOD = DUMMY_DATA / 'tfod_export'
CAT_BOX = np.float32([5 / 30, 4 / 40, 25 / 30, 20 / 40])  # ymin, xmin, ...
DOG_BOX = np.float32([3.5 / 30, 22.5 / 40, 29 / 30, 39 / 40])

# The TF Object Detection API decoder's features (tf_example_decoder.py, with
# instance_mask_type PNG_MASKS), written out: the OD API is not installable.
OD_API_FEATURES = {
    'image/encoded': tf.io.FixedLenFeature((), tf.string),
    'image/format': tf.io.FixedLenFeature((), tf.string, 'jpeg'),
    'image/filename': tf.io.FixedLenFeature((), tf.string, ''),
    'image/key/sha256': tf.io.FixedLenFeature((), tf.string, ''),
    'image/source_id': tf.io.FixedLenFeature((), tf.string, ''),
    'image/height': tf.io.FixedLenFeature((), tf.int64, 1),
    'image/width': tf.io.FixedLenFeature((), tf.int64, 1),
    'image/object/bbox/xmin': tf.io.VarLenFeature(tf.float32),
    'image/object/bbox/xmax': tf.io.VarLenFeature(tf.float32),
    'image/object/bbox/ymin': tf.io.VarLenFeature(tf.float32),
    'image/object/bbox/ymax': tf.io.VarLenFeature(tf.float32),
    'image/object/class/label': tf.io.VarLenFeature(tf.int64),
    'image/object/class/text': tf.io.VarLenFeature(tf.string),
    'image/object/area': tf.io.VarLenFeature(tf.float32),
    'image/object/is_crowd': tf.io.VarLenFeature(tf.int64),
    'image/object/difficult': tf.io.VarLenFeature(tf.int64),
    'image/object/truncated': tf.io.VarLenFeature(tf.int64),
    'image/object/mask': tf.io.VarLenFeature(tf.string),
}


# One DatasetBuilderTestCase per layout.


class CvatTest(tfds.testing.DatasetBuilderTestCase):
  DATASET_CLASS = TfodExport
  EXAMPLE_DIR = TFOD / 'cvat'
  SPLITS = {'train': 4, 'test': 1}  # default.tfrecord: hashed by file name
  BUILDER_CONFIG_NAMES_TO_TEST = ['default', 'boxes']


class CvatWithoutImagesTest(tfds.testing.DatasetBuilderTestCase):
  DATASET_CLASS = TfodExport
  EXAMPLE_DIR = TFOD / 'cvat_no_images'
  SPLITS = {'train': 2}
  BUILDER_CONFIG_NAMES_TO_TEST = ['default']


class RoboflowTest(tfds.testing.DatasetBuilderTestCase):
  DATASET_CLASS = TfodExport
  EXAMPLE_DIR = TFOD / 'roboflow'
  SPLITS = {'train': 3, 'validation': 1, 'test': 1}
  BUILDER_CONFIG_NAMES_TO_TEST = ['default']


class ShardedTest(tfds.testing.DatasetBuilderTestCase):
  DATASET_CLASS = TfodExport
  EXAMPLE_DIR = TFOD / 'sharded'
  SPLITS = {'train': 3, 'validation': 1}
  BUILDER_CONFIG_NAMES_TO_TEST = ['default']


# label_map.pbtxt: every spelling the OD API's text format accepts.

LABEL_MAP_SPELLINGS = {
    'cvat_datumaro': "item {\n\tid: 1\n\tname: 'cat'\n}\n\nitem {\n\tid: 2\n"
                     "\tname: 'dog'\n}\n\n",
    'roboflow_commas': 'item {\n    name: "cat",\n    id: 1,\n    display_name:'
                       ' "cat"\n}\nitem {\n    name: "dog",\n    id: 2,\n'
                       '    display_name: "dog"\n}\n',
    'colon_before_brace': 'item: { id: 1 name: "cat" }\nitem: { id: 2 name:'
                          ' "dog" }',
    'angle_brackets': "item < id: 1 name: 'cat' > item < name: 'dog' id: 2 >",
    'semicolons': 'item { id: 1; name: "cat"; }\nitem { name: "dog"; id: 2; }',
    'one_line': 'item{id:1 name:"cat"}item{id:2,name:"dog"}',
    'comments_and_order': '# classes\nitem {\n  name: "dog"  # second\n  id: 2'
                          '\n}\n# first:\nitem { display_name: \'cat\' id: 1 }',
    'background_item': 'item { id: 0 name: "background" }\n'
                       'item { id: 2 name: "dog" }\nitem { id: 1 name: "cat" }',
    'od_api_extras': 'item { id: 1 name: "cat" keypoints { id: 0 label: "nose"'
                     ' } frequency: FREQUENT instance_count: 12 }\n'
                     'item { id: 2 name: "dog" ancestor_ids: 1 }',
}


@pytest.mark.parametrize('spelling', sorted(LABEL_MAP_SPELLINGS))
def test_label_map_spellings(spelling):
  parsed = label_map.parse_label_map(LABEL_MAP_SPELLINGS[spelling])
  assert parsed.classes.names == ('cat', 'dog')
  assert parsed.name_for_id(1) == 'cat' and parsed.name_for_id(2) == 'dog'
  assert parsed.name_for_id(0) is None


def test_label_map_display_name_is_the_class():
  parsed = label_map.parse_label_map(
      "item { name: '/m/01g317' id: 1 display_name: 'person' }\n"
      "item { name: '/m/0199g' id: 5 display_name: 'bicycle' }",
      file='oid.pbtxt')
  assert parsed.classes.names == ('person', 'bicycle')
  assert parsed.classes.source == 'oid.pbtxt'
  assert parsed.name_for_text('/m/0199g') == 'bicycle'  # by name
  assert parsed.name_for_text('bicycle') == 'bicycle'  # by display_name
  assert parsed.name_for_id(5) == 'bicycle' and parsed.name_for_id(2) is None


def test_label_map_classes_are_in_id_order():
  parsed = label_map.parse_label_map(
      'item { id: 3 name: "c" } item { id: 1 name: "a" } item { id: 2 name:'
      ' "b" }')
  assert parsed.classes.names == ('a', 'b', 'c')


def test_label_map_writer_round_trip(tmp_path):
  names = ['cat', 'café au lait', 'say "hi"', "it's"]
  label_map.write_label_map(tmp_path / 'label_map.pbtxt', names)
  parsed = label_map.parse_label_map(
      (tmp_path / 'label_map.pbtxt').read_text(encoding='utf-8'))
  assert parsed.classes.names == tuple(names)
  assert [i.id for i in parsed.items] == [1, 2, 3, 4]


# What the builds hold.


def test_cvat_records_keep_bytes_boxes_and_labels(tmp_path):
  builder = build('tfod_export', TFOD / 'cvat', tmp_path)
  assert builder.info.features['objects']['label'].names == ['cat', 'dog']
  records = [tf.train.Example.FromString(r.numpy()) for r in
             tf.data.TFRecordDataset(str(TFOD / 'cvat' / 'default.tfrecord'))]
  encoded = {_feature(r, 'image/filename')[0]: _feature(r, 'image/encoded')[0]
             for r in records}
  skip = {'image': tfds.decode.SkipDecoding()}
  by_id = {ex['image/id'].decode(): ex
           for split in ('train', 'test')
           for ex in examples(builder, split, decoders=skip)}
  assert sorted(by_id) == [f'frame_00000{i}.jpg' for i in range(5)]
  for image_id, ex in by_id.items():
    assert ex['image/filename'].decode() == image_id
    assert ex['image'] == encoded[image_id.encode()]  # embedded JPEG as is
  np.testing.assert_array_equal(by_id['frame_000000.jpg']['objects']['bbox'],
                                [CAT_BOX, DOG_BOX])
  np.testing.assert_array_equal(by_id['frame_000000.jpg']['objects']['label'],
                                [0, 1])
  assert len(by_id['frame_000002.jpg']['objects']['label']) == 0
  # Frame 3's second object has no label (Datumaro: label 0, no text).
  np.testing.assert_array_equal(by_id['frame_000003.jpg']['objects']['label'],
                                [0])
  report = read_report(builder)
  assert report['nothing_lost'] and report['export']['objects'] == 7
  assert report['dataset_totals'] == {'images': 5, 'objects': 6}
  assert report['class_source'] == 'label_map.pbtxt'
  assert report['issues'] == [{
      'file': 'default.tfrecord record 3', 'item': 'object #2',
      'problem': 'object has no class: label 0 and no class/text (how CVAT'
                 ' and Datumaro write an object without a label).',
      'action': 'skipped object', 'objects_lost': 1,
      'fix': 'Give the object a label in the tool.'}]
  assert report['split_sources'] == {'test': {'hash of the image id': 1},
                                     'train': {'hash of the image id': 4}}


def test_cvat_without_images_reads_images_folder(tmp_path):
  builder = build('tfod_export', TFOD / 'cvat_no_images', tmp_path)
  exs = examples(builder, 'train', decoders={
      'image': tfds.decode.SkipDecoding()})
  files = sorted(ex['image/filename'].decode() for ex in exs)
  assert files == ['images/frame_000000.jpg', 'images/sub/frame_000001.jpg']
  for ex in exs:
    path = TFOD / 'cvat_no_images' / ex['image/filename'].decode()
    assert ex['image'] == path.read_bytes()
  assert sorted(ex['image/id'].decode() for ex in exs) == [
      'frame_000000.jpg', 'sub/frame_000001.jpg']


def test_sharded_masks_flags_and_label_lookups(tmp_path):
  builder = build('tfod_export', TFOD / 'sharded', tmp_path)
  # Ids out of order in the label map: dog is 1, cat is 2.
  assert builder.info.features['objects']['label'].names == ['dog', 'cat']
  by_id = {ex['image/id'].decode(): ex for ex in examples(builder, 'train')}
  # By `name` (WordNet id), by `display_name`, by label id only: same labels.
  np.testing.assert_array_equal(by_id['1']['objects']['label'], [1, 0])
  np.testing.assert_array_equal(by_id['2']['objects']['label'], [1, 0])
  np.testing.assert_array_equal(by_id['3']['objects']['label'], [0, 1])
  first = by_id['1']['objects']
  np.testing.assert_array_equal(first['is_difficult'], [False, True])
  np.testing.assert_array_equal(first['is_truncated'], [True, False])
  np.testing.assert_array_equal(first['area'], [316.0, 400.0])
  cat_mask = np.zeros((30, 40), np.uint8)
  cat_mask[5:25, 4:20] = 1
  cat_mask[10:12, 8:10] = 0
  np.testing.assert_array_equal(first['mask'][0, :, :, 0], cat_mask)
  assert first['mask'][1].sum() == 25 * 16
  semantic = by_id['1']['segmentation_mask'][:, :, 0]
  assert semantic[11, 9] == 0 and semantic[6, 5] == 2  # cat = label 1 + 1
  # Dense float masks (NUMERICAL_MASKS) in the validation shard.
  val = examples(builder, 'validation')[0]['objects']
  assert val['mask'].shape == (2, 12, 16, 1)
  assert val['mask'][0, 2:6, 1:5].all() and val['mask'][0].sum() == 16
  assert val['mask'][1].sum() == 6 * 8
  np.testing.assert_array_equal(val['bbox'][1], [0.5, 0.5, 1.0, 1.0])
  assert read_report(builder)['nothing_lost']


@pytest.mark.parametrize('base, folders, split, source', [
    ('default.tfrecord', (), None, ''),
    ('train.tfrecord', (), 'train', 'file name train.tfrecord'),
    ('cars.tfrecord', ('export', 'valid'), 'validation', 'folder valid/'),
    ('pets_val.record', (), 'validation', 'file name pets_val.record'),
    ('coco_train.record', (), 'train', 'file name coco_train.record'),
    ('mscoco_val2017.tfrecord', (), 'validation',
     'file name mscoco_val2017.tfrecord'),
    ('test-images.record', (), 'test', 'file name test-images.record'),
    ('data.record', (), None, ''),
    # Roboflow names the file after the project in every split folder.
    ('Train.tfrecord', ('test',), 'test', 'folder test/'),
    ('train-detection.tfrecord', ('valid',), 'validation', 'folder valid/'),
    ('train_test.record', ('data', 'valid'), 'validation', 'folder valid/'),
    ('default.tfrecord', ('training', 'records'), 'train', 'folder training/'),
])
def test_split_names(base, folders, split, source):
  """The folders first, nearest first, then the file name's split word."""
  assert layout.split_of(base, folders) == (split, source)


def test_split_sources_are_reported(tmp_path):
  roboflow = read_report(build('tfod_export/boxes', TFOD / 'roboflow',
                               tmp_path / 'r'))
  assert roboflow['split_sources'] == {
      'test': {'folder test/': 1}, 'train': {'folder train/': 3},
      'validation': {'folder valid/': 1}}
  sharded = read_report(build('tfod_export/boxes', TFOD / 'sharded',
                              tmp_path / 's'))
  assert sharded['split_sources'] == {
      'train': {'file name pets_train.record': 3},
      'validation': {'file name pets_val.record': 1}}


def test_label_maps_of_split_folders_must_agree(tmp_path):
  root = tmp_path / 'export'
  shutil.copytree(TFOD / 'roboflow', root)
  (root / 'test' / 'pets_label_map.pbtxt').write_text(
      'item { id: 1 name: "dog" } item { id: 2 name: "cat" }')
  with pytest.raises(ExportError, match='disagrees with test/pets_label_map'):
    parse.parse_export(ExportFiles(root))


# The exporter: OD API decoder spec, round trips.


@pytest.fixture(scope='module')
def voc_with_masks(tmp_path_factory):
  """voc_export (SegmentationObject masks) -> TFRecords with --masks."""
  data = tmp_path_factory.mktemp('voc')
  voc = build('voc_export', DUMMY_DATA / 'voc' / 'vocdevkit', data)
  out = data / 'tfod'
  built_dir = pathlib.Path(voc.data_dir)
  summary = writer.export(writer.load_builder(dataset_dir=str(built_dir)),
                          out, num_shards=2, masks=True)
  return voc, out, summary


def test_exported_records_decode_with_od_api_features(voc_with_masks):
  voc, out, summary = voc_with_masks
  # The VOC build's classes, whatever list it has (labels.txt, or the
  # devkit's 20), become label ids from 1 in that order.
  names = tuple(voc.info.features['objects']['label'].names)
  cat, dog = names.index('cat') + 1, names.index('dog') + 1
  assert summary.images == {'train': 2, 'validation': 1}
  assert sorted(p.name for p in out.iterdir()) == [
      'label_map.pbtxt', 'train.record-00000-of-00002',
      'train.record-00001-of-00002', 'validation.record-00000-of-00002',
      'validation.record-00001-of-00002']
  assert label_map.parse_label_map((out / 'label_map.pbtxt').read_text(
      encoding='utf-8')).classes.names == names
  records = tf.data.TFRecordDataset(sorted(map(str, out.glob('*.record-*'))))
  count = 0
  for serialized in records:
    parsed = tf.io.parse_single_example(serialized, OD_API_FEATURES)
    dense = {k: tf.sparse.to_dense(v).numpy() if isinstance(
        v, tf.sparse.SparseTensor) else v.numpy() for k, v in parsed.items()}
    image = tf.io.decode_image(dense['image/encoded'], channels=3).numpy()
    assert image.shape == (dense['image/height'], dense['image/width'], 3)
    assert dense['image/format'] == b'jpeg'
    assert dense['image/key/sha256'] == hashlib.sha256(
        dense['image/encoded']).hexdigest().encode()
    assert dense['image/source_id'].startswith(b'2007_00000')
    np.testing.assert_array_equal(dense['image/object/class/label'],
                                  [cat, dog])
    np.testing.assert_array_equal(dense['image/object/class/text'],
                                  [b'cat', b'dog'])
    np.testing.assert_allclose(dense['image/object/bbox/xmin'],
                               [4 / 40, 22.5 / 40], rtol=1e-6)
    for mask in dense['image/object/mask']:
      assert tf.io.decode_png(mask).shape == (30, 40, 1)
    count += 1
  assert count == 3


def test_masks_survive_the_round_trip(voc_with_masks, tmp_path):
  voc, out, _ = voc_with_masks
  back = build('tfod_export', out, tmp_path)
  assert read_report(back)['nothing_lost']
  for split in ('train', 'validation'):
    before = {ex['image/id']: ex for ex in examples(voc, split)}
    after = {ex['image/id']: ex for ex in examples(back, split)}
    assert sorted(before) == sorted(after)
    for image_id, ex in after.items():
      np.testing.assert_array_equal(ex['objects']['mask'],
                                    before[image_id]['objects']['mask'])
      np.testing.assert_array_equal(ex['objects']['bbox'],
                                    before[image_id]['objects']['bbox'])


def test_export_round_trip_on_raccoon(tmp_path):
  """voc_export -> scripts/export_tfod.py (as a user runs it) -> tfod_export."""
  raccoon = shared_export('raccoon_voc')
  voc = build('voc_export/boxes', raccoon, tmp_path / 'data')
  out = tmp_path / 'od_api'
  result = subprocess.run(
      [sys.executable, str(PROJECT / 'scripts' / 'export_tfod.py'),
       '--dataset', 'voc_export/boxes', '--data_dir', str(tmp_path / 'data'),
       '--output', str(out), '--num_shards', '3'],
      capture_output=True, text=True, check=False)
  assert result.returncode == 0, result.stderr[-2000:]
  assert 'train: 150 images, 161 objects' in result.stdout
  back = build('tfod_export/boxes', out, tmp_path / 'data2')
  assert read_report(back)['nothing_lost']
  assert back.info.features['objects']['label'].names == ['raccoon']
  skip = {'image': tfds.decode.SkipDecoding()}
  compared = 0
  for split in ('train', 'test'):
    before = {ex['image/id']: ex for ex in examples(voc, split, decoders=skip)}
    after = {ex['image/id']: ex for ex in examples(back, split, decoders=skip)}
    assert sorted(before) == sorted(after)
    for image_id, ex in after.items():
      old = before[image_id]
      assert ex['image'] == old['image']  # the very same bytes
      assert ex['image/filename'] == old['image/filename']
      np.testing.assert_array_equal(ex['objects']['bbox'],
                                    old['objects']['bbox'])  # float32-exact
      for key in ('label', 'area', 'is_difficult', 'is_truncated',
                  'is_crowd'):
        np.testing.assert_array_equal(ex['objects'][key], old['objects'][key])
      compared += 1
  assert compared == 200


def test_export_refuses_masks_for_a_boxes_config(tmp_path):
  voc = build('voc_export/boxes', DUMMY_DATA / 'voc' / 'flat', tmp_path)
  with pytest.raises(ExportError, match='has no instance masks'):
    writer.export(voc, tmp_path / 'out', masks=True)


def _feature(example: tf.train.Example, key: str) -> list:
  feature = example.features.feature[key]
  return getattr(feature, feature.WhichOneof('kind')).value
