"""The one place numbers and flags from an export enter, and are validated.

Parsers never call `float()`, `int()` or `bool()` on what a file says; they
call these. Each returns a clean Python value or raises `BadValue` (a
`SkippableError`: by default the object or image is skipped and reported),
so nothing non-finite, absurdly large, of the wrong type or spelled oddly
(`1_0`, which `float()` reads as 10) reaches numpy, Pillow, pycocotools or
TensorFlow, where such values crashed the process or made garbage.

Text formats (XML, label lists) give every value as text: pass `text=True`.
JSON gives types: a string where a number belongs is refused, not coerced.
"""

from __future__ import annotations

import math
import re
from typing import Any, Sequence

import numpy as np

from tfds_builders.core.errors import SkippableError

# Far beyond any real image (the largest TIFFs are ~1e6 px wide), far below
# where float32 and pycocotools' int arithmetic go wrong.
MAX_ABS_COORDINATE = 1e7
# Coordinates may reach this many image sizes beyond the image (boxes drawn
# past the edge are clipped and reported); further out they are garbage.
COORDINATE_SLACK = 10
MAX_IMAGE_SIDE = 1 << 20
_DECIMAL = re.compile(r'\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d{1,3})?\s*')
_INTEGER = re.compile(r'\s*[+-]?\d{1,18}\s*')
_TRUE = ('1', 'true')
# makesense.ai writes <difficult>Unspecified</difficult> for 'not set'.
_FALSE = ('0', 'false', 'unspecified')


class BadValue(SkippableError):
  """A value in the export that is not what its field needs."""


def _bad(what: str, value: Any, why: str, file, item) -> BadValue:
  if value is None:
    return BadValue(f'{what} {why}.', file=file, item=item,
                    fix=f'Fix {what} in the labelling tool and re-export.')
  shown = repr(value)
  if len(shown) > 60:
    shown = shown[:57] + '...'
  return BadValue(f'{what} {shown} {why}.', file=file, item=item,
                  fix=f'Fix {what} in the labelling tool and re-export.')


def number(value: Any, what: str, *, text: bool = False,
           file: str | None = None, item: str | None = None,
           limit: float = MAX_ABS_COORDINATE) -> float:
  """A finite float with `abs(value) <= limit`.

  Args:
    value: an int or float from JSON, or (with `text=True`) a string of
      decimal digits as XML and text files write numbers.
    what: the field, for the message (`'<xmin>'`, `'bbox[2]'`).
  """
  if isinstance(value, str) and text:
    if not _DECIMAL.fullmatch(value):
      raise _bad(what, value, 'is not a decimal number', file, item)
    result = float(value)
  elif isinstance(value, (int, float, np.integer, np.floating)) and (
      not isinstance(value, (bool, np.bool_))):
    try:
      result = float(value)
    except OverflowError:
      raise _bad(what, value, 'is too large', file, item) from None
  elif value is None:
    raise _bad(what, value, 'is missing', file, item)
  else:
    raise _bad(what, value, f'is a {type(value).__name__}, not a number',
               file, item)
  if not math.isfinite(result):
    raise _bad(what, value, 'is not finite', file, item)
  if abs(result) > limit:
    raise _bad(what, value, f'is beyond {limit:g}', file, item)
  return result


def integer(value: Any, what: str, *, text: bool = False, low: int = 0,
            high: int = MAX_IMAGE_SIDE, file: str | None = None,
            item: str | None = None) -> int:
  """An int in [low, high]; `3.0` from JSON is accepted, `3.5` is not."""
  if isinstance(value, str) and text:
    if not _INTEGER.fullmatch(value):
      raise _bad(what, value, 'is not a whole number', file, item)
    result = int(value)
  else:
    as_float = number(value, what, file=file, item=item, limit=float('inf'))
    if as_float != int(as_float):
      raise _bad(what, value, 'is not a whole number', file, item)
    result = int(as_float)
  if not low <= result <= high:
    raise _bad(what, value, f'is outside {low}..{high}', file, item)
  return result


def flag(value: Any, what: str, *, text: bool = False,
         file: str | None = None, item: str | None = None) -> bool:
  """A boolean written as true/false or 0/1 (as text only with `text=True`).

  A missing value (None) is False: tools leave out flags that are not set.
  """
  if value is None:
    return False
  if isinstance(value, (bool, np.bool_)):
    return bool(value)
  if isinstance(value, (int, np.integer)) and value in (0, 1):
    return bool(value)
  if isinstance(value, float) and value in (0.0, 1.0):
    return bool(value)
  if isinstance(value, str) and text:
    lowered = value.strip().lower()
    if lowered in _TRUE or lowered in _FALSE:
      return lowered in _TRUE
  raise _bad(what, value, 'is not 0/1 or true/false', file, item)


def image_size(width: Any, height: Any, what: str, *, text: bool = False,
               file: str | None = None, item: str | None = None
               ) -> tuple[int, int] | None:
  """A declared `(width, height)`, or None when absent or 0 (unknown).

  A declared size is only compared with the image itself (the image wins),
  so one that is missing or zero is no problem; one that is garbage is.
  """
  if width in (None, '', 0, '0') and height in (None, '', 0, '0'):
    return None
  return (integer(width, f'{what} width', text=text, low=1, file=file,
                  item=item),
          integer(height, f'{what} height', text=text, low=1, file=file,
                  item=item))


# Plain numbers as JSON, XML readers and numpy give them; not bool (a
# subclass of int) and not str.
_PLAIN_NUMBERS = frozenset({int, float, np.float64, np.float32, np.int64,
                            np.int32})


def check_coordinates(values: Sequence[float] | np.ndarray, width: int,
                      height: int, what: str, *, file: str | None = None,
                      item: str | None = None) -> np.ndarray:
  """Pixel coordinates `[x0, y0, x1, y1, ...]` as float64, checked against
  the real image size: finite and within `COORDINATE_SLACK` image sizes.

  Called before any coordinates reach Pillow or pycocotools: vertices at
  1e9 made pycocotools overflow, NaN made it crash.
  """
  if isinstance(values, np.ndarray):
    flat_numbers = values.ndim == 1 and values.dtype.kind in 'iuf'
  else:  # from JSON: "1_0", true or [[x, y], ...] are not coordinates
    flat_numbers = isinstance(values, (list, tuple)) and all(
        type(v) in _PLAIN_NUMBERS for v in values)
  if not flat_numbers:
    raise _bad(what, values, 'is not a flat list of numbers'
               ' [x0, y0, x1, y1, ...]', file, item)
  try:
    array = np.asarray(values, np.float64)
  except OverflowError:
    raise _bad(what, values, 'holds a number too large', file,
               item) from None
  if array.size % 2:
    raise _bad(what, values, 'has an odd number of coordinates', file, item)
  if not np.isfinite(array).all():
    raise _bad(what, values, 'has a coordinate that is not finite', file,
               item)
  xs, ys = array[0::2], array[1::2]
  slack = COORDINATE_SLACK
  if xs.size and (xs.min() < -slack * width or xs.max() > (slack + 1) * width
                  or ys.min() < -slack * height
                  or ys.max() > (slack + 1) * height):
    raise _bad(what, values, f'reaches far outside the {width}x{height}'
               ' image', file, item)
  return array
