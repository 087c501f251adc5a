"""Validating image files before their bytes go into a dataset.

Images are passed through untouched whenever TensorFlow decodes them to the
right RGB pixels: 8-bit RGB or grayscale JPEG and PNG. Anything else (CMYK,
RGBA, palette, 16-bit, BMP, WebP, ...) is converted to RGB once, encoded as a
lossless PNG, and the repair is reported.
"""

from __future__ import annotations

import dataclasses
import io
import pathlib
import threading
import warnings

import numpy as np
from PIL import Image

from tfds_builders.core.errors import SkippableError

IMAGE_SUFFIXES = ('.jpg', '.jpeg', '.png', '.bmp', '.gif', '.webp', '.tif',
                  '.tiff')
_PASSTHROUGH = {('JPEG', 'RGB'), ('JPEG', 'L'), ('PNG', 'RGB'), ('PNG', 'L')}
_WARNINGS_LOCK = threading.Lock()
_EXIF_ORIENTATION = 0x0112
_ROTATED_ORIENTATIONS = (5, 6, 7, 8)  # EXIF values that swap width and height


@dataclasses.dataclass(frozen=True)
class CheckedImage:
  encoded: bytes
  width: int
  height: int
  format: str  # 'jpeg' or 'png'
  repair: str | None = None  # what was done to the file, for the report
  exif_rotated: bool = False  # EXIF says viewers show it turned by 90 degrees


def image_files(folder: pathlib.Path) -> list[pathlib.Path]:
  """Image files anywhere under `folder`, sorted (by suffix, not content)."""
  return [p for p in sorted(folder.rglob('*'))
          if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()]


def check_image(data: bytes, *, file: str) -> CheckedImage:
  """Reads the header, checks the file is complete, converts if needed.

  Raises SkippableError for empty, truncated or undecodable files and for
  decompression bombs (more pixels than Pillow's `MAX_IMAGE_PIXELS`).
  """
  if not data:
    raise SkippableError('image file is empty (0 bytes).', file=file,
                         fix='Re-download or re-export the image.')
  try:
    # catch_warnings() changes process-wide state: one thread at a time.
    with _WARNINGS_LOCK, warnings.catch_warnings():
      warnings.simplefilter('error', Image.DecompressionBombWarning)
      im = Image.open(io.BytesIO(data))
      fmt, mode, (width, height) = im.format, im.mode, im.size
  except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
    raise SkippableError(
        f'image is too large to decode safely ({e}).', file=file,
        fix='Downscale the image, or raise PIL.Image.MAX_IMAGE_PIXELS if you'
        ' trust it.') from e
  except Exception as e:  # Pillow raises UnidentifiedImageError, OSError...
    raise SkippableError(f'not a readable image ({e}).', file=file,
                         fix='Replace the file with a JPEG or PNG.') from e
  exif_rotated = False
  if fmt == 'JPEG':
    if not data.rstrip(b'\0').endswith(b'\xff\xd9'):
      raise SkippableError(
          'JPEG is truncated (no end-of-image marker).', file=file,
          fix='Re-download or re-export the image.')
    exif_rotated = im.getexif().get(_EXIF_ORIENTATION) in _ROTATED_ORIENTATIONS
  elif fmt == 'PNG' and b'IEND' not in data[-32:]:
    raise SkippableError('PNG is truncated (no IEND chunk).', file=file,
                         fix='Re-download or re-export the image.')
  if (fmt, mode) in _PASSTHROUGH and im.info.get('bits', 8) == 8:
    return CheckedImage(data, width, height, fmt.lower(),
                        exif_rotated=exif_rotated)
  return _convert_to_rgb_png(im, file, exif_rotated)


def _convert_to_rgb_png(im: Image.Image, file: str,
                        exif_rotated: bool) -> CheckedImage:
  source = f'{im.format} {im.mode}'
  try:
    if im.mode.startswith('I;16') or im.mode == 'I':
      # 16/32-bit grayscale: scale to 8 bits rather than clip.
      im = Image.fromarray((np.asarray(im, np.int64) >> 8).clip(0, 255)
                           .astype(np.uint8))
    rgb = im.convert('RGBA').convert('RGB') if im.mode == 'P' else im.convert(
        'RGB')
    buffer = io.BytesIO()
    rgb.save(buffer, format='PNG')
  except Exception as e:
    raise SkippableError(f'image could not be decoded ({e}).', file=file,
                         fix='Replace the file with a JPEG or PNG.') from e
  return CheckedImage(
      buffer.getvalue(), rgb.width, rgb.height, 'png',
      repair=f'converted {source} to 8-bit RGB PNG', exif_rotated=exif_rotated)
