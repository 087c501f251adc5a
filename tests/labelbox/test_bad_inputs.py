"""Bad and hostile Labelbox exports, with exact outcomes.

NDJSON lines, numbers, keys used as file names, media that are missing or
not images, and the legacy TFRecord export's files and class maps. (Servers
that are slow, drip or stream forever: test_media.py.)
"""

import json
import math
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow_datasets as tfds

from tests.builds import (CHILD_PEAK_RSS_KIB, all_examples, build,
                          build_report, only_issue)
from tests.fixtures.labelbox import legacy_record, png
from tests.fixtures.writers import (image_bytes, jpeg, write_export,
                                    write_records)
from tests.http_server import serve
from tfds_builders.core.errors import ExportError
from tfds_builders.labelbox.builder import LabelboxConfig

BOX = {'name': 'car', 'bounding_box': {'top': 2, 'left': 3, 'height': 10,
                                       'width': 12}}


def row(row_id: str, objects, *, width=40, height=30, global_key=None,
        external_id=None, url=None, mime='image/jpeg') -> str:
  return json.dumps({
      'data_row': {'id': row_id, 'global_key': global_key or f'{row_id}.jpg',
                   'external_id': external_id, 'row_data': url},
      'media_attributes': {'width': width, 'height': height,
                           'mime_type': mime},
      'projects': {'p': {'labels': [{'annotations': {'objects': objects}}]}}})


def ndjson_export(tmp_path, lines, images=('a', 'b')):
  files = {f'images/{name}.jpg': image_bytes() for name in images}
  files['export.ndjson'] = '\n'.join(lines) + '\n'
  return write_export(tmp_path, files)


def entries(report: dict) -> list[tuple]:
  return [(i['file'], i['item'], i['problem'], i['action'], i['objects_lost'])
          for i in report['issues']]


# NDJSON lines.


def test_broken_line_is_an_error_with_its_line_number(tmp_path):
  export = ndjson_export(tmp_path, [row('a', [BOX]), '{"data_row": [1,'])
  with pytest.raises(ExportError) as raised:
    build('labelbox_export', export, tmp_path / 'data')
  assert str(raised.value) == (
      'export.ndjson: line 2: not valid JSON (Expecting value at line 1,'
      ' column 17, byte 16). Fix: Re-download the export: every line must be'
      ' one JSON object, and an export cut short ends in a broken line.')


def test_line_that_is_not_utf8_is_an_error_naming_it(tmp_path):
  export = ndjson_export(tmp_path, [row('a', [BOX])])
  with open(export / 'export.ndjson', 'ab') as f:
    f.write(row('b', [BOX]).replace('car', 'caf\xe9').encode('latin-1'))
  with pytest.raises(ExportError) as raised:
    build('labelbox_export', export, tmp_path / 'data')
  assert (raised.value.file, raised.value.item) == ('export.ndjson', 'line 2')
  assert raised.value.problem == 'JSON is not UTF-8 text (invalid' \
      ' continuation byte at byte 236).'


def test_byte_order_mark_and_crlf_lines_are_read(tmp_path):
  export = ndjson_export(tmp_path, [])
  (export / 'export.ndjson').write_bytes(
      b'\xef\xbb\xbf' + f'{row("a", [BOX])}\r\n{row("b", [BOX])}\r\n'.encode())
  report, builder = build_report('labelbox_export/boxes', export, tmp_path)
  assert report['issues'] == [] and sorted(all_examples(builder)) == ['a', 'b']


# Numbers: through core.values; a bad one skips its object.


@pytest.mark.parametrize('obj, problem', [
    ({'bounding_box': {'top': math.nan, 'left': 3, 'height': 10,
                       'width': 12}}, 'bounding_box.top nan is not finite.'),
    ({'bounding_box': {'top': 2, 'left': math.inf, 'height': 10,
                       'width': 12}}, 'bounding_box.left inf is not finite.'),
    ({'bounding_box': {'top': 2, 'left': 3, 'height': 10, 'width': 1e300}},
     'bounding_box.width 1e+300 is beyond 1e+07.'),
    ({'bounding_box': {'top': 2, 'left': 3, 'height': '10', 'width': 12}},
     "bounding_box.height '10' is a str, not a number."),
    ({'bounding_box': {'left': 3, 'height': 10, 'width': 12}},
     'bounding_box.top is missing.'),
    ({'bounding_box': [2, 3, 10, 12]},
     'bounding_box is not an object with top, left, height and width.'),
    ({'polygon': [{'x': 1, 'y': 1}, {'x': math.nan, 'y': 9}, {'x': 9, 'y': 1}]},
     'polygon[1].x nan is not finite.'),
    ({'polygon': 'M 1 1 L 9 9'}, 'polygon is not a list of points.'),
    ({'composite_mask': {'url': 'https://x.invalid/masks/c1/index/1',
                         'color_rgb': [300, 0, 0]}},
     'composite_mask.color_rgb[0] 300 is outside 0..255.'),
    ({'composite_mask': {'url': 'https://x.invalid/masks/c1/index/1',
                         'color_rgb': '#ff0000'}},
     'composite_mask.color_rgb #ff0000 is not [red, green, blue].'),
    # Each object of a composite mask is its colour: no colour, no mask
    # (not the whole composite, which held every object).
    ({'composite_mask': {'url': 'https://x.invalid/masks/c1/index/1'}},
     'composite_mask.color_rgb is missing, so which pixels of the shared'
     ' composite mask are this object is not known.'),
])
def test_bad_numbers_skip_their_object(tmp_path, obj, problem):
  export = ndjson_export(tmp_path, [row('a', [BOX, {'name': 'car', **obj}]),
                                    row('b', [BOX])])
  report, builder = build_report('labelbox_export/boxes', export, tmp_path)
  assert entries(report) == [('export.ndjson', 'line 1 (data row a): object'
                              ' #2 (car)', problem, 'skipped object', 1)]
  assert len(all_examples(builder)['a']['objects']['label']) == 1


def test_box_far_outside_the_image_is_skipped_by_the_encoder(tmp_path):
  far = {'name': 'car', 'bounding_box': {'top': 5e6, 'left': 3, 'height': 10,
                                         'width': 12}}
  export = ndjson_export(tmp_path, [row('a', [BOX, far]), row('b', [BOX])])
  report, _ = build_report('labelbox_export/boxes', export, tmp_path)
  assert entries(report) == [(
      'export.ndjson', 'line 1 (data row a): object #2 (car)',
      'box [3, 5e+06, 15, 5.00001e+06] lies entirely outside the 40x30'
      ' image.',
      'skipped object', 1)]


def test_bad_media_attributes_are_warned_and_the_image_wins(tmp_path):
  export = ndjson_export(tmp_path, [row('a', [BOX], width='wide'),
                                    row('b', [BOX], width=400, height=300)])
  report, builder = build_report('labelbox_export/boxes', export, tmp_path)
  assert entries(report) == [
      ('export.ndjson', 'line 1 (data row a)', "media_attributes width 'wide'"
       ' is a str, not a number.', 'warning', 0),
      ('export.ndjson', 'image size (b)', 'annotation says 400x300 but the'
       ' image is 40x30; the image size is used', 'warning', 0)]
  assert all_examples(builder)['b']['image'].shape == (30, 40, 3)


def test_object_with_no_geometry_is_a_reported_skip(tmp_path):
  export = ndjson_export(tmp_path, [
      row('a', [BOX, {'name': 'car', 'feature_id': 'f2'}]), row('b', [BOX])])
  report, builder = build_report('labelbox_export/boxes', export, tmp_path)
  issue = only_issue(report)
  assert issue['action'] == 'skipped object' and issue['objects_lost'] == 1
  assert issue['item'] == 'line 1 (data row a): object #2 (car)'
  assert issue['problem'] == 'an unknown geometry has no box or mask.'
  assert len(all_examples(builder)['a']['objects']['label']) == 1


# Keys used as file names: never outside the export.


@pytest.mark.parametrize('key', [
    '../../secret.jpg', '/etc/passwd', 'C:\\Users\\me\\secret.jpg',
    '~/secret.jpg', 'secret\x00.jpg'])
def test_hostile_keys_are_never_looked_up(tmp_path, key):
  """An external id or global key that is not a relative file name is not
  looked up (the labeller's own path, or an attack); the data row id and
  the URL still are, and a file outside the export is never read."""
  (tmp_path / 'secret.jpg').write_bytes(jpeg(40, 30, 99))
  export = ndjson_export(tmp_path, [
      row('a', [BOX], global_key=key, external_id=key),
      row('b', [BOX], global_key=key)], images=('a',))
  report, builder = build_report('labelbox_export/boxes', export, tmp_path)
  assert list(all_examples(builder)) == ['a']  # by its data row id
  assert entries(report) == [(
      key, 'listed in export.ndjson',
      'image file not found: looked for b.(jpg|jpeg|png|webp|bmp|tif|tiff) in'
      f' images/, ./ (not for {key!r}, which is not a relative file name);'
      ' the export gives no URL.', 'skipped image', 1)]


def test_v1_row_with_skipped_true_is_reported_not_an_error(tmp_path):
  rows = [{'ID': 'l1', 'DataRow ID': 'a', 'External ID': 'a.jpg',
           'Labeled Data': None, 'Skipped': False,
           'Label': {'objects': [{'title': 'car', 'value': 'car',
                                  'bbox': {'top': 2, 'left': 3, 'height': 10,
                                           'width': 12}}]}},
          {'ID': 'l2', 'DataRow ID': 'b', 'External ID': 'b.jpg',
           'Labeled Data': None, 'Skipped': True, 'Label': {}}]
  export = write_export(tmp_path, {'images/a.jpg': image_bytes(),
                                   'images/b.jpg': image_bytes(),
                                   'export.json': json.dumps(rows)})
  report, builder = build_report('labelbox_export/boxes', export, tmp_path)
  # b.jpg is the skipped row's image: accounted for with its row, once.
  assert entries(report) == [('export.json', 'row #2 (data row b)',
                              'data row was skipped in Labelbox',
                              'not included', 0)]
  assert list(all_examples(builder)) == ['a']


def test_v2_skipped_flag_is_read_as_a_flag_not_as_truthiness(tmp_path):
  """`"skipped": "false"` keeps the label (bool("false") is True); a value
  that is no flag skips the row with the reason, never silently."""
  def with_skipped(row_id, value):
    data = json.loads(row(row_id, [BOX]))
    data['projects']['p']['labels'][0]['performance_details'] = {
        'skipped': value}
    return json.dumps(data)
  export = ndjson_export(tmp_path, [
      with_skipped('a', 'false'), with_skipped('b', 'TRUE'),
      with_skipped('c', 'maybe')], images=('a', 'b', 'c'))
  report, builder = build_report('labelbox_export/boxes', export, tmp_path)
  assert entries(report) == [
      ('export.ndjson', 'line 2 (data row b)',
       'every label of the data row is marked skipped', 'skipped image', 1),
      ('export.ndjson', 'line 3 (data row c)',
       "label 1: performance_details.skipped 'maybe' is not 0/1 or"
       ' true/false.', 'skipped image', 1)]
  assert list(all_examples(builder)) == ['a']


# Media that are missing or not images.


def test_one_local_file_found_for_two_data_rows_is_warned(tmp_path):
  """Only images/0001.jpg is there; cam1/0001.jpg and cam2/0001.jpg both
  find it by the URL's last component: both use it, and it is said."""
  lines = [row(f'r{cam}', [BOX], external_id=f'cam{cam}/0001.jpg',
               url=f'https://x.invalid/cam{cam}/0001.jpg') for cam in (1, 2)]
  export = ndjson_export(tmp_path, lines, images=())
  (export / 'images').mkdir()
  (export / 'images' / '0001.jpg').write_bytes(image_bytes(size=(40, 30)))
  report, builder = build_report('labelbox_export/boxes', export, tmp_path)
  assert entries(report) == [(
      'images/0001.jpg', 'named in export.ndjson', 'is the local file of two'
      " data rows (as 'r1.jpg' and as 'r2.jpg'); both use it, though they may"
      ' be two images of one name', 'warning', 0)]
  assert sorted(all_examples(builder)) == ['r1', 'r2']




def test_mask_url_answering_404_is_reported(tmp_path):
  (tmp_path / 'remote').mkdir()
  with serve(tmp_path / 'remote') as (base, seen):
    mask = {'name': 'car', 'feature_id': 'gone',
            'mask': {'url': f'{base}/masks/gone.png'}}
    export = ndjson_export(tmp_path, [row('a', [BOX, mask]),
                                      row('b', [BOX])])
    report, _ = build_report('labelbox_export', export, tmp_path)
  assert [path for path, _ in seen] == ['/masks/gone.png']
  assert entries(report) == [(
      'export.ndjson', 'line 1 (data row a): object #2 (car)',
      'mask not found: looked for gone.(jpg|jpeg|png|webp|bmp|tif|tiff) in'
      ' masks/, ./; download of'
      f' {base}/masks/gone.png failed (HTTP 404)', 'skipped object', 1)]


def test_media_that_are_not_images(tmp_path):
  export = ndjson_export(tmp_path, [
      row('a', [BOX]), row('b', [BOX]), row('v', [BOX], mime='video/mp4'),
      row('t', [], mime='text/plain')])
  (export / 'images' / 'b.jpg').write_text('<html>Link expired</html>')
  report, builder = build_report('labelbox_export/boxes', export, tmp_path)
  assert list(all_examples(builder)) == ['a']
  found = entries(report)
  assert found[:2] == [
      ('export.ndjson', 'line 3 (data row v)', 'data row is video/mp4, not an'
       ' image', 'skipped image', 1),
      ('export.ndjson', 'line 4 (data row t)', 'data row is text/plain, not'
       ' an image', 'not included', 0)]
  [(file, item, problem, action, lost)] = found[2:]
  assert (file, item, action, lost) == ('images/b.jpg', '', 'skipped image',
                                        1)
  # (Pillow's message names an object address, so only its start is fixed.)
  assert problem.startswith('not a readable image (cannot identify image'
                            ' file'), problem


def test_export_without_any_of_its_images_says_no_media_found(tmp_path):
  export = ndjson_export(tmp_path, [row('a', [BOX]), row('b', [BOX])],
                         images=())
  with pytest.raises(ExportError) as raised:
    build('labelbox_export', export, tmp_path / 'data')
  assert raised.value.file == 'export.ndjson'
  assert raised.value.problem == (
      "no media found: none of the 2 images the annotations name is in the"
      " export (the first, 'a.jpg': looked for"
      ' a.(jpg|jpeg|png|webp|bmp|tif|tiff) in images/, ./; the export gives'
      ' no URL).')


def test_images_no_row_names_are_reported(tmp_path):
  export = ndjson_export(tmp_path, [row('a', [BOX])], images=('a', 'stray'))
  report, _ = build_report('labelbox_export/boxes', export, tmp_path)
  assert entries(report) == [(
      'images/stray.jpg', '', 'no data row names this file (by global key,'
      ' external id or data row id) and no object names it as its mask',
      'not included', 0)]


# The legacy TFRecord export.


def _legacy_export(tmp_path, records, paths=('labels.tfrecord',)):
  export = tmp_path / 'export'
  write_records(export / 'labels.tfrecord', records)
  (export / 'export.json').write_text(json.dumps({
      'tfrecord_paths': list(paths), 'legend': {'car': 100}}))
  return export


def test_tfrecord_file_symlinked_out_of_the_export_is_not_read(tmp_path):
  outside = tmp_path / 'elsewhere.tfrecord'
  seg = np.zeros((30, 40), np.uint8)
  seg[2:9, 3:9] = 100
  write_records(outside, [legacy_record('cx', 'x.jpg', jpeg(40, 30, 1),
                                        png(seg, 'L'))])
  export = _legacy_export(tmp_path, [], paths=['linked.tfrecord'])
  os.symlink(outside, export / 'linked.tfrecord')
  with pytest.raises(ExportError) as raised:
    build('labelbox_export', export, tmp_path / 'data')
  assert (raised.value.file, raised.value.item) == ('export.json',
                                                     'tfrecord_paths')
  assert raised.value.problem == (
      f"path 'linked.tfrecord' leads outside the export folder (to"
      f' {outside}).')


def _speckles() -> np.ndarray:
  """420x420 with 44,100 isolated car pixels: 44,100 objects."""
  seg = np.zeros((420, 420), np.uint8)
  seg[::2, ::2] = 100
  return seg


def _speckled_export(tmp_path):
  plain = np.zeros((30, 40), np.uint8)
  plain[2:9, 3:9] = 100
  return _legacy_export(tmp_path, [
      legacy_record('cplain', 'plain.jpg', jpeg(40, 30, 1), png(plain, 'L')),
      legacy_record('cspeckled', 'speckled.jpg', jpeg(420, 420, 2),
                    png(_speckles(), 'L'), width=420, height=420)])


def test_44100_regions_are_refused_by_the_instance_mask_cap(tmp_path):
  """Instance masks of 44,100 objects of 420x420 would be 7.8e9 pixels: the
  default config refuses the image with its objects, in the report."""
  export = _speckled_export(tmp_path)
  builder = tfds.builder('labelbox_export', data_dir=str(tmp_path / 'data'),
                         config=LabelboxConfig(name='one_split',
                                               test_fraction=0.0))
  builder.download_and_prepare(download_config=tfds.download.DownloadConfig(
      manual_dir=str(export)))
  report = json.loads((builder.data_path / 'build_report.json').read_text())
  assert report['nothing_lost']
  assert report['export'] == {'images': 2, 'objects': 44_101}
  assert report['dataset_totals'] == {'images': 1, 'objects': 1}
  assert entries(report) == [(
      'speckled.jpg', '', 'its 44100 instance masks of 420x420 would hold'
      ' 7,779,240,000 pixels, more than max_instance_mask_pixels'
      ' (2,147,483,648).', 'skipped image', 44_100)]


def test_44100_regions_build_in_bounded_memory_without_masks(tmp_path):
  """The `boxes` config keeps all 44,100 objects; each region's mask is
  cropped (1x1 here), so peak memory stays near that of TensorFlow itself."""
  export = _speckled_export(tmp_path)
  script = textwrap.dedent(f"""
      import json
      import tensorflow_datasets as tfds
      from tfds_builders.labelbox.builder import LabelboxConfig
      builder = tfds.builder('labelbox_export', data_dir={str(tmp_path)!r},
                             config=LabelboxConfig(name='boxes_one_split',
                                 instance_masks=False, test_fraction=0.0))
      builder.download_and_prepare(download_config=tfds.download.
          DownloadConfig(manual_dir={str(export)!r}))
      report = json.loads((builder.data_path / 'build_report.json')
                          .read_text())
      print(json.dumps([report['dataset_totals'], report['nothing_lost'],
                        {CHILD_PEAK_RSS_KIB}]))
      """)
  result = subprocess.run([sys.executable, '-c', script], capture_output=True,
                          text=True, timeout=600, check=False)
  assert result.returncode == 0, result.stderr[-3000:]
  totals, nothing_lost, peak_kib = json.loads(
      result.stdout.strip().splitlines()[-1])
  assert totals == {'images': 2, 'objects': 44_101} and nothing_lost
  assert peak_kib < 1.5 * 2**20, f'peak RSS {peak_kib / 2**20:.2f} GiB'
