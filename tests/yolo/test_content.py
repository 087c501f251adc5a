"""yolo_export content: boxes to the pixel, polygon masks, labels, splits and
what the report says, for every fixture layout."""

import numpy as np
import pytest

from tests.builds import all_examples, build, build_report, read_report
from tests.fixtures.writers import image_bytes, write_export
from tests.paths import DUMMY_DATA

YOLO = DUMMY_DATA / 'yolo'
H, W = 32, 40  # every fixture image


def built(tmp_path_factory, layout: str, config: str = 'default'):
  builder = build(f'yolo_export/{config}', YOLO / layout,
                  tmp_path_factory.mktemp(layout))
  report = read_report(builder)
  assert report['nothing_lost'], report
  return builder, report, all_examples(builder)


def pixels(bbox) -> list[list[float]]:
  """Relative [ymin, xmin, ymax, xmax] boxes in pixels, rounded to 1e-3."""
  return np.round(np.asarray(bbox).reshape(-1, 4) * [H, W, H, W], 3).tolist()


@pytest.fixture(scope='module')
def ultralytics(tmp_path_factory):
  return built(tmp_path_factory, 'ultralytics_dict')


def test_names_mapping_gives_the_classes_in_id_order(ultralytics):
  builder, report, _ = ultralytics
  assert builder.info.features['objects']['label'].names == ['cat', 'dog']
  assert report['class_source'] == 'data.yaml names'
  assert report['export_format'] == 'YOLO (Ultralytics data.yaml)'


def test_boxes_are_exact(ultralytics):
  ex = ultralytics[2]['images/train/a']
  assert ex['image/filename'] == b'images/train/a.jpg'
  # 0 0.5 0.5 0.5 0.5 and 1 0.25 0.25 0.25 0.25 in a 40x32 image.
  assert pixels(ex['objects']['bbox']) == [[8, 10, 24, 30], [4, 5, 12, 15]]
  assert ex['objects']['label'].tolist() == [0, 1]
  assert ex['objects']['has_mask'].tolist() == [False, False]
  assert ex['objects']['area'].tolist() == [320, 80]
  assert not ex['objects']['mask'].any()  # boxes are never masks
  seg = ex['segmentation_mask'][:, :, 0]
  assert (seg[8:24, 10:30] == 255).all()  # box only: unknown, not the class
  assert (seg == 255).sum() == 320 + 80 - 20 and (seg != 255).sum() == (
      seg == 0).sum()  # the union of the boxes (they share 5 x 4 pixels)


def test_polygon_segment_becomes_the_mask(ultralytics):
  ex = ultralytics[2]['images/train/b']
  expected = np.zeros((H, W), np.uint8)
  expected[8:24, 10:30] = 1
  np.testing.assert_array_equal(ex['objects']['mask'][0][:, :, 0], expected)
  np.testing.assert_array_equal(ex['segmentation_mask'][:, :, 0],
                                expected * 2)  # dog = label 1 + 1
  assert pixels(ex['objects']['bbox']) == [[8, 10, 24, 30]]
  assert ex['objects']['has_mask'].tolist() == [True]
  assert ex['objects']['area'].tolist() == [320]


def test_image_without_label_file_is_a_negative(ultralytics):
  ex = ultralytics[2]['images/train/c']
  assert len(ex['objects']['label']) == 0
  assert not ex['segmentation_mask'].any()


def test_split_folders_from_the_yaml(ultralytics):
  builder, report, examples = ultralytics
  assert report['split_sources'] == {
      'train': {'data.yaml train: images/train': 3},
      'validation': {'data.yaml val: images/val': 1}}
  assert pixels(examples['images/val/d']['objects']['bbox']) == [
      [0, 0, 32, 40]]
  assert report['issues'] == []
  assert builder.info.splits['validation'].num_examples == 1


def test_boxes_config_keeps_the_polygon_extent(tmp_path_factory):
  builder, _, examples = built(tmp_path_factory, 'ultralytics_dict', 'boxes')
  assert 'mask' not in builder.info.features['objects']
  ex = examples['images/train/b']
  assert pixels(ex['objects']['bbox']) == [[8, 10, 24, 30]]
  assert ex['objects']['has_mask'].tolist() == [True]


def test_list_files_names_list_and_a_foreign_path(tmp_path_factory):
  builder, report, examples = built(tmp_path_factory, 'ultralytics_list')
  assert builder.info.features['objects']['label'].names == [
      'person', 'car', 'bicycle']
  assert report['split_sources'] == {
      'train': {'data.yaml train: train.txt': 2},
      'validation': {'data.yaml val: val.txt': 1}}
  s1 = examples['images/train/s1']
  assert s1['objects']['label'].tolist() == [1, 2]
  assert pixels(s1['objects']['bbox']) == [[12, 15, 20, 25], [0, 0, 16, 20]]
  triangle = s1['objects']['mask'][1][:, :, 0]
  assert triangle[1, 1] == 1 and triangle[14, 1] == 1 and triangle[1, 17]
  assert triangle[15, 19] == 0 and triangle[20:, :].sum() == 0
  assert abs(int(triangle.sum()) - 160) <= 12  # half of 20 x 16
  assert len(examples['images/train/s2']['objects']['label']) == 0
  assert pixels(examples['images/val/s3']['objects']['bbox']) == [
      [0, 0, 16, 10]]
  assert [(i['file'], i['item'], i['action'], i['objects_lost'])
          for i in report['issues']] == [
              ('data.yaml', 'path:', 'warning', 0),
              ('images/train/extra.jpg', '', 'not included', 1)]
  assert report['issues'][0]['problem'] == (
      "dataset root '/content/datasets/street' is outside the export; the"
      ' folder of the YAML (.) is used instead')
  assert report['export'] == {'images': 4, 'objects': 4}


def test_roboflow_paths_one_level_off(tmp_path_factory):
  _, report, examples = built(tmp_path_factory, 'roboflow')
  assert report['split_sources'] == {
      'test': {'data.yaml test: ../test/images': 1},
      'train': {'data.yaml train: ../train/images': 2},
      'validation': {'data.yaml val: ../valid/images': 1}}
  assert [(i['item'], i['action']) for i in report['issues']] == [
      ('train:', 'repaired'), ('val:', 'repaired'), ('test:', 'repaired')]
  assert report['issues'][1]['problem'] == (
      "'../valid/images' is not in the export as written; read as"
      " 'valid/images' (without its leading \"../\", as Ultralytics reads"
      ' it)')
  ex = examples['valid/images/hh_003_jpg.rf.8c9d0e1f']
  assert ex['image/filename'] == b'valid/images/hh_003_jpg.rf.8c9d0e1f.jpg'
  assert pixels(ex['objects']['bbox']) == [[4, 10, 12, 30], [16, 15, 24, 25]]
  assert ex['objects']['label'].tolist() == [0, 1]
  assert report['classes'] == ['helmet', 'head']


def test_darknet_obj_data_with_data_prefix(tmp_path_factory):
  _, report, examples = built(tmp_path_factory, 'darknet')
  assert report['classes'] == ['car', 'person']
  assert report['class_source'] == 'obj.names'
  assert report['split_sources'] == {
      'train': {'train.txt (obj.data train)': 2},
      'validation': {'valid.txt (obj.data valid)': 1}}
  assert sorted(examples) == ['obj_train_data/frame_000000',
                              'obj_train_data/frame_000001',
                              'obj_valid_data/frame_000002']
  for ex in examples.values():
    assert pixels(ex['objects']['bbox']) == [[8, 0, 24, 20], [0, 25, 32, 35]]
    assert ex['objects']['label'].tolist() == [0, 1]
  assert report['issues'] == []


def test_label_studio_crlf_mixed_suffixes_and_hashed_splits(tmp_path_factory):
  _, report, examples = built(tmp_path_factory, 'labelstudio')
  assert report['split_sources'] == {'train': {'hash of the image id': 3}}
  assert sorted(ex['image/filename'].decode() for ex in examples.values()) == [
      'images/x.jpg', 'images/y.png', 'images/z.jpeg']
  assert pixels(examples['images/x']['objects']['bbox']) == [
      [8, 15, 24, 25], [0, 0, 8, 10]]
  assert examples['images/y']['objects']['label'].tolist() == [1]
  assert len(examples['images/z']['objects']['label']) == 0
  assert report['issues'] == []


def test_labelimg_labels_beside_the_images(tmp_path_factory):
  _, report, examples = built(tmp_path_factory, 'labelimg')
  assert report['classes'] == ['dog', 'person', 'cat']  # file order
  assert examples['photo1']['objects']['label'].tolist() == [2]
  assert pixels(examples['photo2']['objects']['bbox']) == [
      [4, 5, 12, 15], [20, 25, 28, 35]]
  assert report['export'] == {'images': 2, 'objects': 3}


# Layouts written in a test: variants of the fixture layouts.

def test_class_list_with_split_subfolders(tmp_path):
  export = write_export(tmp_path, {
      'classes.txt': 'cat\n', 'images/train/a.jpg': image_bytes(),
      'labels/train/a.txt': '0 0.5 0.5 0.5 0.5\n',
      'images/val/b.jpg': image_bytes(), 'images/test/c.jpg': image_bytes()})
  report, _ = build_report('yolo_export/boxes', export, tmp_path)
  assert report['split_sources'] == {'test': {'folder test/': 1},
                                     'train': {'folder train/': 1},
                                     'validation': {'folder val/': 1}}
  assert report['issues'] == []


def test_roboflow_yolo_darknet_labels_beside_images(tmp_path):
  files = {'README.roboflow.txt': 'Exported via roboflow.com\n'}
  for split in ('train', 'valid'):
    files[f'{split}/_darknet.labels'] = 'helmet\nhead\n'
    files[f'{split}/{split}1_jpg.rf.0a1b.jpg'] = image_bytes()
    files[f'{split}/{split}1_jpg.rf.0a1b.txt'] = '1 0.5 0.5 0.5 0.5\n'
  report, builder = build_report('yolo_export/boxes',
                                 write_export(tmp_path, files), tmp_path)
  assert report['classes'] == ['helmet', 'head']
  assert report['class_source'] == 'train/_darknet.labels'
  assert report['split_sources'] == {'train': {'folder train/': 1},
                                     'validation': {'folder valid/': 1}}
  assert report['issues'] == []
  assert all(ex['objects']['label'].tolist() == [1]
             for ex in all_examples(builder).values())


def test_label_file_named_like_a_readme_is_still_a_label_file(tmp_path):
  """Only README/LICENSE/... files themselves are not label files; a
  licence-plate dataset's license_plate_001.txt without its image is."""
  export = write_export(tmp_path, {
      'data.yaml': 'train: images/train\nnames: [plate]\n',
      'images/train/a.jpg': image_bytes(),
      'labels/train/a.txt': '0 0.5 0.5 0.5 0.5\n',
      'labels/train/README.dataset.txt': 'Exported via roboflow.com\n',
      'labels/train/license_plate_001.txt': '0 0.5 0.5 0.2 0.2\n'
                                            '0 0.2 0.2 0.1 0.1\n'})
  report, _ = build_report('yolo_export/boxes', export, tmp_path)
  assert [(i['file'], i['action'], i['objects_lost'])
          for i in report['issues']] == [
              ('labels/train/license_plate_001.txt', 'skipped image', 2)]
  assert report['export'] == {'images': 2, 'objects': 3}
  assert report['nothing_lost']


def test_model_yaml_beside_the_data_is_not_the_dataset_yaml(tmp_path):
  """Roboflow's YOLOv5 notebook: custom_yolov5s.yaml (nc, backbone, head)
  one level above the dataset's data.yaml, which names the classes."""
  export = write_export(tmp_path, {
      'custom_yolov5s.yaml': 'nc: 2\ndepth_multiple: 0.33\nbackbone:\n'
                             '  [[-1, 1, Focus, [64, 3]]]\nhead:\n'
                             '  [[-1, 1, Conv, [512, 1, 1]]]\n',
      'ds/data.yaml': 'train: train/images\nval: valid/images\nnc: 2\n'
                      "names: ['cat', 'dog']\n",
      'ds/train/images/a.jpg': image_bytes(),
      'ds/train/labels/a.txt': '1 0.5 0.5 0.5 0.5\n',
      'ds/valid/images/b.jpg': image_bytes(),
      'ds/valid/labels/b.txt': '0 0.5 0.5 0.5 0.5\n'})
  report, _ = build_report('yolo_export/boxes', export, tmp_path)
  assert report['classes'] == ['cat', 'dog']
  assert report['class_source'] == 'ds/data.yaml names'
  assert report['splits']['train']['objects_per_class'] == {'dog': 1}
  assert report['splits']['validation']['objects_per_class'] == {'cat': 1}


def test_yaml_in_a_subfolder_naming_paths_from_the_export_root(tmp_path):
  export = write_export(tmp_path, {
      'config/data.yaml': 'train: images/train\nnames: [cat]\n',
      'images/train/a.jpg': image_bytes(),
      'labels/train/a.txt': '0 0.5 0.5 0.5 0.5\n'})
  report, _ = build_report('yolo_export/boxes', export, tmp_path)
  assert [(i['file'], i['item'], i['action'], i['problem'])
          for i in report['issues']] == [
              ('config/data.yaml', 'train:', 'repaired',
               "'images/train' is not in the export as written; read as"
               " 'images/train', relative to the export root")]
  assert report['split_sources'] == {
      'train': {'config/data.yaml train: images/train': 1}}


def test_yaml_without_names_uses_the_class_file_or_nc(tmp_path):
  files = {'data.yaml': 'train: images\nnc: 2\n', 'classes.txt': 'cat\ndog\n',
           'images/a.jpg': image_bytes(), 'labels/a.txt': '1 0.5 0.5 0.5 0.5\n'}
  report, _ = build_report('yolo_export/boxes',
                           write_export(tmp_path / 'with', files), tmp_path)
  assert (report['classes'], report['class_source']) == (['cat', 'dog'],
                                                         'classes.txt')
  del files['classes.txt']
  report, _ = build_report('yolo_export/boxes',
                           write_export(tmp_path / 'without', files),
                           tmp_path / 'b')
  assert (report['classes'], report['class_source']) == (
      ['class_0', 'class_1'], 'data.yaml nc')
  assert report['issues'][0]['item'] == 'names:'


def test_images_differing_only_in_case_keep_their_own_label_files(tmp_path):
  """Linux tells labels/A.txt from labels/a.txt, as Ultralytics does there."""
  export = write_export(tmp_path, {
      'classes.txt': 'cat\ndog\n',
      'images/A.jpg': image_bytes(), 'labels/A.txt': '0 0.25 0.25 0.1 0.1\n',
      'images/a.jpg': image_bytes(), 'labels/a.txt': '1 0.75 0.75 0.1 0.1\n',
      'images/b.JPG': image_bytes(), 'labels/B.txt': '1 0.5 0.5 0.1 0.1\n'})
  report, builder = build_report('yolo_export/boxes', export, tmp_path)
  assert report['issues'] == []
  assert report['export'] == {'images': 3, 'objects': 3}
  found = {key: (ex['objects']['label'].tolist(),
                 np.round(ex['objects']['bbox'] * 20).tolist())
           for key, ex in all_examples(builder).items()}
  assert found == {'images/A': ([0], [[4, 4, 6, 6]]),
                   'images/a': ([1], [[14, 14, 16, 16]]),
                   'images/b': ([1], [[9, 9, 11, 11]])}  # one case: matched


def test_images_with_every_suffix_ultralytics_reads_are_not_dropped(
    tmp_path):
  """An MPO (a JPEG with more frames) is converted; a HEIC Pillow cannot
  read is skipped with its reason: neither disappears."""
  export = write_export(tmp_path, {
      'data.yaml': 'train: images/train\nnames: [cat]\n',
      'images/train/a.jpg': image_bytes(),
      'labels/train/a.txt': '0 0.5 0.5 0.5 0.5\n',
      'images/train/b.mpo': image_bytes(),
      'labels/train/b.txt': '0 0.5 0.5 0.5 0.5\n',
      'images/train/c.heic': b'\0\0\0\x18ftypheic' + bytes(64),
      'labels/train/c.txt': '0 0.5 0.5 0.5 0.5\n'})
  report, builder = build_report('yolo_export/boxes', export, tmp_path)
  assert sorted(all_examples(builder)) == ['images/train/a',
                                           'images/train/b']
  assert [(i['file'], i['action'], i['objects_lost'])
          for i in report['issues']] == [
              ('images/train/c.heic', 'skipped image', 1)]
  assert report['export'] == {'images': 3, 'objects': 3}
  assert report['nothing_lost']


def test_two_images_sharing_a_stem_are_two_examples(tmp_path):
  """a.jpg and a.png with one a.txt: Ultralytics trains on both, each with
  its objects; ids keep the suffix so neither is taken for the other."""
  export = write_export(tmp_path, {
      'data.yaml': 'train: images/train\nnames: [cat]\n',
      'images/train/a.jpg': image_bytes(),
      'images/train/a.png': image_bytes(fmt='PNG'),
      'labels/train/a.txt': '0 0.5 0.5 0.5 0.5\n',
      'images/train/b.jpg': image_bytes(),
      'labels/train/b.txt': '0 0.5 0.5 0.5 0.5\n'})
  report, builder = build_report('yolo_export/boxes', export, tmp_path)
  got = all_examples(builder)
  assert sorted(got) == ['images/train/a.jpg', 'images/train/a.png',
                         'images/train/b']
  assert all(len(ex['objects']['label']) == 1 for ex in got.values())
  assert [(i['file'], i['action']) for i in report['issues']] == [
      ('labels/train/a.txt', 'warning')]
