"""scripts/train.py and scripts/trainlib on the dummy VOC build.

The script runs for real (subprocesses, one per task/model, in parallel);
the pieces are checked on hand-made cases with hand-computed answers.
"""

import json
import os
import pathlib
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.builds import build
from tests.paths import DUMMY_DATA, PROJECT

sys.path.insert(0, str(PROJECT / 'scripts'))
from trainlib import data  # pylint: disable=g-import-not-at-top,wrong-import-position
from trainlib import detection
from trainlib import metrics
from trainlib import models
from trainlib import precision

SCRIPT = PROJECT / 'scripts' / 'train.py'
QUICK = ['--image_size', '64', '--batch_size', '2', '--epochs', '2',
         '--max_steps_per_epoch', '2', '--num_pictures', '2']


@pytest.fixture(scope='module')
def data_dir(tmp_path_factory):
  path = tmp_path_factory.mktemp('tfds')
  build('voc_export/default', DUMMY_DATA / 'voc' / 'vocdevkit', path)
  return path


@pytest.fixture(scope='module')
def builder(data_dir):
  return data.load_builder('voc_export/default', str(data_dir))


@pytest.fixture(scope='module')
def runs(data_dir, tmp_path_factory):
  """The script, once per task/model, run in parallel: {name: output_dir}."""
  out = tmp_path_factory.mktemp('runs')
  built = data_dir / 'voc_export' / 'default' / '1.0.0'
  commands = {
      'unet': ['--dataset', 'voc_export/default:1.0.0', '--data_dir',
               str(data_dir), '--task', 'segmentation', '--validation_freq',
               '1'],
      'fcn3': ['--dataset_dir', str(data_dir), '--model', 'fcn3',
               '--eval_split', 'train[:1]'],
      'centernet': ['--dataset_dir', str(built), '--task', 'detection',
                    '--max_boxes', '4'],
  }
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2', CUDA_VISIBLE_DEVICES='')
  processes = {
      name: subprocess.Popen(
          [sys.executable, str(SCRIPT), *args, *QUICK, '--output_dir',
           str(out / name)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
          text=True, env=env, cwd=PROJECT)
      for name, args in commands.items()}
  for name, process in processes.items():
    log = process.communicate(timeout=300)[0]
    assert process.returncode == 0, f'{name} failed:\n{log[-3000:]}'
  return {name: out / name for name in commands}


# The script, end to end.

@pytest.mark.parametrize('name', ['unet', 'fcn3'])
def test_script_trains_segmentation(runs, name):
  summary = json.loads((runs[name] / 'metrics.json').read_text())
  assert summary['dataset'] == 'voc_export/default/1.0.0'
  assert summary['version'] == '1.0.0'
  assert (summary['task'], summary['model']) == ('segmentation', name)
  assert (summary['epochs'], summary['steps']) == (2, 2)  # 2 images, batch 2
  assert summary['precision'] == 'float32'  # auto on a CPU
  assert summary['train_images_per_s'] > 0
  assert summary['eval_split'] == ('validation' if name == 'unet'
                                   else 'train[:1]')
  result = summary['metrics']
  assert 0 <= result['mean_iou'] <= 1 and 0 <= result['pixel_accuracy'] <= 1
  assert set(result['per_class_iou']) == {'background', 'cat', 'dog'}
  assert result['pixels'] > 0
  assert len(summary['history']['loss']) == 2
  assert ('val_mean_iou' in summary['history']) == (name == 'unet')
  _check_outputs(runs[name])


def test_script_trains_detector(runs):
  summary = json.loads((runs['centernet'] / 'metrics.json').read_text())
  assert (summary['task'], summary['model']) == ('detection',
                                                 'centernet_small')
  assert summary['classes'] == ['cat', 'dog']
  assert set(summary['metrics']) == {'AP', 'AP50', 'AP75', 'AR100'}
  assert all(-1 <= v <= 1 for v in summary['metrics'].values())
  _check_outputs(runs['centernet'])
  model = keras.models.load_model(runs['centernet'] / 'model.keras')
  outputs = model.predict_on_batch(np.zeros((1, 64, 64, 3), np.float32))
  assert outputs['heatmap'].shape == (1, 16, 16, 2)
  assert outputs['box'].shape == (1, 16, 16, 4)


def _check_outputs(output_dir: pathlib.Path):
  assert (output_dir / 'model.keras').stat().st_size > 0
  png = (output_dir / 'predictions.png').read_bytes()
  assert png.startswith(b'\x89PNG\r\n\x1a\n')
  assert list((output_dir / 'logs' / 'train').glob('events.out.tfevents.*'))


def test_dataset_dir_needs_no_builder_code(data_dir):
  """A built folder is read without importing tfds_builders at all."""
  built = data_dir / 'voc_export' / 'default' / '1.0.0'
  script = (
      'import sys\n'
      f'sys.path.insert(0, {str(PROJECT / "scripts")!r})\n'
      'import train  # the script module, flags and all\n'
      'from trainlib import data\n'
      f'builder = data.load_builder(dataset_dir={str(built)!r})\n'
      'print(builder.info.features["objects"]["label"].names,'
      ' "tfds_builders" in sys.modules)\n')
  result = subprocess.run([sys.executable, '-c', script], capture_output=True,
                          text=True, timeout=300, check=False,
                          cwd=built.parent)
  assert result.returncode == 0, result.stderr[-3000:]
  assert result.stdout.strip().splitlines()[-1] == "['cat', 'dog'] False"


def test_script_explains_a_missing_eval_split(data_dir, tmp_path):
  process = subprocess.run(
      [sys.executable, str(SCRIPT), '--dataset_dir', str(data_dir),
       '--eval_split', 'nope', '--output_dir', str(tmp_path)],
      capture_output=True, text=True, cwd=PROJECT,
      env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2'))
  assert process.returncode != 0
  assert "Unknown split 'nope'" in process.stderr
  assert 'Traceback' not in process.stderr


# Data.

def test_splits_fall_back_to_validation_and_explain(builder):
  assert data.pick_splits(builder.info, 'train', None) == ('train',
                                                           'validation')
  with pytest.raises(data.DataError, match='train\\[80%:\\]'):
    data.pick_splits(_info_with_splits(builder, ['train']), 'train', None)


def _info_with_splits(builder, names):
  class Info:  # only what pick_splits reads
    full_name = builder.info.full_name
    splits = {n: builder.info.splits[n] for n in names}
  return Info


def test_decode_is_the_same_eager_and_in_tf_data(builder):
  raw = builder.as_dataset(split='train', shuffle_files=False,
                           decoders=data.skip_decoding(builder.info.features))
  eager = [data.decode_example(example, 48) for example in raw]
  mapped = list(raw.map(lambda e: data.decode_example(e, 48)))
  assert len(eager) == len(mapped) == 2
  for a, b in zip(eager, mapped):
    assert a['image'].shape == (48, 48, 3) and a['image'].dtype == tf.uint8
    assert a['mask'].shape == (48, 48, 1)
    for key in ('image', 'mask', 'boxes', 'labels', 'size'):
      np.testing.assert_array_equal(a[key], b[key])
  decoded = builder.as_dataset(split='train', shuffle_files=False)
  for a, full in zip(eager, decoded):
    np.testing.assert_array_equal(a['size'], tf.shape(full['image'])[:2])
    assert set(np.unique(a['mask'])) <= set(np.unique(
        full['segmentation_mask']))


def _eager_and_in_tf_data(fn, *args):
  """fn(*args) run eagerly and as a tf.data map: both results."""
  mapped = tf.data.Dataset.from_tensors(args).map(fn)
  return fn(*args), next(iter(mapped))


def test_nearest_resize_keeps_mask_values():
  mask = np.zeros((6, 9, 1), np.uint8)
  mask[:, 3:6] = 1
  mask[:, 6:] = 2
  mask[0, 0] = 255
  for size, expect_void in ((3, False), (18, True)):
    for resized in _eager_and_in_tf_data(lambda m: data.resize_mask(m, size),
                                         mask):
      assert resized.dtype == tf.uint8 and resized.shape == (size, size, 1)
      assert set(np.unique(resized)) <= {0, 1, 2, 255}
      assert (255 in np.unique(resized)) == expect_void
  resized = data.resize_mask(mask, 18).numpy()[..., 0]
  np.testing.assert_array_equal(resized[9, :], [0] * 6 + [1] * 6 + [2] * 6)


def test_flip_moves_boxes_image_and_mask():
  image = np.zeros((4, 10, 3), np.uint8)
  image[:, 0] = 200  # left column bright
  features = {'image': image, 'mask': image[..., :1],
              'boxes': np.array([[0.1, 0.2, 0.5, 0.6], [0, 0, 1, 0.25]],
                                np.float32)}
  for flipped in _eager_and_in_tf_data(data.flip_horizontal, features):
    np.testing.assert_allclose(
        flipped['boxes'], [[0.1, 0.4, 0.5, 0.8], [0, 0.75, 1, 1]], atol=1e-7)
    assert flipped['image'][0, 9, 0] == 200 and flipped['image'][0, 0, 0] == 0
    assert flipped['mask'][0, 9, 0] == 200


def test_random_flip_either_flips_or_keeps():
  features = {'image': np.arange(6, dtype=np.uint8).reshape(1, 2, 3),
              'boxes': np.array([[0, 0, 1, 0.5]], np.float32)}
  mapped = tf.data.Dataset.from_tensors(features).repeat(40).map(
      data.random_flip)
  flips = [int(f['boxes'][0, 1] == 0.5) for f in mapped]
  assert 0 < sum(flips) < 40
  for flipped in (data.random_flip(features) for _ in range(10)):
    kept = flipped['boxes'][0, 1] == 0
    np.testing.assert_array_equal(
        flipped['image'], features['image'] if kept
        else features['image'][:, ::-1])


def test_pad_objects_gives_fixed_shapes():
  features = {'boxes': np.full((3, 4), 0.5, np.float32),
              'labels': np.array([2, 0, 1], np.int32),
              'is_crowd': np.array([False, True, False])}
  for padded in _eager_and_in_tf_data(lambda f: data.pad_objects(f, 5),
                                      features):
    np.testing.assert_array_equal(padded['labels'], [2, 0, 1, -1, -1])
    np.testing.assert_array_equal(padded['boxes'][3:], np.zeros((2, 4)))
    np.testing.assert_array_equal(padded['is_crowd'], [0, 1, 0, 0, 0])
  truncated = data.pad_objects(features, 2)
  np.testing.assert_array_equal(truncated['labels'], [2, 0])


def test_cache_decision_counts_decoded_size(builder):
  info = builder.info
  decoded = 2 * 100 * 100 * 4  # 2 train images, RGB + mask bytes
  assert data.fits_in_memory(info, 'train', 100, decoded)
  assert not data.fits_in_memory(info, 'train', 100, decoded - 1)


def test_training_batches_have_fixed_shapes(builder):
  ds = data.make_dataset(builder, 'train', image_size=32, batch_size=3,
                         training=True, to_model=data.segmentation_pair,
                         seed=1)
  for images, masks in ds.take(2):  # 2 images, so batches wrap around
    assert images.shape == (3, 32, 32, 3) and masks.shape == (3, 32, 32, 1)


# Segmentation.

def test_loss_ignores_void_pixels():
  truth = np.array([[0, 1], [255, 255]], np.uint8)[None, ..., None]
  right = np.eye(2, dtype=np.float32)[[[0, 1], [1, 0]]][None]
  wrong_only_on_void = right.copy()
  wrong_only_on_void[0, 1] = [[1e-7, 1], [1, 1e-7]]
  loss = models.segmentation_loss()
  assert float(loss(truth, wrong_only_on_void)) == pytest.approx(0, abs=1e-5)
  half = right.copy()
  half[0, 0, 0] = [0.5, 0.5]
  # Mean over the 2 non-void pixels: (ln 2 + 0) / 2.
  assert float(loss(truth, half)) == pytest.approx(np.log(2) / 2, rel=1e-4)


def test_mean_iou_on_hand_checked_cases():
  truth = np.array([[0, 0, 1, 1], [0, 0, 1, 255]], np.uint8)[None, ..., None]
  perfect = np.eye(2, dtype=np.float32)[np.minimum(truth[..., 0], 1)]
  iou = metrics.mean_iou_metric(2)
  iou.update_state(truth, perfect)
  assert float(iou.result()) == pytest.approx(1.0, abs=1e-6)
  report = metrics.iou_report(iou.total_cm.numpy(), ['background', 'car'])
  assert report['pixels'] == 7  # the void pixel is not counted
  assert report['pixel_accuracy'] == 1.0

  # One background pixel predicted as car. Background: 3 hits, union 4
  # (4 true, 3 predicted); car: 3 hits, union 4 (3 true, 4 predicted).
  partial = perfect.copy()
  partial[0, 0, 0] = [0, 1]
  iou.reset_state()
  iou.update_state(truth, partial)
  report = metrics.iou_report(iou.total_cm.numpy(), ['background', 'car'])
  assert float(iou.result()) == pytest.approx(0.75, abs=1e-6)
  assert report['mean_iou'] == pytest.approx(0.75)
  assert report['per_class_iou'] == {'background': 0.75, 'car': 0.75}
  assert report['pixel_accuracy'] == pytest.approx(6 / 7)


def test_models_output_float32_probabilities_under_mixed_precision():
  try:
    keras.mixed_precision.set_global_policy('mixed_float16')
    for build_model in models.SEGMENTATION_MODELS.values():
      model = build_model(32, 3)
      assert model.output.dtype == 'float32'
    model.compile(optimizer='adam', loss=models.segmentation_loss())
    assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
    detector = detection.detector(64, 2)
    assert {o.dtype for o in detector.outputs} == {'float32'}
  finally:
    keras.mixed_precision.set_global_policy('float32')


def test_bfloat16_xla_train_step_compiles():
  """The GPU default (bfloat16 + XLA), on the CPU: every op must lower."""
  images = np.random.default_rng(0).uniform(0, 255, (2, 64, 64, 3))
  targets = detection.encode_targets(tf.constant([[0.2, 0.2, 0.8, 0.6]]),
                                     tf.constant([0]), 16, 1)
  cases = [
      (lambda: models.unet(64, 2), models.segmentation_loss(),
       np.zeros((2, 64, 64, 1), np.uint8)),
      (lambda: detection.detector(64, 1), detection.LOSSES,
       {k: np.stack([v.numpy()] * 2) for k, v in targets.items()}),
  ]
  try:
    keras.mixed_precision.set_global_policy('mixed_bfloat16')
    for build_model, loss, truth in cases:
      model = build_model()
      assert model.layers[-1].compute_dtype == 'float32'
      assert model.get_layer(index=2).compute_dtype == 'bfloat16'
      model.compile(optimizer='adam', loss=loss, jit_compile=True)
      assert np.all(np.isfinite(model.train_on_batch(images, truth)))
  finally:
    keras.mixed_precision.set_global_policy('float32')


# Detection.

def _coco(truth_boxes, found_boxes, scores):
  truth = [metrics.ImageBoxes(np.array(truth_boxes), np.zeros(
      len(truth_boxes), int), height=100, width=200)]
  found = [metrics.ImageBoxes(np.array(found_boxes), np.zeros(
      len(found_boxes), int), scores=np.array(scores), height=100, width=200)]
  return metrics.coco_metrics(truth, found, ['raccoon'])


def test_coco_ap_on_hand_checked_cases():
  a, b = [0.1, 0.1, 0.5, 0.4], [0.5, 0.5, 0.9, 0.9]
  perfect = _coco([a, b], [a, b], [0.9, 0.8])
  assert perfect['AP'] == perfect['AP50'] == perfect['AP75'] == 1.0
  # Half the objects found, precision 1: the 101-point interpolated
  # precision is 1 at recall 0, .01, ..., .50 and 0 above: AP = 51/101.
  half = _coco([a, b], [a], [0.9])
  assert half['AP50'] == pytest.approx(51 / 101)
  # A confident false positive, then the one object: precision 1/2 at
  # recall 1, so AP = 0.5 at every IoU threshold.
  miss_first = _coco([a], [b, a], [0.9, 0.8])
  assert miss_first['AP'] == pytest.approx(0.5)
  assert _coco([a], [], [])['AP50'] == 0.0


def test_targets_decode_back_to_the_boxes():
  boxes = tf.constant([[0.1, 0.2, 0.5, 0.7], [0.55, 0.05, 0.95, 0.45],
                       [0, 0, 0, 0]], tf.float32)
  labels = tf.constant([1, 0, data.PAD_LABEL])
  for targets in _eager_and_in_tf_data(
      lambda b, l: detection.encode_targets(b, l, 16, 3), boxes, labels):
    heatmap = targets['heatmap'].numpy()
    assert heatmap.shape == (16, 16, 3) and heatmap.max() == 1.0
    # Centres: (0.3, 0.45) * 16 -> cell (4, 7); (0.75, 0.25) -> (12, 4).
    assert heatmap[4, 7, 1] == 1.0 and heatmap[12, 4, 0] == 1.0
    assert (heatmap == 1.0).sum() == 2 and heatmap[..., 2].max() == 0
    box = targets['box'].numpy()
    np.testing.assert_allclose(box[4, 7], [6.4, 8, 0.8, 0.2, 1], rtol=1e-5)
    assert box[..., 4].sum() == 2

  # Targets as predictions: logits of the heatmap, the box map as is.
  logits = np.log(np.clip(heatmap, 1e-6, 1 - 1e-6) /
                  (1 - np.clip(heatmap, 1e-6, 1 - 1e-6)))
  found = detection.decode(logits[None], box[None, ..., :4],
                           score_threshold=0.5)
  assert int(found.count[0]) == 2
  order = np.argsort(found.boxes[0, :2, 0])  # equal scores: sort by ymin
  np.testing.assert_allclose(tf.gather(found.boxes[0], order), boxes[:2],
                             atol=1e-5)
  np.testing.assert_array_equal(tf.gather(found.classes[0], order), [1, 0])


def test_losses_are_zero_for_perfect_predictions_only():
  boxes = tf.constant([[0.1, 0.2, 0.5, 0.7]])
  targets = detection.encode_targets(boxes, tf.constant([0]), 8, 1)
  heatmap, box = targets['heatmap'][None], targets['box'][None]
  sure = tf.where(heatmap == 1.0, 30.0, -30.0)
  assert float(detection.heatmap_focal_loss(heatmap, sure)) < 1e-6
  assert float(detection.box_l1_loss(box, box[..., :4])) == 0.0
  off_by_one = box[..., :4] + tf.constant([1.0, 0, 0, 0])
  # Height off by 1 cell at the one centre: 0.1 * 1 / 1 object.
  assert float(detection.box_l1_loss(box, off_by_one)) == pytest.approx(0.1)


@pytest.mark.parametrize('backbone', ['mobilenet_v2', 'resnet50'])
def test_applications_backbones_build(backbone):
  model = detection.detector(64, 3, backbone=backbone)
  outputs = model.predict_on_batch(np.zeros((1, 64, 64, 3), np.float32))
  assert outputs['heatmap'].shape == (1, 16, 16, 3)


# Mixed precision.

@pytest.mark.parametrize('choice, gpus, policy', [
    ('auto', [], 'float32'),
    ('auto', [{'compute_capability': (8, 0), 'device_name': 'A100'}],
     'mixed_bfloat16'),
    ('auto', [{'compute_capability': (9, 0)}], 'mixed_bfloat16'),
    ('auto', [{'compute_capability': (7, 5), 'device_name': 'T4'}],
     'mixed_float16'),
    ('auto', [{'compute_capability': (9, 0)}, {'compute_capability': (7, 0)}],
     'mixed_float16'),
    ('auto', [{}], 'mixed_float16'),  # unknown capability: the safe choice
    ('off', [{'compute_capability': (9, 0)}], 'float32'),
    ('bfloat16', [], 'mixed_bfloat16'),
    ('float16', [], 'mixed_float16'),
])
def test_precision_choice(choice, gpus, policy):
  assert precision.choose_policy(choice, gpus) == policy


def test_precision_choice_rejects_unknown():
  with pytest.raises(ValueError, match='mixed_precision'):
    precision.choose_policy('fp8', [])
