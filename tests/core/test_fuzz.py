"""Property-based fuzzing of the shared layer: numbers, polygons, RLE, masks,
text, TFRecord framing and images. Every input gives a value or our
SkippableError/ExportError, never another exception (and never a crash).

`FUZZ_EXAMPLES=2000 bash scripts/test.sh -k fuzz` runs a longer budget.
"""

from __future__ import annotations

import io
import struct
import tempfile

from hypothesis import given, strategies as st
import numpy as np
from PIL import Image

from tests.fixtures.writers import image_bytes
from tests.fuzzing import FUZZ
from tfds_builders.core import (exportfs, images, mask_files, masks,
                                tfrecords, values)
from tfds_builders.core.errors import ExportError, SkippableError
from tfds_builders.core.labels import ClassList

NUMBERS = (st.text(max_size=12) | st.integers() | st.floats(
    allow_nan=True, allow_infinity=True) | st.booleans() | st.none() |
           st.lists(st.integers(), max_size=2))


@FUZZ
@given(NUMBERS, st.booleans())
def test_numbers(value, text):
  try:
    result = values.number(value, 'x', text=text)
  except values.BadValue:
    return
  assert isinstance(result, float) and np.isfinite(result)
  assert abs(result) <= values.MAX_ABS_COORDINATE


@FUZZ
@given(NUMBERS, st.booleans())
def test_integers_and_flags(value, text):
  try:
    result = values.integer(value, 'x', text=text)
    assert isinstance(result, int) and 0 <= result <= values.MAX_IMAGE_SIDE
  except values.BadValue:
    pass
  try:
    assert values.flag(value, 'x', text=text) in (True, False)
  except values.BadValue:
    pass


POLYGON = st.lists(st.floats(allow_nan=True, allow_infinity=True,
                             width=64) | st.integers(-10**15, 10**15),
                   max_size=14)


@FUZZ
@given(st.lists(POLYGON, min_size=1, max_size=3), st.integers(1, 64),
       st.integers(1, 64))
def test_polygons(parts, width, height):
  try:
    checked = [values.check_coordinates(p, width, height, 'polygon')
               for p in parts]
  except values.BadValue:
    return
  mask = masks.rasterize_polygons([c.tolist() for c in checked if c.size >= 6],
                                  height, width)
  full = mask.full(height, width)
  assert full.shape == (height, width) and set(np.unique(full)) <= {0, 1}


@FUZZ
@given(st.binary(max_size=40), st.integers(1, 12), st.integers(1, 12))
def test_compressed_rle_strings(data, height, width):
  try:
    mask = masks.decode_coco_segmentation(
        {'size': [height, width], 'counts': data.decode('latin-1')}, height,
        width, file='f', item='a')
  except SkippableError:
    return
  full = mask.full(height, width)
  assert full.shape == (height, width) and set(np.unique(full)) <= {0, 1}


@FUZZ
@given(st.lists(st.integers(-3, 40) | st.text(max_size=2), max_size=8),
       st.integers(1, 8), st.integers(1, 8))
def test_uncompressed_rle(counts, height, width):
  try:
    mask = masks.decode_coco_segmentation(
        {'size': [height, width], 'counts': counts}, height, width, file='f',
        item='a')
  except SkippableError:
    return
  # Counts that pass cover the image exactly: no uninitialised memory.
  assert sum(counts) == height * width
  assert mask.area == sum(counts[1::2])


def _png(array: np.ndarray, mode: str) -> bytes:
  buffer = io.BytesIO()
  im = Image.fromarray(array.astype(np.uint8))
  (im.convert('P') if mode == 'P' else im).save(buffer, format='PNG')
  return buffer.getvalue()


@FUZZ
@given(st.lists(st.integers(0, 255), min_size=12, max_size=12),
       st.sampled_from(['P', 'L', 'RGB']), st.binary(max_size=30))
def test_semantic_masks(pixels, mode, junk):
  array = np.array(pixels, np.uint8).reshape(3, 4)
  if mode == 'RGB':
    array = np.stack([array] * 3, -1)
  classes = ClassList(('cat', 'dog'), 'labels.txt')
  value_map = mask_files.ValueMap.from_list(['cat', 'dog'], 'labels.txt')
  for data in (_png(array, mode), junk, _png(array, mode)[:-13] + junk):
    try:
      result = mask_files.read_semantic_mask(data, value_map, classes,
                                             file='m.png', height=3, width=4)
    except SkippableError:
      continue
    assert set(np.unique(result)) <= {0, 1, 2, 255}


@FUZZ
@given(st.binary(max_size=60))
def test_text_decoding(data):
  text, warning = exportfs.decode_text(data, file='labels.txt')
  assert isinstance(text, str)
  if warning:
    assert 'not UTF-8' in warning


@FUZZ
@given(st.binary(max_size=80))
def test_json(data):
  try:
    exportfs.parse_json(data, file='a.json')
  except ExportError:
    pass


def _frame(payload: bytes) -> bytes:
  length = struct.pack('<Q', len(payload))
  return (length + struct.pack('<I', tfrecords.masked_crc32c(length)) +
          payload + struct.pack('<I', tfrecords.masked_crc32c(payload)))


@FUZZ
@given(st.lists(st.binary(max_size=20), max_size=3), st.integers(0, 60),
       st.binary(max_size=12))
def test_tfrecord_framing(payloads, cut, noise):
  data = b''.join(_frame(p) for p in payloads)
  damaged = data[:cut] + noise + data[cut + len(noise):]
  with tempfile.NamedTemporaryFile(suffix='.tfrecord') as f:
    f.write(damaged)
    f.flush()
    try:
      records = [r for _, r in tfrecords.read_records(f.name, file='x')]
    except ExportError:
      return
  if damaged == data:
    assert records == payloads


JPEG = image_bytes(size=(24, 16))


@FUZZ
@given(st.integers(0, len(JPEG)), st.binary(max_size=16),
       st.integers(0, 40))
def test_images(position, noise, cut):
  data = (JPEG[:position] + noise + JPEG[position + len(noise):])
  data = data[:len(data) - cut]
  try:
    checked = images.check_image(data, file='a.jpg')
  except SkippableError:
    return
  # What passes decodes completely, the way TensorFlow will read it.
  with Image.open(io.BytesIO(checked.encoded)) as im:
    im.load()
    assert im.size == (checked.width, checked.height)
