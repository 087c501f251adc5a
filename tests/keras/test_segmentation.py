"""tfds_builders/keras/segmentation.py: `unet`, `fcn3` and their loss."""

import keras
import numpy as np
import pytest

from tfds_builders.keras import segmentation


def test_loss_ignores_void_pixels():
  truth = np.array([[0, 1], [255, 255]], np.uint8)[None, ..., None]
  right = np.eye(2, dtype=np.float32)[[[0, 1], [1, 0]]][None]
  wrong_only_on_void = right.copy()
  wrong_only_on_void[0, 1] = [[1e-7, 1], [1, 1e-7]]
  loss = segmentation.segmentation_loss()
  assert float(loss(truth, wrong_only_on_void)) == pytest.approx(0, abs=1e-5)
  half = right.copy()
  half[0, 0, 0] = [0.5, 0.5]
  # Mean over the 2 non-void pixels: (ln 2 + 0) / 2.
  assert float(loss(truth, half)) == pytest.approx(np.log(2) / 2, rel=1e-4)


def test_models_output_float32_probabilities_under_mixed_precision():
  try:
    keras.mixed_precision.set_global_policy('mixed_float16')
    for build_model in segmentation.SEGMENTATION_MODELS.values():
      model = build_model(32, 3)
      assert model.output.dtype == 'float32'
    model.compile(optimizer='adam', loss=segmentation.segmentation_loss())
    assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
  finally:
    keras.mixed_precision.set_global_policy('float32')


def test_models_give_per_pixel_probabilities():
  for name, build_model in segmentation.SEGMENTATION_MODELS.items():
    model = build_model(32, 3)
    assert model.name == name
    probabilities = model.predict_on_batch(np.zeros((2, 32, 32, 3)))
    assert probabilities.shape == (2, 32, 32, 3)
    np.testing.assert_allclose(probabilities.sum(-1), 1, rtol=1e-5)


def test_unet_bfloat16_xla_train_step_compiles():
  """The GPU default (bfloat16 + XLA), on the CPU: every op must lower."""
  images = np.random.default_rng(0).uniform(0, 255, (2, 64, 64, 3))
  try:
    keras.mixed_precision.set_global_policy('mixed_bfloat16')
    model = segmentation.unet(64, 2)
    assert model.layers[-1].compute_dtype == 'float32'
    assert model.get_layer(index=2).compute_dtype == 'bfloat16'
    model.compile(optimizer='adam', loss=segmentation.segmentation_loss(),
                  jit_compile=True)
    assert np.all(np.isfinite(model.train_on_batch(
        images, np.zeros((2, 64, 64, 1), np.uint8))))
  finally:
    keras.mixed_precision.set_global_policy('float32')
