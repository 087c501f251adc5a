r"""Trains a segmentation model or a detector on a dataset of this package.

  python scripts/train.py --dataset labelbox_cars --data_dir ~/tfds \
      --task segmentation --model unet --output_dir runs/cars_unet
  python scripts/train.py --dataset voc_export/boxes --data_dir ~/tfds \
      --task detection --output_dir runs/raccoon_det
  python scripts/train.py --dataset_dir ~/tfds/voc_export/default/1.2.0 \
      --task segmentation --model fcn3 --output_dir runs/voc_fcn3

Writes to --output_dir: metrics.json (dataset, task, model, steps, training
images/s, evaluation metrics), model.keras, TensorBoard logs (logs/) and
predictions.png (evaluation images, ground truth beside prediction).

Segmentation: `unet` or `fcn3`, cross-entropy ignoring void (255) pixels,
evaluated with mean IoU, per-class IoU and pixel accuracy. Detection: a
CenterNet-style detector (tfds_builders/keras/detection.py), evaluated with
COCO AP, AP50 and AP75. On a GPU (`pip install .[gpu]`), `--mixed_precision
auto` picks bfloat16 (compute capability >= 8.0) or float16 with loss
scaling, and XLA is on by default. Everything but the flags and the order of
the steps lives in `tfds_builders.keras`.
"""

import json
import math
import pathlib

from absl import app
from absl import flags
from absl import logging
import keras

from tfds_builders import keras as tfb_keras
from tfds_builders.core.errors import ExportError
from tfds_builders.keras import detection
from tfds_builders.keras import metrics
from tfds_builders.keras import precision
from tfds_builders.keras import segmentation
from tfds_builders.keras import visualize

_DATASET = flags.DEFINE_string(
    'dataset', None, 'name, name/config or name:version of a built dataset.')
_DATA_DIR = flags.DEFINE_string(
    'data_dir', None, 'Where `tfds build` wrote --dataset (TFDS default).')
_DATASET_DIR = flags.DEFINE_string(
    'dataset_dir', None, 'A built dataset folder, instead of --dataset.')
_TASK = flags.DEFINE_enum('task', 'segmentation',
                          ['segmentation', 'detection'], 'What to train.')
_MODEL = flags.DEFINE_enum(
    'model', None, ['unet', 'fcn3', 'centernet'],
    'Segmentation: unet (default) or fcn3. Detection: centernet.')
_BACKBONE = flags.DEFINE_enum('backbone', 'small', detection.BACKBONES,
                              'Detector backbone.')
_WEIGHTS = flags.DEFINE_enum('weights', 'none', ['none', 'imagenet'],
                             'Backbone initialisation (imagenet downloads).')
_WIDTH = flags.DEFINE_integer(
    'width', None, 'Channels: unet first level (default 16, doubled per'
    ' level), fcn3 layers (32), centernet neck and heads (64).')
_IMAGE_SIZE = flags.DEFINE_integer(
    'image_size', None, 'Square model input, a multiple of 32 (default 128).')
_BATCH_SIZE = flags.DEFINE_integer('batch_size', 16, 'Batch size.')
_EPOCHS = flags.DEFINE_integer('epochs', None, 'Epochs (default: 20 for'
                               ' segmentation, 40 for detection).')
_LEARNING_RATE = flags.DEFINE_float(
    'learning_rate', None, 'Peak Adam learning rate, cosine-decayed after a'
    ' short warm-up (default: 3e-3 segmentation, 2e-3 detection).')
_TRAIN_SPLIT = flags.DEFINE_string('train_split', 'train', 'Training split.')
_EVAL_SPLIT = flags.DEFINE_string(
    'eval_split', None, 'Evaluation split (default: test, else validation).')
_MAX_STEPS = flags.DEFINE_integer(
    'max_steps_per_epoch', None, 'Cap on steps per epoch (quick runs).')
_MAX_BOXES = flags.DEFINE_integer(
    'max_boxes', 50, 'Objects kept per image (padded to this, for fixed'
    ' shapes).')
_MIXED_PRECISION = flags.DEFINE_enum(
    'mixed_precision', 'auto', precision.CHOICES,
    'auto: bfloat16 on GPUs with compute capability >= 8.0, float16 with loss'
    ' scaling on older GPUs, off on CPU.')
_JIT_COMPILE = flags.DEFINE_bool(
    'jit_compile', None, 'XLA-compile the model (default: on GPU only).')
_SEED = flags.DEFINE_integer('seed', 0, 'Random seed.')
_VALIDATION_FREQ = flags.DEFINE_integer(
    'validation_freq', 0, 'Segmentation: validate every N epochs during'
    ' training (0: only the final evaluation).')
_CACHE_BUDGET_MB = flags.DEFINE_integer(
    'cache_budget_mb', 2048, 'Cache decoded images in memory up to this.')
_NUM_PICTURES = flags.DEFINE_integer(
    'num_pictures', 6, 'Evaluation images drawn in predictions.png.')
_OUTPUT_DIR = flags.DEFINE_string('output_dir', None, 'Where results go.')

_DEFAULTS = {  # task: (model, image_size, epochs, learning_rate)
    'segmentation': ('unet', 128, 20, 3e-3),
    'detection': ('centernet', 128, 40, 2e-3),
}


def get_model(name: str, image_size: int, num_classes: int):
  """The model, its loss and the metrics `fit` reports."""
  width = {'width': _WIDTH.value} if _WIDTH.value else {}
  if name in segmentation.SEGMENTATION_MODELS:
    model = segmentation.SEGMENTATION_MODELS[name](image_size, num_classes,
                                                   **width)
    return (model, segmentation.segmentation_loss(),
            [metrics.mean_iou_metric(num_classes)])
  weights = None if _WEIGHTS.value == 'none' else _WEIGHTS.value
  try:
    model = detection.detector(image_size, num_classes, _BACKBONE.value,
                               weights, **width)
  except Exception as e:  # pylint: disable=broad-except  (Keras raises it)
    if not weights or 'URL fetch failure' not in str(e):
      raise
    raise app.UsageError(
        f'could not download the {weights} weights of {_BACKBONE.value}'
        f' ({e}). Run once online (Keras keeps them in ~/.keras/models) or'
        ' use --weights none.') from None
  return model, detection.LOSSES, None


def main(argv):
  del argv
  task = _TASK.value
  segmenting = task == 'segmentation'
  default_model, image_size, epochs, learning_rate = _DEFAULTS[task]
  model_name = _MODEL.value or default_model
  image_size = _IMAGE_SIZE.value or image_size
  epochs = _EPOCHS.value or epochs
  learning_rate = _LEARNING_RATE.value or learning_rate
  if (model_name == 'centernet') == segmenting:
    raise app.UsageError(f'--model {model_name} does not do {task}.')
  if image_size % 32:
    raise app.UsageError(f'--image_size {image_size} is not a multiple of 32.')
  output_dir = pathlib.Path(_OUTPUT_DIR.value)
  output_dir.mkdir(parents=True, exist_ok=True)
  keras.utils.set_random_seed(_SEED.value)
  policy = precision.apply_policy(_MIXED_PRECISION.value)

  # The data.
  try:
    builder = tfb_keras.load_builder(_DATASET.value, _DATA_DIR.value,
                                     _DATASET_DIR.value)
    train_split, eval_split = tfb_keras.pick_splits(
        builder.info, _TRAIN_SPLIT.value, _EVAL_SPLIT.value)
  except ExportError as e:
    raise app.UsageError(str(e)) from None
  info = builder.info
  common = dict(image_size=image_size, batch_size=_BATCH_SIZE.value,
                cache_budget_bytes=_CACHE_BUDGET_MB.value << 20,
                seed=_SEED.value)
  if segmenting:
    class_names = info.features['segmentation_mask'].names
    train_ds = tfb_keras.segmentation_dataset(builder, train_split,
                                              training=True, **common)
    eval_ds = tfb_keras.segmentation_dataset(builder, eval_split, **common)
  else:
    class_names = info.features['objects']['label'].names
    common['max_boxes'] = _MAX_BOXES.value
    train_ds = tfb_keras.detection_dataset(
        builder, train_split, training=True, **common).map(
            detection.training_pairs(len(class_names), image_size))
    eval_ds = tfb_keras.detection_dataset(builder, eval_split, **common)
  train_count = tfb_keras.num_examples(info, train_split)
  steps = math.ceil(train_count / _BATCH_SIZE.value)
  steps = min(steps, _MAX_STEPS.value or steps)
  logging.info('%s: %d training images (%s), %d steps/epoch; evaluating on'
               ' %s; classes %s; policy %s', info.full_name, train_count,
               train_split, steps, eval_split, class_names, policy)

  # The model: Adam, cosine decay after a short linear warm-up.
  model, loss, fit_metrics = get_model(model_name, image_size,
                                       len(class_names))
  warmup = max(1, min(steps * epochs // 10, 200))
  schedule = keras.optimizers.schedules.CosineDecay(
      0.0, max(1, steps * epochs - warmup), warmup_target=learning_rate,
      warmup_steps=warmup)
  model.compile(optimizer=keras.optimizers.Adam(schedule), loss=loss,
                metrics=fit_metrics,
                jit_compile='auto' if _JIT_COMPILE.value is None
                else _JIT_COMPILE.value)

  # Training.
  throughput = metrics.Throughput(_BATCH_SIZE.value)
  validation = {}
  if _VALIDATION_FREQ.value and segmenting:
    validation = dict(validation_data=eval_ds,
                      validation_freq=_VALIDATION_FREQ.value)
  history = model.fit(
      train_ds, epochs=epochs, steps_per_epoch=steps, verbose=1,
      callbacks=[throughput, keras.callbacks.TensorBoard(
          str(output_dir / 'logs'))], **validation)
  model.save(output_dir / 'model.keras')

  # Evaluation and pictures.
  if segmenting:
    results = metrics.segmentation_metrics(model, eval_ds, class_names)
  else:
    results = detection.evaluate(model, eval_ds, class_names)
  logging.info('%s on %s: %s', model.name, eval_split, results)
  pictures = next(iter(eval_ds.unbatch().batch(_NUM_PICTURES.value)))
  visualize.draw_predictions(model, pictures, class_names,
                             output_dir / 'predictions.png')

  summary = {
      'dataset': info.full_name, 'name': info.name,
      'config': builder.builder_config.name if builder.builder_config
      else None, 'version': str(info.version), 'classes': class_names,
      'task': task, 'model': model.name,
      'image_size': image_size, 'batch_size': _BATCH_SIZE.value,
      'epochs': epochs, 'steps_per_epoch': steps, 'steps': steps * epochs,
      'learning_rate': learning_rate, 'precision': policy,
      'jit_compile': bool(model.jit_compile), 'seed': _SEED.value,
      'train_split': train_split, 'train_images': train_count,
      'eval_split': eval_split,
      'eval_images': tfb_keras.num_examples(info, eval_split),
      'train_seconds': round(throughput.seconds, 2),
      'train_images_per_s': round(throughput.images_per_second, 2),
      'final_loss': float(history.history['loss'][-1]),
      'history': {key: [round(float(v), 5) for v in values]
                  for key, values in history.history.items()},
      'metrics': results,
  }
  (output_dir / 'metrics.json').write_text(json.dumps(summary, indent=2))
  print(json.dumps({k: summary[k] for k in (
      'dataset', 'model', 'train_images_per_s', 'metrics')}, indent=2))


if __name__ == '__main__':
  flags.mark_flag_as_required('output_dir')
  app.run(main)
