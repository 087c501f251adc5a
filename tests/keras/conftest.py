"""Fixtures of the Keras tests: one small VOC build shared by every module."""

import pathlib

import numpy as np
from PIL import Image
import pytest
import tensorflow as tf

from tests.builds import build
from tfds_builders import keras as tfb_keras


def write_voc_export(root: pathlib.Path) -> None:
  """A 3-image VOCdevkit export: train 2 images, validation 1; a cat box
  (4, 5, 20, 25) and a dog box (22.5, 3.5, 39, 29) in each 40x30 image;
  palette masks 0 background, 1 cat, 2 dog and a 255 (void) line; labels.txt
  (cat, dog) so the class list and mask values are the export's own.

  Written here rather than copied from dummy_data so that these tests do not
  depend on how the builder tests' fixtures evolve.
  """
  voc = root / 'VOCdevkit' / 'VOC2012'
  for folder in ('Annotations', 'JPEGImages', 'SegmentationClass',
                 'ImageSets/Main'):
    (voc / folder).mkdir(parents=True)
  rng = np.random.default_rng(0)
  classes = np.zeros((30, 40), np.uint8)
  classes[5:25, 4:20] = 1
  classes[3:29, 23:39] = 2
  classes[4, 4:20] = 255
  boxes = {'cat': (4, 5, 20, 25), 'dog': (22.5, 3.5, 39, 29)}
  stems = ['2007_000001', '2007_000002', '2007_000003']
  for stem in stems:
    pixels = rng.integers(0, 256, (30, 40, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(voc / 'JPEGImages' / f'{stem}.jpg')
    mask = Image.fromarray(classes, mode='P')
    mask.putpalette([(i * 37) % 256 for i in range(768)])
    mask.save(voc / 'SegmentationClass' / f'{stem}.png')
    objects = ''.join(
        f'<object><name>{name}</name><difficult>0</difficult><bndbox>'
        f'<xmin>{x0}</xmin><ymin>{y0}</ymin><xmax>{x1}</xmax>'
        f'<ymax>{y1}</ymax></bndbox></object>'
        for name, (x0, y0, x1, y1) in boxes.items())
    (voc / 'Annotations' / f'{stem}.xml').write_text(
        f'<annotation><folder>VOC2012</folder><filename>{stem}.jpg</filename>'
        '<size><width>40</width><height>30</height><depth>3</depth></size>'
        f'{objects}</annotation>')
  (voc / 'ImageSets' / 'Main' / 'train.txt').write_text(
      '\n'.join(stems[:2]) + '\n')
  (voc / 'ImageSets' / 'Main' / 'val.txt').write_text(stems[2] + '\n')
  (root / 'labels.txt').write_text('cat\ndog\n')


@pytest.fixture(scope='session')
def data_dir(tmp_path_factory):
  """voc_export/default built from `write_voc_export`."""
  export = tmp_path_factory.mktemp('export')
  write_voc_export(export)
  path = tmp_path_factory.mktemp('tfds')
  build('voc_export/default', export, path)
  return path


@pytest.fixture(scope='session')
def builder(data_dir):
  return tfb_keras.load_builder('voc_export/default', str(data_dir))


@pytest.fixture(scope='session')
def version(builder):
  """The version built: the builder's current VERSION."""
  return str(builder.info.version)


@pytest.fixture(scope='session')
def built_dir(data_dir, version):
  return data_dir / 'voc_export' / 'default' / version


@pytest.fixture
def eager_and_in_tf_data():
  """fn(*args) run eagerly and as a tf.data map: both results."""

  def run(fn, *args):
    mapped = tf.data.Dataset.from_tensors(args).map(fn)
    return fn(*args), next(iter(mapped))
  return run
