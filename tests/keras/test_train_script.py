"""scripts/train.py end to end on the small VOC build of conftest.py.

The script runs for real (subprocesses, one per task/model, in parallel),
with a runlocal-style quick configuration.
"""

import json
import os
import pathlib
import subprocess
import sys

import keras
import numpy as np
import pytest

from tests.paths import PROJECT

SCRIPT = PROJECT / 'scripts' / 'train.py'
QUICK = ['--image_size', '64', '--batch_size', '2', '--epochs', '2',
         '--max_steps_per_epoch', '2', '--num_pictures', '2']
_ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2', CUDA_VISIBLE_DEVICES='')


@pytest.fixture(scope='module')
def runs(data_dir, built_dir, version, tmp_path_factory):
  """The script, once per task/model, run in parallel: {name: output_dir}."""
  out = tmp_path_factory.mktemp('runs')
  commands = {
      'unet': ['--dataset', f'voc_export/default:{version}', '--data_dir',
               str(data_dir), '--task', 'segmentation', '--validation_freq',
               '1'],
      'fcn3': ['--dataset_dir', str(data_dir), '--model', 'fcn3',
               '--eval_split', 'train[:1]'],
      'centernet': ['--dataset_dir', str(built_dir), '--task', 'detection',
                    '--max_boxes', '4'],
  }
  processes = {
      name: subprocess.Popen(
          [sys.executable, str(SCRIPT), *args, *QUICK, '--output_dir',
           str(out / name)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
          text=True, env=_ENV, cwd=PROJECT)
      for name, args in commands.items()}
  for name, process in processes.items():
    log = process.communicate(timeout=300)[0]
    assert process.returncode == 0, f'{name} failed:\n{log[-3000:]}'
  return {name: out / name for name in commands}


@pytest.mark.parametrize('name', ['unet', 'fcn3'])
def test_script_trains_segmentation(runs, version, name):
  summary = json.loads((runs[name] / 'metrics.json').read_text())
  assert summary['dataset'] == f'voc_export/default/{version}'
  assert summary['version'] == version
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


def test_built_folder_needs_no_builder_code(built_dir):
  """A built folder is read with TFDS alone: tfds_builders is not imported."""
  script = (
      'import sys\n'
      'import tensorflow_datasets as tfds\n'
      f'builder = tfds.builder_from_directory({str(built_dir)!r})\n'
      'count = sum(1 for _ in builder.as_dataset(split="train"))\n'
      'print(builder.info.features["objects"]["label"].names, count,'
      ' "tfds_builders" in sys.modules)\n')
  result = subprocess.run([sys.executable, '-c', script], capture_output=True,
                          text=True, timeout=300, check=False,
                          cwd=built_dir.parent, env=_ENV)
  assert result.returncode == 0, result.stderr[-3000:]
  assert result.stdout.strip().splitlines()[-1] == "['cat', 'dog'] 2 False"


def test_script_explains_a_missing_eval_split(data_dir, tmp_path):
  process = subprocess.run(
      [sys.executable, str(SCRIPT), '--dataset_dir', str(data_dir),
       '--eval_split', 'nope', '--output_dir', str(tmp_path)],
      capture_output=True, text=True, cwd=PROJECT, env=_ENV)
  assert process.returncode != 0
  assert "Unknown split 'nope'" in process.stderr
  assert 'Traceback' not in process.stderr
