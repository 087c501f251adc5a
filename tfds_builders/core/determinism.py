"""Byte-identical shards: the same export and version give the same bytes.

`tf.train.Example` holds its features in a protobuf map, and protobuf
serializes maps in an order that varies from one process to the next, so a
plain TFDS builder writes the same examples with different bytes every run.
Protobuf's `deterministic=True` sorts map keys. TFDS has no hook for the
serializer its split builder creates, so while one of our builds runs, the
`ExampleSerializer` that TFDS looks up is swapped for this subclass (and put
back afterwards). Instances are pickled by reference to this module, so Beam
workers serialize deterministically too.
"""

from __future__ import annotations

import contextlib
import dataclasses

from tensorflow_datasets.core import example_serializer


@dataclasses.dataclass(frozen=True)
class Serialized:
  """An example already encoded and serialized (by a worker process,
  `core.parallel`): passed through as it is."""
  data: bytes


class DeterministicExampleSerializer(example_serializer.ExampleSerializer):

  def serialize_example(self, example) -> bytes:
    if isinstance(example, Serialized):
      return example.data
    return self.get_tf_example(example).SerializeToString(deterministic=True)


@contextlib.contextmanager
def deterministic_serialization():
  original = example_serializer.ExampleSerializer
  example_serializer.ExampleSerializer = DeterministicExampleSerializer
  try:
    yield
  finally:
    example_serializer.ExampleSerializer = original
