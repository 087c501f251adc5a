"""The Apache Beam path: the same `encode_record` as the plain generator.

The pipeline carries the paths of the chunk files that hold the image
records (`core.record_store`), not the records: workers read a chunk, and
`Reshuffle` spreads its records over the workers.

Summaries for the build report travel as JSON lines to files in the
(incomplete) dataset folder, where the builder merges them after the
pipeline ran and then deletes them, with the chunks.
"""

from __future__ import annotations

import json

import apache_beam as beam

from tfds_builders.core import encode
from tfds_builders.core.record_store import read_chunk


class EncodeRecords(beam.PTransform):
  """chunk paths -> (key, example), writing one report summary per record."""

  def __init__(self, split, chunk_paths, classes, options,
               summary_prefix: str):
    super().__init__()
    self._split = split
    self._chunk_paths = list(chunk_paths)
    self._classes = classes
    self._options = options
    self._summary_prefix = summary_prefix

  def expand(self, pbegin):
    results = (
        pbegin
        | 'Chunks' >> beam.Create(self._chunk_paths, reshuffle=True)
        | 'Records' >> beam.FlatMap(read_chunk)
        | 'Spread' >> beam.Reshuffle()
        | 'Encode' >> beam.Map(encode.encode_record, self._split,
                               self._classes, self._options))
    _ = (results
         | 'Summaries' >> beam.Map(lambda r: json.dumps(r[2].to_json()))
         | 'WriteSummaries' >> beam.io.WriteToText(self._summary_prefix))
    return (results
            | 'Kept' >> beam.Filter(lambda r: r[1] is not None)
            | 'KeyExample' >> beam.Map(lambda r: (r[0], r[1])))
