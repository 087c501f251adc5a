"""tfds_builders/keras/precision.py: the mixed precision policy."""

import pytest

from tfds_builders.keras import precision


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
