"""Bad and unusual image files, through a one-image VOC export."""

import io

import numpy as np
from PIL import Image
import pytest

from tests.builds import all_examples, build_report, only_issue
from tests.fixtures.writers import box_xml, good_voc, image_bytes
from tfds_builders.core.errors import ExportError


@pytest.mark.parametrize('data, problem', [
    (b'', 'image file is empty (0 bytes).'),
    (image_bytes(size=(400, 300))[:-500], 'JPEG data is corrupt or'
     ' incomplete (libjpeg: Premature end of JPEG file)'),
    (b'<html>not an image</html>', 'not a readable image'),
])
def test_broken_image_is_skipped_with_its_objects(tmp_path, data, problem):
  report, builder = build_report(
      'voc_export/boxes', good_voc(tmp_path, **{'images/a.jpg': data}),
      tmp_path)
  issue = only_issue(report)
  assert issue['action'] == 'skipped image'
  assert issue['file'] == 'images/a.jpg' and problem in issue['problem']
  assert issue['objects_lost'] == 1
  assert report['dataset_totals'] == {'images': 1, 'objects': 1}
  assert list(all_examples(builder)) == ['b']


def test_split_with_every_image_broken_is_an_error(tmp_path):
  export = good_voc(tmp_path, **{'images/a.jpg': b'', 'images/b.jpg': b'x'})
  with pytest.raises(ExportError, match=r"every one of the 2 images of split"
                     r" 'train' was skipped"):
    build_report('voc_export/boxes', export, tmp_path)


def test_missing_image_is_skipped_naming_the_annotation(tmp_path):
  export = good_voc(tmp_path, **{'images/a.jpg': None})
  report, _ = build_report('voc_export/boxes', export, tmp_path)
  issue = only_issue(report)
  assert issue == {'file': 'a.jpg', 'item': 'listed in annotations/a.xml',
                   'problem': "image file not found: looked for 'a.jpg' in"
                              ' images/, annotations/, ./ and for any image'
                              " named 'a.jpg' in the export.",
                   'fix': 'Put the image in the export or fix its file name.',
                   'action': 'skipped image', 'objects_lost': 1}


def test_grayscale_jpeg_passes_through_and_decodes_to_rgb(tmp_path):
  gray = image_bytes('L')
  report, builder = build_report(
      'voc_export/boxes', good_voc(tmp_path, **{'images/a.jpg': gray}),
      tmp_path)
  assert report['issues'] == []
  image = all_examples(builder)['a']['image']
  assert image.shape == (30, 40, 3)
  assert (image[..., 0] == image[..., 1]).all()


@pytest.mark.parametrize('mode, fmt, name', [
    ('CMYK', 'JPEG', 'a.jpg'), ('RGBA', 'PNG', 'a.png'),
    ('I;16', 'PNG', 'a.png'), ('P', 'PNG', 'a.png')])
def test_unusual_modes_are_converted_to_rgb_and_reported(tmp_path, mode, fmt,
                                                         name):
  data = image_bytes(mode, fmt=fmt)
  export = good_voc(tmp_path, **{'images/a.jpg': None, f'images/{name}': data,
                                 'annotations/a.xml': box_xml(name)})
  report, builder = build_report('voc_export/boxes', export, tmp_path)
  issue = only_issue(report)
  assert issue['action'] == 'repaired'
  assert issue['problem'] == f'converted {fmt} {mode} to 8-bit RGB PNG'
  ex = all_examples(builder)['a']
  assert ex['image'].shape == (30, 40, 3) and len(ex['objects']['bbox']) == 1
  with Image.open(io.BytesIO(data)) as source:
    expected = np.asarray(source.convert('RGB')) if mode != 'I;16' else None
  if expected is not None:
    np.testing.assert_array_equal(ex['image'], expected)


def test_exif_rotated_jpeg_is_turned_to_the_annotated_frame(tmp_path):
  im = Image.fromarray(np.random.default_rng(1).integers(
      0, 255, (30, 40, 3), dtype=np.uint8))
  exif = Image.Exif()
  exif[0x0112] = 6  # rotate 90 CW for display: shown as 30 wide, 40 high
  buffer = io.BytesIO()
  im.save(buffer, format='JPEG', exif=exif.tobytes())
  export = good_voc(tmp_path, **{
      'images/a.jpg': buffer.getvalue(),
      'annotations/a.xml': box_xml('a.jpg', size=(30, 40))})
  report, builder = build_report('voc_export/boxes', export, tmp_path)
  issue = only_issue(report)
  assert issue['action'] == 'repaired'
  assert 'EXIF orientation turns the stored 40x30 pixels' in issue['problem']
  assert all_examples(builder)['a']['image'].shape == (40, 30, 3)


def test_size_disagreeing_with_the_image_is_a_warning(tmp_path):
  export = good_voc(tmp_path, **{
      'annotations/a.xml': box_xml('a.jpg', size=(400, 300))})
  report, builder = build_report('voc_export/boxes', export, tmp_path)
  issue = only_issue(report)
  assert issue['action'] == 'warning'
  assert 'annotation says 400x300 but the image is 40x30' in issue['problem']
  assert all_examples(builder)['a']['image'].shape == (30, 40, 3)


def test_decompression_bomb_is_skipped(tmp_path, monkeypatch):
  monkeypatch.setattr(Image, 'MAX_IMAGE_PIXELS', 2000)  # b: 40x30 is fine
  export = good_voc(tmp_path, **{'images/a.jpg': image_bytes(size=(100, 80))})
  report, _ = build_report('voc_export/boxes', export, tmp_path)
  issue = only_issue(report)
  assert issue['action'] == 'skipped image'
  assert 'too large to decode safely' in issue['problem']


def test_unicode_and_spaces_in_file_names(tmp_path):
  name = 'Überweg café 1.jpg'
  export = good_voc(tmp_path, **{
      'images/a.jpg': None, f'images/{name}': image_bytes(),
      'annotations/a.xml': None,
      'annotations/Überweg café 1.xml': box_xml(name)})
  report, builder = build_report('voc_export/boxes', export, tmp_path)
  assert report['issues'] == []
  ex = all_examples(builder)['Überweg café 1']
  assert ex['image/filename'].decode() == f'images/{name}'
  assert ex['image/id'].decode() == 'Überweg café 1'


def test_strict_mode_turns_a_skip_into_an_error(tmp_path):
  import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top
  from tfds_builders.core.builder import ExportConfig  # pylint: disable=g-import-not-at-top
  export = good_voc(tmp_path, **{'images/a.jpg': b''})
  builder = tfds.builder('voc_export', data_dir=str(tmp_path / 'data'),
                         config=ExportConfig(name='strict', strict=True))
  with pytest.raises(ExportError, match=r'images/a.jpg: image file is empty'):
    builder.download_and_prepare(download_config=tfds.download.DownloadConfig(
        manual_dir=str(export)))


def _exif_jpeg(orientation: int) -> bytes:
  import io  # pylint: disable=g-import-not-at-top
  from PIL import Image  # pylint: disable=g-import-not-at-top
  pixels = np.zeros((20, 40, 3), np.uint8)
  pixels[:, :10] = 255  # a white band on the left of the stored pixels
  exif = Image.Exif()
  exif[0x0112] = orientation
  buffer = io.BytesIO()
  Image.fromarray(pixels).save(buffer, format='JPEG', quality=95, exif=exif)
  return buffer.getvalue()


def test_annotations_in_the_viewers_frame_turn_the_pixels(tmp_path):
  from tfds_builders.core import encode  # pylint: disable=g-import-not-at-top
  from tfds_builders.core.labels import ClassList  # pylint: disable=g-import-not-at-top
  from tfds_builders.core.records import ImageRecord, ObjectAnnotation  # pylint: disable=g-import-not-at-top
  path = tmp_path / 'a.jpg'
  path.write_bytes(_exif_jpeg(6))  # viewers show it turned 90 degrees right
  record = ImageRecord('a', 'a.jpg', 'a.txt', image_path=str(path),
                       exif_frame=True, objects=[ObjectAnnotation(
                           'cat', 'line 1', relative_box=(0, 0, 1, 0.25))])
  _, example, summary = encode.encode_record(
      record, 'train', ClassList(('cat',), 't'), encode.EncodeOptions())
  import io  # pylint: disable=g-import-not-at-top
  from PIL import Image  # pylint: disable=g-import-not-at-top
  with Image.open(io.BytesIO(example['image'])) as im:
    assert im.size == (20, 40)  # turned: width and height swapped
    shown = np.asarray(im.convert('L'))
  assert shown[:10].mean() > 200 and shown[12:].mean() < 60  # band on top
  assert summary.issues[0].action == 'repaired'
  assert 'EXIF orientation 6' in summary.issues[0].problem
  # The same file without exif_frame is stored as it is.
  record.exif_frame = False
  _, example, summary = encode.encode_record(
      record, 'train', ClassList(('cat',), 't'), encode.EncodeOptions())
  assert example['image'] == path.read_bytes() and not summary.issues
