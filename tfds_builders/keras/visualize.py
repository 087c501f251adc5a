"""predictions.png: evaluation images, ground truth left, prediction right."""

from __future__ import annotations

import pathlib

import numpy as np
from PIL import Image, ImageDraw

from tfds_builders.core.schema import VOID
from tfds_builders.keras import detection
from tfds_builders.keras.metrics import ImageBoxes

_COLOURS = np.array([
    (230, 25, 75), (60, 180, 75), (255, 225, 25), (0, 130, 200),
    (245, 130, 48), (145, 30, 180), (70, 240, 240), (240, 50, 230),
    (210, 245, 60), (250, 190, 212), (0, 128, 128), (170, 110, 40)], np.uint8)
_VOID_COLOUR = (128, 128, 128)
_HEADER = 18
_MIN_SIDE = 256  # small model inputs are upscaled to this for legibility


def colour(class_index: int) -> tuple[int, int, int]:
  return tuple(int(c) for c in _COLOURS[class_index % len(_COLOURS)])


def overlay_mask(image: np.ndarray, mask: np.ndarray,
                 alpha: float = 0.5) -> np.ndarray:
  """Tints each pixel of class c >= 1 with colour(c - 1); void is grey."""
  mask = np.asarray(mask).reshape(image.shape[:2])
  tint = np.zeros_like(image)
  for value in np.unique(mask):
    if value:
      tint[mask == value] = (_VOID_COLOUR if value == VOID
                             else colour(value - 1))
  blended = image * (1 - alpha) + tint * alpha
  return np.where((mask > 0)[..., None], blended, image).astype(np.uint8)


def draw_boxes(image: np.ndarray, found: ImageBoxes,
               class_names: list[str]) -> Image.Image:
  """Boxes with class names (and scores, for detections)."""
  picture = _upscaled(image)
  draw = ImageDraw.Draw(picture)
  side_y, side_x = picture.height, picture.width
  scores = found.scores if found.scores is not None else [None] * len(
      found.labels)
  for (ymin, xmin, ymax, xmax), label, score in zip(found.boxes, found.labels,
                                                    scores):
    corners = [xmin * side_x, ymin * side_y, xmax * side_x, ymax * side_y]
    draw.rectangle(corners, outline=colour(int(label)), width=2)
    text = class_names[int(label)] + (f' {score:.2f}' if score is not None
                                      else '')
    draw.text((corners[0] + 3, corners[1] + 2), text, fill=colour(int(label)))
  return picture


def _upscaled(image: np.ndarray) -> Image.Image:
  picture = Image.fromarray(np.asarray(image, np.uint8))
  factor = max(1, _MIN_SIDE // max(picture.size))
  return picture.resize((picture.width * factor, picture.height * factor),
                        Image.NEAREST)


def grid(pairs: list[tuple[Image.Image, Image.Image]],
         path: str | pathlib.Path,
         titles: tuple[str, str] = ('ground truth', 'prediction'),
         legend: list[tuple[str, tuple[int, int, int]]] = ()) -> None:
  """Writes rows of (left, right) pictures under a header line."""
  width, height = pairs[0][0].size
  sheet = Image.new('RGB', (2 * width, _HEADER + height * len(pairs)),
                    'white')
  draw = ImageDraw.Draw(sheet)
  for column, title in enumerate(titles):
    draw.text((column * width + 4, 3), title, fill='black')
  x = width + 8 + draw.textlength(titles[1])
  for name, fill in legend:  # as many class colours as fit
    if x + draw.textlength(name) > 2 * width:
      break
    draw.text((x + 6, 3), name, fill=fill)
    x += 6 + draw.textlength(name)
  for row, pictures in enumerate(pairs):
    for column, picture in enumerate(pictures):
      sheet.paste(picture.resize((width, height)),
                  (column * width, _HEADER + row * height))
  sheet.save(path)


def segmentation_grid(images, true_masks, predicted_masks,
                      class_names: list[str], path) -> None:
  """`class_names` as in the mask: class_names[0] is the background."""
  legend = [(name, colour(i)) for i, name in enumerate(class_names[1:])]
  grid([(_upscaled(overlay_mask(image, truth)),
         _upscaled(overlay_mask(image, predicted)))
        for image, truth, predicted in zip(images, true_masks,
                                           predicted_masks)], path,
       legend=legend + [('void', _VOID_COLOUR)])


def detection_grid(images, truth: list[ImageBoxes],
                   predicted: list[ImageBoxes], class_names: list[str],
                   path) -> None:
  grid([(draw_boxes(image, gt, class_names),
         draw_boxes(image, found, class_names))
        for image, gt, found in zip(images, truth, predicted)], path)


def draw_predictions(model, batch, class_names: list[str], path) -> None:
  """predictions.png for one evaluation batch of either pipeline.

  Args:
    model: a segmentation model or the detector.
    batch: `(images, masks)` from `segmentation_dataset` (class_names with
      the background first), or a `detection_dataset` dict.
  """
  if isinstance(batch, dict):
    detection_grid(batch['images'].numpy().astype(np.uint8),
                   detection.ground_truth(batch),
                   detection.predict(model, batch['images']), class_names,
                   path)
    return
  images, masks = batch
  predicted = np.argmax(model.predict_on_batch(images), axis=-1)
  segmentation_grid(images.numpy().astype(np.uint8), masks.numpy(),
                    predicted, class_names, path)
