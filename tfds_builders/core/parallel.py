"""Encoding examples on every core, in input order, into the same bytes.

A plain TFDS build encodes, checks and serializes each example in the one
process that also shuffles and writes. Here worker processes do everything
per example that does not need the writer: `encode_record` (reading and
checking the image, masks, boxes) and the deterministic serialization
(`core.serialize` for the common schema, byte for byte what TFDS's feature
encoding and serializer make, which serve any other schema). The main process gets the serialized bytes
back in input order (a bounded window of pending examples) and hands them to
TFDS, whose feature encoding and serializer pass them through unchanged.
So the shards are byte-identical whatever the number of workers.

Workers are forked: they start in milliseconds, share the parent's memory
copy-on-write and need no imports. They never run TensorFlow ops (only
numpy, Pillow, zlib and protobuf), which is what makes forking a process
that has TensorFlow loaded safe here.
"""

from __future__ import annotations

import collections
import concurrent.futures
import contextlib
import ctypes
import multiprocessing
import os
import signal
import sys

from tfds_builders.core import encode, serialize
from tfds_builders.core.determinism import (DeterministicExampleSerializer,
                                            Serialized)

MAX_WORKERS = 8
_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>

# What a worker needs to serialize: (FeaturesDict, serializer). Set in the
# parent right before forking, so the workers inherit it.
_FEATURES_AND_SERIALIZER = None


def default_workers() -> int:
  return max(1, min(MAX_WORKERS, os.cpu_count() or 1))


def serialized_record(record, split, classes, options):
  """`encode_record`, then the example encoded and serialized as TFDS would
  do it in the main process: `(key, Serialized or None, summary)`."""
  key, example, summary = encode.encode_record(record, split, classes,
                                               options)
  if example is None:
    return key, None, summary
  features, serializer = _FEATURES_AND_SERIALIZER
  if serializer is None:  # the common schema: the same bytes, faster
    data = serialize.serialize(example)
  else:
    data = serializer.serialize_example(features.encode_example(example))
  return key, Serialized(data), summary


@contextlib.contextmanager
def serializing_in_workers(features):
  """Lets `serialized_record` run in forked workers for `features`, and lets
  TFDS pass its `Serialized` results through while the context is open."""
  global _FEATURES_AND_SERIALIZER
  info = features.get_serialized_info()
  serializer = None
  if not serialize.handles(info):
    # TFDS serializes with tf.train.Example: TensorFlow is imported here,
    # once, before the workers fork, rather than by each of them.
    import tensorflow  # pylint: disable=g-import-not-at-top,unused-import
    serializer = DeterministicExampleSerializer(info)
  _FEATURES_AND_SERIALIZER = (features, serializer)
  encode_example = features.encode_example
  features.encode_example = lambda example: (
      example if isinstance(example, Serialized) else encode_example(example))
  try:
    yield
  finally:
    del features.encode_example  # the class's method again
    _FEATURES_AND_SERIALIZER = None


def in_order(function, items, *args, workers: int | None = None,
             chunk: int = 16):
  """`function(item, *args)` for each item, in forked worker processes,
  yielded in input order with at most a few chunks pending per worker.

  Items travel in chunks of `chunk`: one round trip per item would cost the
  main process more than the encoding it hands off. With one worker (or one
  core) it runs in this process, on a few threads: Pillow, zlib and hashing
  release the GIL; with none, in this thread alone.
  """
  workers = default_workers() if workers is None else workers
  if workers == 0:  # in this thread: profiling, tests
    yield from (function(item, *args) for item in items)
    return
  if workers == 1:
    yield from _in_order_threaded(function, items, *args)
    return
  context = multiprocessing.get_context('fork')
  with concurrent.futures.ProcessPoolExecutor(
      workers, mp_context=context, initializer=_exit_with_parent,
      initargs=(os.getpid(),)) as pool:
    for results in _windowed(pool, 2 * workers, _run_chunk,
                             _chunks(items, chunk), function, *args):
      yield from results


def _exit_with_parent(parent: int) -> None:
  """A worker is killed when the build process dies (the OOM killer,
  `kill -9`): otherwise it waits on its task queue forever, holding memory,
  since its siblings keep the queue's pipe open. Linux's PR_SET_PDEATHSIG;
  other systems have no such call, and there a killed build's workers
  stay."""
  if not sys.platform.startswith('linux'):
    return
  libc = ctypes.CDLL(None, use_errno=True)
  libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
  if os.getppid() != parent:  # it died before prctl took effect
    os._exit(1)  # pylint: disable=protected-access


def _chunks(items, size: int):
  chunk = []
  for item in items:
    chunk.append(item)
    if len(chunk) == size:
      yield chunk
      chunk = []
  if chunk:
    yield chunk


def _run_chunk(chunk, function, *args):
  return [function(item, *args) for item in chunk]


def _in_order_threaded(function, items, *args):
  workers = min(4, os.cpu_count() or 1)
  if workers == 1:
    yield from (function(item, *args) for item in items)
    return
  with concurrent.futures.ThreadPoolExecutor(workers) as pool:
    yield from _windowed(pool, 2 * workers, function, items, *args)


def _windowed(pool, window_size: int, function, items, *args):
  window = collections.deque()
  for item in items:
    window.append(pool.submit(function, item, *args))
    if len(window) > window_size:
      yield window.popleft().result()
  while window:
    yield window.popleft().result()
