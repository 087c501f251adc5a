"""Fixtures of the Keras tests: one dummy VOC build shared by every module."""

import shutil

import pytest
import tensorflow as tf

from tests.builds import build
from tests.paths import DUMMY_DATA
from tfds_builders import keras as tfb_keras


@pytest.fixture(scope='session')
def data_dir(tmp_path_factory):
  """voc_export/default built from the dummy VOCdevkit (train 2, validation
  1 image; masks 0, 1, 2 and 255).

  The copy gets a `labels.txt` (cat, dog): the class list is then the
  export's own, so these tests do not depend on the fallback for a VOC export
  without one.
  """
  export = tmp_path_factory.mktemp('export') / 'vocdevkit'
  shutil.copytree(DUMMY_DATA / 'voc' / 'vocdevkit', export)
  (export / 'labels.txt').write_text('cat\ndog\n')
  path = tmp_path_factory.mktemp('tfds')
  build('voc_export/default', export, path)
  return path


@pytest.fixture(scope='session')
def built_dir(data_dir):
  return data_dir / 'voc_export' / 'default' / '1.0.0'


@pytest.fixture(scope='session')
def builder(data_dir):
  return tfb_keras.load_builder('voc_export/default', str(data_dir))


@pytest.fixture
def eager_and_in_tf_data():
  """fn(*args) run eagerly and as a tf.data map: both results."""

  def run(fn, *args):
    mapped = tf.data.Dataset.from_tensors(args).map(fn)
    return fn(*args), next(iter(mapped))
  return run
