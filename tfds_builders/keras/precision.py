"""Chooses the Keras mixed precision policy from the accelerator present.

bfloat16 keeps float32's exponent range, so it needs no loss scaling; GPUs
run it fast from compute capability 8.0 (Ampere) on. Older GPUs get float16,
which Keras pairs with a `LossScaleOptimizer` at `compile()`. CPUs stay in
float32 unless the user asks otherwise.
"""

from __future__ import annotations

from typing import Sequence

import keras
import tensorflow as tf

CHOICES = ('auto', 'off', 'bfloat16', 'float16')
_POLICIES = {'off': 'float32', 'bfloat16': 'mixed_bfloat16',
             'float16': 'mixed_float16'}


def gpu_details() -> list[dict]:
  """`tf.config.experimental.get_device_details` of every visible GPU."""
  return [tf.config.experimental.get_device_details(gpu)
          for gpu in tf.config.list_physical_devices('GPU')]


def choose_policy(choice: str, gpus: Sequence[dict]) -> str:
  """Returns the Keras dtype policy name for `--mixed_precision`.

  Args:
    choice: one of CHOICES.
    gpus: device details, e.g. `[{'compute_capability': (8, 0)}]`; empty
      on a CPU-only machine.
  """
  if choice not in CHOICES:
    raise ValueError(f'--mixed_precision must be one of {CHOICES}, not'
                     f' {choice!r}.')
  if choice != 'auto':
    return _POLICIES[choice]
  if not gpus:
    return 'float32'
  # The slowest GPU decides: all replicas run the same policy.
  oldest = min(tuple(g.get('compute_capability') or (0, 0)) for g in gpus)
  return 'mixed_bfloat16' if oldest >= (8, 0) else 'mixed_float16'


def apply_policy(choice: str) -> str:
  """Sets the global Keras policy for `choice` here; returns its name."""
  policy = choose_policy(choice, gpu_details())
  keras.mixed_precision.set_global_policy(policy)
  return policy
