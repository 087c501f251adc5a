"""The Apache Beam path: the same `encode_record` as the plain generator.

Summaries for the build report travel as JSON lines to files in the
(incomplete) dataset folder, where the builder merges them after the
pipeline ran and then deletes them.
"""

from __future__ import annotations

import json

import apache_beam as beam

from tfds_builders.core import encode


class EncodeRecords(beam.PTransform):
  """records -> (key, example), writing one report summary per record."""

  def __init__(self, split, records, classes, options, summary_prefix: str):
    super().__init__()
    self._split = split
    self._records = records
    self._classes = classes
    self._options = options
    self._summary_prefix = summary_prefix

  def expand(self, pbegin):
    results = (
        pbegin
        | 'Records' >> beam.Create(self._records, reshuffle=True)
        | 'Encode' >> beam.Map(encode.encode_record, self._split,
                               self._classes, self._options))
    _ = (results
         | 'Summaries' >> beam.Map(lambda r: json.dumps(r[2].to_json()))
         | 'WriteSummaries' >> beam.io.WriteToText(self._summary_prefix))
    return (results
            | 'Kept' >> beam.Filter(lambda r: r[1] is not None)
            | 'KeyExample' >> beam.Map(lambda r: (r[0], r[1])))
