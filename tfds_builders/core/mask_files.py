"""Mask files: how the pixel values of a PNG become classes or instances.

Pixel values become classes only through an explicit `ValueMap`: CVAT and
Datumaro's `labelmap.txt` (colours), a `labels.txt` (positions), a Labelbox
legend, or, for a VOC export with none of them, the VOC devkit's 20 classes
in devkit order and its colour map. Never the order of names found in the
annotations: an export that uses 4 of the 20 VOC classes still has `bird`
at index 3. A value no mapping explains is an error naming file and values.

Palette PNGs (mode `P`) are read with Pillow as indices (`tf.io.decode_png`
would expand them to colours); RGB masks are matched colour by colour.
"""

from __future__ import annotations

import dataclasses
from typing import Mapping, Sequence

import numpy as np

from tfds_builders.core import images
from tfds_builders.core.errors import ExportError, SkippableError
from tfds_builders.core.labels import BACKGROUND, ClassList
from tfds_builders.core.masks import IGNORE

VOID = '<void>'  # the class name of void pixels in a ValueMap
VOC_CLASSES = ('aeroplane', 'bicycle', 'bird', 'boat', 'bottle', 'bus', 'car',
               'cat', 'chair', 'cow', 'diningtable', 'dog', 'horse',
               'motorbike', 'person', 'pottedplant', 'sheep', 'sofa', 'train',
               'tvmonitor')
VOC_VOID_COLOUR = (224, 224, 192)  # the devkit's boundary / "difficult" colour
BACKGROUND_NAMES = frozenset({'background', '_background_', '__background__'})
VOID_NAMES = frozenset({'void', '_void_', 'ignore', 'ignored', '_ignore_',
                        '__ignore__'})
Colour = tuple[int, int, int]
_UNMAPPED, _NOT_A_CLASS = -1, -2  # lookup-table markers


def voc_colour(index: int) -> Colour:
  """Colour of palette entry `index` in the standard VOC colour map.

  Written out because no installed library exposes it; it is the bit
  interleaving from the VOC devkit's `labelcolormap.m`.
  """
  r = g = b = 0
  for shift in range(7, -1, -1):
    r |= ((index >> 0) & 1) << shift
    g |= ((index >> 1) & 1) << shift
    b |= ((index >> 2) & 1) << shift
    index >>= 3
  return r, g, b


def special_name(name: str) -> str:
  """BACKGROUND or VOID for the names tools give those, else the name."""
  lowered = name.strip().lower()
  if lowered in BACKGROUND_NAMES:
    return BACKGROUND
  if lowered in VOID_NAMES:
    return VOID
  return name


@dataclasses.dataclass(frozen=True)
class ValueMap:
  """What the pixel values of an export's class masks mean.

  Values map to a class name, BACKGROUND or VOID. Palette masks are read by
  index when `palette_by_index`, else by their palette colours.
  """
  by_index: Mapping[int, str]
  by_colour: Mapping[Colour, str]
  source: str
  palette_by_index: bool = True

  @classmethod
  def voc_devkit(cls) -> 'ValueMap':
    names = (BACKGROUND,) + VOC_CLASSES
    by_index = dict(enumerate(names)) | {IGNORE: VOID}
    by_colour = {voc_colour(i): n for i, n in enumerate(names)}
    by_colour[VOC_VOID_COLOUR] = VOID
    return cls(by_index, by_colour, 'the VOC devkit colour map (20 classes)')

  @classmethod
  def from_list(cls, names: Sequence[str], source: str,
                colours: Mapping[str, Colour] | None = None) -> 'ValueMap':
    """From a class file in pixel-value order.

    A list with a background entry counts from 0 (CVAT and Datumaro's
    `labelmap.txt` put it first, CVAT's "Segmentation mask" sorts it among
    the names; DeepLab's `labels.txt`); otherwise value 0 is background and
    the first name is value 1. Colours, when the file gives them, are what
    RGB (and palette) masks are read by, and a class coloured (0, 0, 0) is
    the background; without them (Datumaro writes `cat:::`) an RGB mask's
    colours are those of the VOC colour map at each position.
    """
    colours = {n: tuple(c) for n, c in (colours or {}).items()}
    special = [BACKGROUND if colours.get(n) == (0, 0, 0) else special_name(n)
               for n in names]
    start = 0 if BACKGROUND in special else 1
    by_index = {i + start: n for i, n in enumerate(special)}
    by_index.setdefault(0, BACKGROUND)
    by_index.setdefault(IGNORE, VOID)
    if colours:
      by_colour = {}
      for name, meaning in zip(names, special):
        if name not in colours:
          continue
        first = by_colour.setdefault(colours[name], meaning)
        if first != meaning:  # a pixel of that colour could be either
          raise ExportError(
              f'classes {first!r} and {meaning!r} have the same colour'
              f' {colours[name]}, so mask pixels of that colour do not say'
              ' which class they are.', file=source,
              fix='Give each class its own colour and re-export the masks.')
    else:
      by_colour = {voc_colour(i): n for i, n in by_index.items() if i < 255}
    by_colour.setdefault((0, 0, 0), BACKGROUND)
    by_colour.setdefault(VOC_VOID_COLOUR, VOID)
    return cls(by_index, by_colour, source, palette_by_index=not colours)

  def class_names(self) -> list[str]:
    """The classes the map names, in value order, without background/void."""
    ordered = [n for _, n in sorted(self.by_index.items())] + list(
        self.by_colour.values())
    return list(dict.fromkeys(n for n in ordered if n not in (BACKGROUND,
                                                              VOID)))


def read_semantic_mask(data: bytes, value_map: ValueMap, classes: ClassList,
                       *, file: str, height: int, width: int) -> np.ndarray:
  """A class mask file -> (H, W) uint8 of label + 1, 0 background, VOID."""
  im = images.open_image(data, file=file, what='mask')
  _check_size(im.size, width, height, file)
  value_of = {BACKGROUND: 0, VOID: IGNORE}
  value_of.update({n: i + 1 for i, n in enumerate(classes.names)})
  try:
    if im.mode in ('P', 'L'):
      pixels = np.asarray(im, np.uint8)
      if im.mode == 'P' and not value_map.palette_by_index:
        table = _palette_table(im, value_map.by_colour)
      else:
        table = value_map.by_index
      return _apply_table(pixels, table, value_of, value_map, file)
    if im.mode in ('RGB', 'RGBA'):
      if not value_map.by_colour:
        raise SkippableError(
            f'mask is an RGB image, but {value_map.source} gives no colours.',
            file=file, fix='Add labelmap.txt with each class colour'
            ' ("name:R,G,B::"), or export palette (indexed) masks.')
      return _rgb_values(np.asarray(im.convert('RGB')), value_map, value_of,
                         file)
  except SkippableError:
    raise
  except Exception as e:  # Pillow decoding errors
    raise SkippableError(f'mask does not decode ({e}).', file=file,
                         fix='Re-export the mask.') from None
  raise SkippableError(f'mask is in mode {im.mode}, not palette, grayscale'
                       ' or RGB.', file=file, fix='Re-export the mask.')


def read_instance_ids(data: bytes, *, file: str, height: int,
                      width: int) -> np.ndarray:
  """An instance mask file (VOC SegmentationObject) -> (H, W) int32 ids.

  Palette and grayscale files hold the ids; RGB files (CVAT, Datumaro) paint
  instance i in VOC colour i. The void colour and 255 stay 255.
  """
  im = images.open_image(data, file=file, what='mask')
  _check_size(im.size, width, height, file)
  try:
    if im.mode in ('P', 'L'):
      return np.asarray(im, np.uint8).astype(np.int32)
    if im.mode in ('RGB', 'RGBA'):
      by_colour = {voc_colour(i): i for i in range(IGNORE)}
      by_colour[VOC_VOID_COLOUR] = IGNORE
      return _colours_to_numbers(np.asarray(im.convert('RGB')), by_colour,
                                 file, 'instance colours outside the VOC'
                                 ' colour map')
  except SkippableError:
    raise
  except Exception as e:
    raise SkippableError(f'mask does not decode ({e}).', file=file,
                         fix='Re-export the mask.') from None
  raise SkippableError(f'instance mask is in mode {im.mode}.', file=file,
                       fix='Export palette or RGB instance masks.')


def read_index_pixels(data: bytes, *, file: str) -> np.ndarray:
  """The raw values of a palette or grayscale mask (Labelbox class maps)."""
  im = images.open_image(data, file=file, what='mask')
  if im.mode not in ('P', 'L'):
    raise SkippableError(
        f'mask PNG is in mode {im.mode}, expected a palette (P) or grayscale'
        ' (L) image of class indices.', file=file,
        fix='Export masks as indexed PNGs (VOC SegmentationClass style).')
  try:
    return np.asarray(im, np.uint8).copy()
  except Exception as e:
    raise SkippableError(f'mask does not decode ({e}).', file=file,
                         fix='Re-export the mask.') from None


def read_binary_mask(data: bytes, *, file: str, height: int,
                     width: int) -> np.ndarray:
  """A one-object mask file (Labelbox masks): any non-zero pixel is in.

  Where the PNG has an alpha channel (or a transparent colour), a pixel is
  in only if it is also not transparent: masks edited in GIMP or Photoshop
  are often white everywhere, with the object drawn in the alpha channel.
  When every visible pixel is black (a black shape on a transparent
  canvas), the alpha alone draws the object: reading black as "out" there
  would give an empty mask for a shape anyone can see.
  """
  im = images.open_image(data, file=file, what='mask')
  _check_size(im.size, width, height, file)
  try:
    pixels = np.asarray(im.convert('L') if im.mode not in ('L', 'P', '1')
                        else im)
    inside = pixels != 0
    if im.has_transparency_data:
      visible = np.asarray(im.convert('RGBA').getchannel('A')) > 0
      inside = visible & inside if inside[visible].any() else visible
  except Exception as e:
    raise SkippableError(f'mask does not decode ({e}).', file=file,
                         fix='Re-export the mask.') from None
  return inside


def read_colour_mask(data: bytes, colour: Colour, *, file: str, height: int,
                     width: int) -> np.ndarray:
  """Pixels of one colour in an RGB mask (Labelbox composite masks), bool."""
  im = images.open_image(data, file=file, what='mask')
  _check_size(im.size, width, height, file)
  try:
    rgb = np.asarray(im.convert('RGB'))
  except Exception as e:
    raise SkippableError(f'mask does not decode ({e}).', file=file,
                         fix='Re-export the mask.') from None
  return np.all(rgb == np.asarray(colour, np.uint8), axis=-1)


def _check_size(size: tuple[int, int], width: int, height: int,
                file: str) -> None:
  if size != (width, height):
    raise SkippableError(
        f'mask is {size[0]}x{size[1]} but the image is {width}x{height}.',
        file=file, fix='Re-export the mask for this image.')


def _palette_table(im, by_colour: Mapping[Colour, str]) -> dict[int, str]:
  palette = im.getpalette() or []
  table = {}
  for index in range(len(palette) // 3):
    colour = tuple(palette[3 * index:3 * index + 3])
    if colour in by_colour:
      table[index] = by_colour[colour]
  return table


def _apply_table(pixels: np.ndarray, table: Mapping[int, str],
                 value_of: dict[str, int], value_map: ValueMap,
                 file: str) -> np.ndarray:
  lut = np.full(256, _UNMAPPED, np.int16)
  for index, name in table.items():
    if 0 <= index < 256:
      lut[index] = value_of.get(name, _NOT_A_CLASS)
  mapped = lut[pixels]
  _check_mapped(mapped, pixels, table, value_map, file)
  return mapped.astype(np.uint8)


def _check_mapped(mapped: np.ndarray, raw: np.ndarray, table: Mapping,
                  value_map: ValueMap, file: str) -> None:
  if (mapped >= 0).all():
    return
  if (mapped == _NOT_A_CLASS).any():
    names = sorted({table[v] for v in np.unique(
        raw[mapped == _NOT_A_CLASS]).tolist()})
    raise SkippableError(
        f'{value_map.source} maps mask values to {_short(names)}, not in the'
        ' class list.', file=file,
        fix='Use one class list for the annotations and the masks.')
  unknown = np.unique(raw[mapped < 0]).tolist()
  raise SkippableError(
      f'mask values {_short(unknown)} are not in {value_map.source}.',
      file=file, fix='List every class of the masks, in pixel-value order,'
      ' in labels.txt or labelmap.txt.')


def _rgb_values(rgb: np.ndarray, value_map: ValueMap,
                value_of: dict[str, int], file: str) -> np.ndarray:
  numbers = {c: value_of.get(n, _NOT_A_CLASS)
             for c, n in value_map.by_colour.items()}
  mapped = _colours_to_numbers(rgb, numbers, file,
                               f'colours not in {value_map.source}')
  if (mapped == _NOT_A_CLASS).any():
    names = sorted({n for n in value_map.by_colour.values()
                    if n not in value_of})
    raise SkippableError(
        f'{value_map.source} maps mask colours to {_short(names)}, not in the'
        ' class list.', file=file,
        fix='Use one class list for the annotations and the masks.')
  return mapped.astype(np.uint8)


def _colours_to_numbers(rgb: np.ndarray, numbers: Mapping[Colour, int],
                        file: str, what: str) -> np.ndarray:
  """Each pixel's number from its colour, with a sorted lookup (no per-colour
  pass over the image)."""
  packed = ((rgb[..., 0].astype(np.uint32) << 16)
            | (rgb[..., 1].astype(np.uint32) << 8) | rgb[..., 2])
  known = np.array(sorted((r << 16) | (g << 8) | b for r, g, b in numbers),
                   np.uint32)
  found = np.array([numbers[((k >> 16) & 255, (k >> 8) & 255, k & 255)]
                    for k in known.tolist()], np.int32)
  where = np.clip(np.searchsorted(known, packed), 0, max(len(known) - 1, 0))
  matched = known[where] == packed if len(known) else np.zeros_like(
      packed, bool)
  if not matched.all():
    unknown = [((int(c) >> 16) & 255, (int(c) >> 8) & 255, int(c) & 255)
               for c in np.unique(packed[~matched])[:8]]
    raise SkippableError(f'mask has {what}: {_short(unknown)}.', file=file,
                         fix='List every class colour in labelmap.txt'
                         ' ("name:R,G,B::").')
  return found[where]


def _short(items: list, limit: int = 8) -> str:
  text = ', '.join(str(i) for i in items[:limit])
  return text + (', ...' if len(items) > limit else '')
