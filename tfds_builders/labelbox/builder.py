"""`labelbox_export`: a Labelbox export (v2 NDJSON, legacy JSON, TFRecords)."""

from __future__ import annotations

import tensorflow_datasets as tfds

from tfds_builders.core.builder import ExportBuilder
from tfds_builders.core.exportfs import ExportFiles
from tfds_builders.core.records import ParsedExport
from tfds_builders.labelbox import parse


class LabelboxExport(ExportBuilder):
  """Builds the common schema from a Labelbox export."""

  VERSION = tfds.core.Version('1.0.0')
  RELEASE_NOTES = {'1.0.0': 'Export v2 NDJSON (boxes, polygons, masks,'
                            ' composite masks), legacy JSON and TFRecord'
                            ' exports; media found locally or downloaded.'}
  DESCRIPTION = 'A Labelbox export, in the common tfds_builders schema.'
  MANUAL_DOWNLOAD_INSTRUCTIONS = """\
  Pass the folder of a Labelbox export with `--manual_dir`:
    * export v2 (recommended): the `.ndjson` file from the project's Export
      button, or written by the SDK (`project.export()` / `export_v2()`);
    * the legacy JSON export (`export_labels()`): the `.json` file;
    * the legacy TFRecord export: `export.json` and its TFRecord files.
  Images and masks are read from `images/` and `masks/` (named by global key,
  external id or data row id; masks by feature id) when they are there, and
  downloaded from the export's URLs otherwise (set LABELBOX_API_KEY for
  private media; downloads are cached in the TFDS download folder).
  """

  def _parse_export(self, files: ExportFiles, dl_manager) -> ParsedExport:
    return parse.parse_export(files, dl_manager, self.FIXED_CLASSES)
