"""tfds_builders.core.images: images are decoded in full before they go in."""

import io
import struct
import zlib

import numpy as np
from PIL import Image
import pytest

from tfds_builders.core import images
from tfds_builders.core.errors import SkippableError


def _encoded(mode, fmt, size=(8, 6), **save):
  buffer = io.BytesIO()
  Image.new(mode, size, 1).save(buffer, format=fmt, **save)
  return buffer.getvalue()


def _photo(fmt='JPEG', size=(64, 48)):
  rng = np.random.default_rng(0)
  buffer = io.BytesIO()
  Image.fromarray(rng.integers(0, 255, (size[1], size[0], 3), np.uint8)).save(
      buffer, format=fmt)
  return buffer.getvalue()


def test_rgb_jpeg_passes_through_byte_for_byte():
  data = _encoded('RGB', 'JPEG')
  checked = images.check_image(data, file='a.jpg')
  assert checked.encoded is data and (checked.width, checked.height) == (8, 6)
  assert checked.repair is None


@pytest.mark.parametrize('mode, fmt', [('CMYK', 'JPEG'), ('RGBA', 'PNG'),
                                       ('P', 'PNG'), ('I;16', 'PNG')])
def test_other_modes_become_rgb_png_and_are_reported(mode, fmt):
  checked = images.check_image(_encoded(mode, fmt), file='a')
  assert checked.format == 'png' and 'converted' in checked.repair
  assert Image.open(io.BytesIO(checked.encoded)).mode == 'RGB'


def _jpeg_without_scan_data():
  data = _photo()
  scan = data.index(b'\xff\xda')
  return data[:scan + 40] + b'\xff\xd9'  # header and EOI, no pixels


def _png_with_broken_idat(fix_crc: bool):
  data = bytearray(_photo('PNG'))
  at = data.index(b'IDAT')
  length = struct.unpack('>I', data[at - 4:at])[0]
  data[at + 60:at + 70] = b'\0' * 10
  if fix_crc:
    body = bytes(data[at + 4:at + 4 + length])
    data[at + 4 + length:at + 8 + length] = struct.pack(
        '>I', zlib.crc32(b'IDAT' + body))
  return bytes(data)


@pytest.mark.parametrize('data, problem', [
    (b'', 'empty'),
    (b'not an image at all', 'not a readable image'),
    (_encoded('RGB', 'JPEG', size=(256, 256))[:-40], 'corrupt or incomplete'),
    (_jpeg_without_scan_data(), 'corrupt or incomplete'),
    (_png_with_broken_idat(fix_crc=True), 'does not decode'),
    (_photo('PNG')[:-20], 'truncated'),
])
def test_broken_images_are_skippable(data, problem):
  with pytest.raises(SkippableError, match=problem):
    images.check_image(data, file='a.jpg')


def test_png_with_a_bad_crc_but_good_pixels_is_re_encoded():
  data = bytearray(_photo('PNG'))
  at = data.index(b'IDAT')
  length = struct.unpack('>I', data[at - 4:at])[0]
  data[at + 4 + length] ^= 0xFF  # the CRC only
  checked = images.check_image(bytes(data), file='a.png')
  assert 'checksums fail' in checked.repair
  with Image.open(io.BytesIO(checked.encoded)) as im:
    np.testing.assert_array_equal(
        np.asarray(im), np.asarray(Image.open(io.BytesIO(_photo('PNG')))))


def test_png_with_bytes_after_its_end_is_kept_without_them():
  png = _photo('PNG')
  checked = images.check_image(png + b'X' * 100, file='a.png')
  assert checked.encoded == png
  assert checked.repair == '100 byte(s) after the end of the PNG were dropped'
  with pytest.raises(SkippableError, match='no IEND chunk'):
    images.check_image(png[:-12], file='a.png')


def test_decompression_bombs_are_refused_before_decoding(monkeypatch):
  monkeypatch.setattr(images, 'MAX_IMAGE_PIXELS', 100)
  with pytest.raises(SkippableError, match='too large to decode safely'):
    images.open_image(_encoded('L', 'PNG', size=(20, 20)), file='m.png',
                      what='mask')
