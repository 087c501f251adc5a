"""Checking image files completely before their bytes go into a dataset.

Images are passed through untouched whenever TensorFlow decodes them to the
right RGB pixels: 8-bit RGB or grayscale JPEG and PNG. Anything else (CMYK,
RGBA, palette, 16-bit, BMP, WebP, ...) is converted to RGB once, encoded as
a lossless PNG, and the repair is reported.

"Decodes" is checked, not assumed, because a file that only looks right
makes the built dataset fail at load time, or holds grey garbage:
  * JPEG: every scan is entropy-decoded by libjpeg-turbo in strict mode
    (simplejpeg), at 1/8 scale, which skips most of the inverse DCT but not
    one coded bit. Pillow and TensorFlow both fill missing scan data with
    grey without an error; strict mode turns libjpeg's "premature end of
    data segment" and "corrupt data" warnings into errors. Such a file is
    skipped: its missing pixels cannot be recovered.
  * PNG: every chunk's CRC is checked (libpng, inside TensorFlow, refuses a
    bad IDAT CRC that Pillow's decoder ignores), then the image data is
    inflated in full. A file whose CRCs fail but whose pixels Pillow still
    decodes is re-encoded and reported as repaired.
Every image read, masks included, goes through `open_image`, which refuses
more than `MAX_IMAGE_PIXELS` pixels before anything is decoded.
"""

from __future__ import annotations

import dataclasses
import io
import re
import threading
import warnings

import numpy as np
from PIL import Image
import simplejpeg

from tfds_builders.core.errors import SkippableError

# Pillow's own default, applied as a hard limit to images and masks alike.
MAX_IMAGE_PIXELS = 89_478_485
_PASSTHROUGH = {('JPEG', 'RGB'), ('JPEG', 'L'), ('PNG', 'RGB'), ('PNG', 'L')}
_WARNINGS_LOCK = threading.Lock()
_EXIF_ORIENTATION = 0x0112
_ROTATED_ORIENTATIONS = (5, 6, 7, 8)  # EXIF values that swap width and height
_REEXPORT = 'Re-download or re-export the image.'
_PNG_END = b'IEND\xaeB`\x82'  # the IEND chunk's type and its fixed CRC


@dataclasses.dataclass(frozen=True)
class CheckedImage:
  encoded: bytes
  width: int
  height: int
  format: str  # 'jpeg' or 'png'
  repair: str | None = None  # what was done to the file, for the report
  # The EXIF orientation (1 = as stored, 0 = none; 2-8 viewers flip or turn
  # it when they show it).
  exif_orientation: int = 0

  @property
  def exif_rotated(self) -> bool:
    """EXIF says viewers show it turned by 90 degrees (width <-> height)."""
    return self.exif_orientation in _ROTATED_ORIENTATIONS


def open_image(data: bytes, *, file: str, what: str = 'image',
               max_pixels: int | None = None) -> Image.Image:
  """Opens (header only) an image or mask file, refusing decompression bombs.

  Raises SkippableError for empty files, files Pillow cannot identify and
  images of more than `max_pixels` (default `MAX_IMAGE_PIXELS`) pixels.
  """
  if not data:
    raise SkippableError(f'{what} file is empty (0 bytes).', file=file,
                         fix=_REEXPORT)
  limit = pixel_limit() if max_pixels is None else max_pixels
  try:
    # catch_warnings() changes process-wide state: one thread at a time.
    with _WARNINGS_LOCK, warnings.catch_warnings():
      warnings.simplefilter('ignore', Image.DecompressionBombWarning)
      im = Image.open(io.BytesIO(data))
  except Image.DecompressionBombError as e:
    raise _too_large(what, str(e), file) from None
  except Exception as e:  # Pillow raises UnidentifiedImageError, OSError...
    detail = re.sub(r' <_io\.BytesIO object at 0x[0-9a-f]+>', '', str(e))
    raise SkippableError(f'not a readable {what} ({detail}).', file=file,
                         fix=f'Replace the file with a PNG or JPEG {what}.'
                         ) from None
  width, height = im.size
  if width <= 0 or height <= 0 or width * height > limit:
    raise _too_large(what, f'{width}x{height} pixels, limit {limit:,}', file)
  return im


def pixel_limit() -> int:
  """`MAX_IMAGE_PIXELS`, or Pillow's own limit when it was set lower."""
  pillow = Image.MAX_IMAGE_PIXELS
  return MAX_IMAGE_PIXELS if pillow is None else min(MAX_IMAGE_PIXELS, pillow)


def _too_large(what: str, detail: str, file: str) -> SkippableError:
  return SkippableError(
      f'{what} is too large to decode safely ({detail}).', file=file,
      fix='Downscale it, or raise tfds_builders.core.images.MAX_IMAGE_PIXELS'
      ' if you trust the file.')


def check_image(data: bytes, *, file: str) -> CheckedImage:
  """Checks the file decodes completely; converts it if TF cannot take it."""
  fast = _plain_jpeg(data, file)
  if fast is not None:
    return fast
  im = open_image(data, file=file)
  fmt, mode, (width, height) = im.format, im.mode, im.size
  orientation, repair = 0, None
  if fmt == 'JPEG':
    orientation = _exif_orientation(im)
    if mode in ('RGB', 'L'):
      _check_jpeg_scans(data, mode, file)
  elif fmt == 'PNG':
    end = data.rfind(_PNG_END)
    if end < 0:
      raise SkippableError('PNG is truncated (no IEND chunk).', file=file,
                           fix=_REEXPORT)
    trailing = len(data) - end - len(_PNG_END)
    if trailing:  # some tools append metadata after the image's end
      data = data[:end + len(_PNG_END)]
      repair = f'{trailing} byte(s) after the end of the PNG were dropped'
    crc_problem = _png_crc_problem(data)
    if crc_problem:
      return _convert_to_rgb_png(
          im, file, orientation, f'{crc_problem}; Pillow decoded the pixels')
  if (fmt, mode) in _PASSTHROUGH and im.info.get('bits', 8) == 8:
    if fmt == 'PNG':
      _load(im, file)  # inflates every IDAT byte
    return CheckedImage(data, width, height, fmt.lower(), repair=repair,
                        exif_orientation=orientation)
  return _convert_to_rgb_png(im, file, orientation)


def _plain_jpeg(data: bytes, file: str,
                check_scans: bool = True) -> CheckedImage | None:
  """The common case without Pillow: an RGB or grey JPEG without EXIF, its
  header read by libjpeg-turbo (microseconds, against ~0.2 ms for Pillow's
  marker parsing) and its scans checked. None: take the general path."""
  if not data.startswith(b'\xff\xd8') or b'Exif\0\0' in data[:65536]:
    return None
  try:
    height, width, colorspace, _ = simplejpeg.decode_jpeg_header(data)
  except (ValueError, RuntimeError):
    return None  # the general path says what is wrong
  if colorspace not in ('YCbCr', 'Gray') or not (
      0 < width * height <= pixel_limit()):
    return None
  if check_scans:
    _check_jpeg_scans(data, 'L' if colorspace == 'Gray' else 'RGB', file)
  return CheckedImage(data, width, height, 'jpeg')


def check_header(data: bytes, *, file: str) -> CheckedImage:
  """What `check` reads of an image: its header (format, size, EXIF turn),
  without decoding the pixels. `encoded` is the file as it is."""
  fast = _plain_jpeg(data, file, check_scans=False)
  if fast is not None:
    return fast
  im = open_image(data, file=file)
  fmt = (im.format or '').lower()
  return CheckedImage(data, im.width, im.height, fmt,
                      exif_orientation=_exif_orientation(im) if fmt == 'jpeg'
                      else 0)


def _exif_orientation(im: Image.Image) -> int:
  try:
    orientation = im.getexif().get(_EXIF_ORIENTATION, 0)
  except Exception:  # a broken EXIF block is not the pixels' problem
    return 0
  return orientation if orientation in range(1, 9) else 0


def _check_jpeg_scans(data: bytes, mode: str, file: str) -> None:
  try:
    simplejpeg.decode_jpeg(data, colorspace='GRAY' if mode == 'L' else 'RGB',
                           fastdct=True, fastupsample=True, min_height=1,
                           min_width=1, min_factor=8, strict=True)
  except (ValueError, RuntimeError) as e:
    raise SkippableError(
        f'JPEG data is corrupt or incomplete (libjpeg: {e}); decoders would'
        ' fill the missing part with grey.', file=file, fix=_REEXPORT) from None


def _png_crc_problem(data: bytes) -> str | None:
  """Why the chunk CRCs fail, or None when every one checks out."""
  try:
    with Image.open(io.BytesIO(data)) as im:
      im.verify()
  except Exception as e:
    return f'PNG chunk checksums fail ({e})'
  return None


def _load(im: Image.Image, file: str) -> None:
  try:
    im.load()
  except Exception as e:
    raise SkippableError(f'image data does not decode ({e}).', file=file,
                         fix=_REEXPORT) from None


def _convert_to_rgb_png(im: Image.Image, file: str, orientation: int,
                        why: str | None = None) -> CheckedImage:
  source = f'{im.format} {im.mode}'
  _load(im, file)
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
  repair = f're-encoded as PNG: {why}' if why else (
      f'converted {source} to 8-bit RGB PNG')
  return CheckedImage(buffer.getvalue(), rgb.width, rgb.height, 'png',
                      repair=repair, exif_orientation=orientation)


# EXIF orientation -> what turns stored pixels into what viewers show (the
# table of `PIL.ImageOps.exif_transpose`, applied from the orientation the
# check read, so converted images, whose PNG has no EXIF, turn too).
_EXIF_TRANSPOSE = {2: Image.Transpose.FLIP_LEFT_RIGHT,
                   3: Image.Transpose.ROTATE_180,
                   4: Image.Transpose.FLIP_TOP_BOTTOM,
                   5: Image.Transpose.TRANSPOSE,
                   6: Image.Transpose.ROTATE_270,
                   7: Image.Transpose.TRANSVERSE,
                   8: Image.Transpose.ROTATE_90}


def apply_exif_orientation(image: CheckedImage, file: str) -> CheckedImage:
  """Stores the pixels the way the annotation tool showed them."""
  with Image.open(io.BytesIO(image.encoded)) as im:
    turned = im.convert('RGB').transpose(
        _EXIF_TRANSPOSE[image.exif_orientation])
  buffer = io.BytesIO()
  turned.save(buffer, format='PNG')
  return CheckedImage(buffer.getvalue(), turned.width, turned.height, 'png',
                      repair=f'applied EXIF rotation to {file}',
                      exif_orientation=image.exif_orientation)


def turned_header(image: CheckedImage, file: str) -> CheckedImage:
  """What `apply_exif_orientation` gives, without touching the pixels: the
  size as viewers show it (`check` stores nothing)."""
  del file
  width, height = ((image.height, image.width) if image.exif_rotated
                   else (image.width, image.height))
  return CheckedImage(image.encoded, width, height, image.format,
                      exif_orientation=image.exif_orientation)
