"""Bad and hostile COCO files and paths: JSON that is deep, huge, not UTF-8
or not COCO; file names leaving the export; symlinks and folders where
annotation files belong. Each judged by the exact error or report entry; the
200,000-deep JSON is built by the real `tfds build` in a subprocess."""

import json

import pytest

from tests.builds import all_examples, build, build_report, tfds_build
from tests.fixtures.coco import SMALL_ANNOTATIONS as ANNOTATIONS
from tests.fixtures.coco import annotation, small_export
from tests.fixtures.writers import image_bytes, write_export
from tfds_builders.core.errors import ExportError


def test_json_nested_200000_deep_is_an_error_not_a_crash(tmp_path):
  export = small_export(tmp_path, raw='{"images": ' + '[' * 200_000
                        + ']' * 200_000 + '}')
  result = tfds_build('coco_export', export, tmp_path / 'data', check=False)
  assert result.returncode == 1, result.stderr[-2000:]
  assert (f'ExportError: {ANNOTATIONS}: JSON is nested too deeply'
          in result.stderr)


def test_integer_too_long_for_python_is_an_error_naming_the_file(tmp_path):
  export = small_export(tmp_path, raw='{"images": [], "annotations": [{"id": 1'
                + '0' * 5000 + '}], "categories": []}')
  with pytest.raises(ExportError, match=f'^{ANNOTATIONS}: JSON holds a value'
                     ' Python refuses'):
    build('coco_export', export, tmp_path / 'data')


def test_json_that_is_not_utf8_is_an_error_naming_the_byte(tmp_path):
  text = json.dumps({'images': [], 'annotations': [], 'categories': [
      {'id': 1, 'name': 'caf\u00e9'}]})
  data = text.replace('\\u00e9', '\u00e9').encode('latin-1')
  export = small_export(tmp_path, raw=data)
  with pytest.raises(ExportError, match=f'^{ANNOTATIONS}: JSON is not UTF-8'
                     r' text \(invalid continuation byte at byte'
                     f' {data.index(0xe9)}\\)'):
    build('coco_export', export, tmp_path / 'data')


def test_json_with_a_utf8_bom_is_read(tmp_path):
  data = {'images': [{'id': 1, 'file_name': 'a.jpg'}],
          'annotations': [annotation(7)],
          'categories': [{'id': 1, 'name': 'k\u00e4fer'}]}
  export = small_export(tmp_path, raw=b'\xef\xbb\xbf' + json.dumps(
      data, ensure_ascii=False).encode('utf-8'))
  report, builder = build_report('coco_export/boxes', export, tmp_path)
  assert builder.info.features['objects']['label'].names == ['k\u00e4fer']
  assert report['dataset_totals'] == {'images': 1, 'objects': 1}


def test_valid_json_that_is_not_small_export(tmp_path):
  export = small_export(tmp_path, raw={'hello': 'world'})
  with pytest.raises(ExportError, match=f'no COCO instance file found:'
                     f' {ANNOTATIONS}: not an instance file'):
    build('coco_export', export, tmp_path / 'data')


def test_json_syntax_error_names_line_and_column(tmp_path):
  export = write_export(tmp_path, {'images/a.jpg': image_bytes(),
                                   'instances.json': '{"images": [1,\n}'})
  with pytest.raises(ExportError, match=r'instances.json.*line 2'):
    build('coco_export', export, tmp_path / 'data')


@pytest.mark.parametrize('file_name, problem', [
    ('../../outside.jpg', 'climbs out of the export folder'),
    ('images/../../outside.jpg', 'climbs out of the export folder'),
    # Absolute: only an image of that name in the export would be used.
    ('/etc/hosts', 'is absolute'),
    ('C:\\images\\outside.jpg', 'is absolute'),
    ('a.jpg\0.png', 'contains a NUL byte')])
def test_file_name_leaving_the_export_is_a_skipped_image(tmp_path, file_name,
                                                         problem):
  """Never opened; its image is skipped with its objects, not the build.
  (An absolute path naming an image of the export: tests/core/test_lookup.)
  """
  (tmp_path / 'outside.jpg').write_bytes(image_bytes(size=(50, 50)))
  images = [{'id': 1, 'file_name': file_name, 'width': 40, 'height': 30},
            {'id': 2, 'file_name': 'b.jpg', 'width': 40, 'height': 30}]
  export = small_export(tmp_path, [annotation(7), annotation(8, image_id=2)],
                        images=images)
  report, builder = build_report('coco_export/boxes', export, tmp_path)
  skipped = [i for i in report['issues'] if i['action'] == 'skipped image']
  assert [(i['file'], i['item'], i['objects_lost']) for i in skipped] == [
      (file_name, f'listed in {ANNOTATIONS}', 1)]
  assert problem in skipped[0]['problem']
  assert [ex['image/filename'] for ex in all_examples(builder).values()
          ] == [b'images/b.jpg']


def test_image_symlinked_out_of_the_export_is_not_read(tmp_path):
  (tmp_path / 'secret.jpg').write_bytes(image_bytes(size=(50, 50)))
  export = small_export(tmp_path, [annotation(7), annotation(8, image_id=2)])
  (export / 'images' / 'b.jpg').unlink()
  (export / 'images' / 'b.jpg').symlink_to(tmp_path / 'secret.jpg')
  report, builder = build_report('coco_export/boxes', export, tmp_path)
  refused, skipped = report['issues']
  assert (refused['file'], refused['action']) == ('images/b.jpg',
                                                  'not included')
  assert 'symlink leading outside the export' in refused['problem']
  assert (skipped['file'], skipped['item'], skipped['action'],
          skipped['objects_lost']) == (
              'b.jpg', f'listed in {ANNOTATIONS}', 'skipped image', 1)
  assert list(all_examples(builder)) == ['1']


def test_annotation_file_symlinked_out_is_not_read(tmp_path):
  outside = tmp_path / 'outside.json'
  outside.write_text(json.dumps({
      'images': [{'id': 5, 'file_name': 'a.jpg'}],
      'annotations': [annotation(1, image_id=5, category_id=3)],
      'categories': [{'id': 3, 'name': 'dragon'}]}))
  export = small_export(tmp_path, [annotation(7)])
  (export / 'annotations' / 'instances_val.json').symlink_to(outside)
  report, builder = build_report('coco_export/boxes', export, tmp_path)
  assert builder.info.features['objects']['label'].names == ['cat']
  issue = report['issues'][0]
  assert (issue['file'], issue['action']) == (
      'annotations/instances_val.json', 'not included')
  assert 'symlink leading outside the export' in issue['problem']
  assert 'dragon' not in json.dumps(report)
  assert list(builder.info.splits) == ['train']


def test_only_annotation_file_symlinked_out_is_an_error_saying_so(tmp_path):
  (tmp_path / 'outside.json').write_text('{}')
  export = write_export(tmp_path, {'images/a.jpg': image_bytes()})
  (export / 'instances.json').symlink_to(tmp_path / 'outside.json')
  with pytest.raises(ExportError, match=r'no readable \*.json file in the'
                     r' export. instances.json: symlink leading outside'):
    build('coco_export', export, tmp_path / 'data')


def test_folder_named_like_an_annotation_file(tmp_path):
  export = small_export(tmp_path, [annotation(7)])
  (export / 'annotations' / 'instances_val.json').mkdir()
  (export / 'annotations' / 'instances_val.json' / 'notes.txt').write_text(
      'x')
  report, _ = build_report('coco_export/boxes', export, tmp_path)
  assert [(i['file'], i['problem'], i['action']) for i in report['issues']
          ] == [('annotations/instances_val.json', 'a folder named like a'
                 ' JSON file; not read', 'not included')]


def test_empty_folder_named_like_the_only_annotation_file(tmp_path):
  export = write_export(tmp_path, {'images/a.jpg': image_bytes()})
  (export / 'instances.json').mkdir()  # what `docker -v` makes of a typo
  with pytest.raises(ExportError, match=r'no readable \*.json file'):
    build('coco_export', export, tmp_path / 'data')


def test_missing_images_everywhere_is_no_media_found(tmp_path):
  export = small_export(tmp_path, [annotation(7)])
  for name in ('a.jpg', 'b.jpg'):
    (export / 'images' / name).unlink()
  with pytest.raises(ExportError, match='no media found: none of the 2'
                     " images the annotations name is in the export"):
    build('coco_export', export, tmp_path / 'data')


def test_a_copy_of_an_instance_file_puts_its_images_in_two_splits_warned(
    tmp_path):
  """instances_default.json and a backup instances_default_old.json: two
  subsets of the same photos, so a model would be tested on what it trained
  on. Both are kept as the export says, and the overlap is warned."""
  coco = json.dumps({
      'images': [{'id': 1, 'file_name': 'a.jpg', 'width': 40, 'height': 30}],
      'annotations': [annotation(1)],
      'categories': [{'id': 1, 'name': 'cat'}]})
  export = write_export(tmp_path, {
      'images/a.jpg': image_bytes(),
      'annotations/instances_default.json': coco,
      'annotations/instances_default_old.json': coco})
  report, _ = build_report('coco_export/boxes', export, tmp_path)
  assert [(i['file'], i['item'], i['action']) for i in report['issues']] == [
      ('annotations/instances_default_old.json', "image 'default_old/1'",
       'warning')]
  assert report['issues'][0]['problem'] == (
      "is the image file of 'default/1' (annotations/instances_default.json)"
      " too, which is in split 'default'; it is in both 'default_old' and"
      " 'default'")
